package main

import (
	"debug/buildinfo"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionText renders the build information a binary can carry: a
// release, a build from a git checkout (clean or with local changes), and
// a build without version control information.
func TestVersionText(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	builds := []struct {
		name string
		bi   *debug.BuildInfo
	}{
		{"go install of a release", &debug.BuildInfo{GoVersion: "go1.26.8",
			Main: debug.Module{Path: "github.com/smtprun/smtprun", Version: "v1.2.0"}}},
		{"go build in a clean checkout", &debug.BuildInfo{GoVersion: "go1.26.8",
			Main: debug.Module{Path: "github.com/smtprun/smtprun", Version: "v0.0.0-20261129093000-e7977f4a1b2c"},
			Settings: vcs("vcs", "git", "vcs.revision", "e7977f4a1b2c3d4e5f60718293a4b5c6d7e8f901",
				"vcs.time", "2026-11-29T09:30:00Z", "vcs.modified", "false")}},
		{"go run with local changes", &debug.BuildInfo{GoVersion: "go1.26.8",
			Main: debug.Module{Path: "github.com/smtprun/smtprun", Version: "(devel)"},
			Settings: vcs("vcs", "git", "vcs.revision", "e7977f4a1b2c3d4e5f60718293a4b5c6d7e8f901",
				"vcs.time", "2026-11-29T09:30:00Z", "vcs.modified", "true")}},
		{"a source archive (no vcs settings)", &debug.BuildInfo{GoVersion: "go1.26.8",
			Main: debug.Module{Path: "github.com/smtprun/smtprun"}}},
		{"no build information", nil},
	}
	var got strings.Builder
	for _, b := range builds {
		got.WriteString("--- " + b.name + "\n" + versionText(b.bi))
	}
	golden(t, "version", got.String())
}

// TestVersionFlag: --version and the version command print the version
// and exit 0, wherever --version stands.
func TestVersionFlag(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}, {"x.smtp", "--version"}, {"check", "--version"}} {
		code, out, errOut := cli(t, args...)
		if code != exitOK || !strings.HasPrefix(out, "smtprun ") || !strings.Contains(out, "revision ") || errOut != "" {
			t.Errorf("%q: exit %d\n%s%s", args, code, out, errOut)
		}
	}
}

// TestVersionOfBuiltBinary builds smtprun as a user does and checks that
// --version reports what the go command stamped into the binary: the
// module version and, from a git checkout, the commit. The stamp is read
// back with debug/buildinfo, independently of the binary. A linked git
// worktree gets no vcs.* stamp (golang/go#58218: Go looks for a .git
// directory), nor does a source archive, and then --version must say the
// revision is unknown.
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; not in -short mode")
	}
	bin := filepath.Join(t.TempDir(), "smtprun")
	// -buildvcs=auto is go build's default; say it so that a GOFLAGS of
	// -buildvcs=false in the environment does not change what is tested.
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build smtprun: %v", err)
	}
	build := exec.Command(gobin, "build", "-buildvcs=auto", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("smtprun --version: %v\n%s", err, out)
	}
	want := []string{"smtprun " + info.Main.Version + "\n", "revision unknown"}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			want[1] = "revision " + s.Value
		}
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("--version does not say %q:\n%s", w, out)
		}
	}
}
