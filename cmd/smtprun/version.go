package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

const versionUsage = `Usage:
  smtprun version

Prints the version of smtprun and the commit it was built from (as
smtprun --version does).
`

// runVersion is `smtprun version`.
func runVersion(inv *invocation, args []string) int {
	if code, ok := inv.noArguments(args); !ok {
		return code
	}
	printVersion(inv.stdout)
	return exitOK
}

// printVersion writes what `smtprun --version` says: the module version
// and, when the go command stamped it (go build or go install in a git
// clone), the commit the binary was built from.
func printVersion(w io.Writer) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil // a binary built without module support
	}
	fmt.Fprint(w, versionText(bi))
}

// versionText renders build information; bi is nil in a binary built
// without module support. The vcs.* settings are absent when the build
// did not happen in a checkout (a source archive), or the go command did
// not stamp it (go run, a test binary, -buildvcs=false, a linked git
// worktree: golang/go#58218), and the text then says the revision is
// unknown rather than printing empty fields.
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
		b.WriteString("revision unknown (the build carries no version control information)\n")
	}
	if bi.GoVersion != "" {
		fmt.Fprintf(&b, "built with %s\n", bi.GoVersion)
	}
	return b.String()
}
