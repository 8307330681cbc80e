package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// printVersion writes what `smtprun --version` says: the module version
// and, when the binary was built from a git checkout (go build, go run,
// go install from a clone), the commit it was built from.
func printVersion(w io.Writer) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	fmt.Fprint(w, versionText(bi))
}

// versionText renders build information; bi is nil in a binary built
// without module support. The vcs.* settings are absent when the build
// did not happen in a checkout (a source archive, -buildvcs=false, a test
// binary), and the text then says the revision is unknown rather than
// printing empty fields.
func versionText(bi *debug.BuildInfo) string {
	if bi == nil {
		return "smtprun (no build information)\n"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "smtprun %s\n", version)
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		if name, ok := strings.CutPrefix(s.Key, "vcs."); ok {
			vcs[name] = s.Value
		}
	}
	if rev := vcs["revision"]; rev != "" {
		fmt.Fprintf(&b, "revision %s", rev)
		var notes []string
		if t := vcs["time"]; t != "" {
			notes = append(notes, "committed "+t)
		}
		if vcs["modified"] == "true" {
			notes = append(notes, "with uncommitted changes")
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(notes, ", "))
		}
		b.WriteString("\n")
	} else {
		b.WriteString("revision unknown (not built from a git checkout)\n")
	}
	if bi.GoVersion != "" {
		fmt.Fprintf(&b, "built with %s\n", bi.GoVersion)
	}
	return b.String()
}
