package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/internal/safefile"
)

const fmtUsage = `Usage: smtprun fmt [-w] [-l] [--check] FILE|DIR...

Prints each script in canonical form (dsl.Format): one space between
tokens, lower-case keywords, quoting and escapes made uniform, comments
kept, runs of blank lines collapsed. A directory means every .smtp file
under it.

  -w       rewrite the files in place instead of printing them
  -l       list the files whose formatting differs
  --check  print nothing but exit 5 if any file would change (for CI)

Example:
  smtprun fmt -l scripts

Exit codes: 0 ok, 1 usage error, 2 a script does not parse, 5 --check found
a file that would change (its own code, so that CI tells a file to
reformat from a broken command line).
`

// fmtOptions are smtprun fmt's flags.
type fmtOptions struct {
	write, list, check, noColor bool
	paths                       []string
}

func parseFmtFlags(args []string) (*fmtOptions, error) {
	o := &fmtOptions{}
	fs := newFlagSet("smtprun fmt")
	fs.BoolVar(&o.write, "w", false, "")
	fs.BoolVar(&o.list, "l", false, "")
	fs.BoolVar(&o.check, "check", false, "")
	fs.BoolVar(&o.noColor, "no-color", false, "")
	var err error
	if o.paths, err = parseInterspersed(fs, args); err != nil {
		return nil, err
	}
	return o, nil
}

// runFmt is `smtprun fmt`, gofmt's and hurlfmt's interface for scripts.
func runFmt(inv *invocation, args []string) int {
	o, err := parseFmtFlags(args)
	if code, ok := inv.parsed(err); !ok {
		return code
	}
	if len(o.paths) == 0 {
		return inv.usageError("no script given")
	}
	files, err := findScripts(o.paths, true)
	if err != nil {
		return inv.usageError(err.Error())
	}
	st := present.NewStyle(inv.stderr, o.noColor)
	in := inputs{inv.ctx, newOptions().timeout}
	worst, unformatted := exitOK, false
	for _, path := range files {
		switch code := fmtFile(inv, in, path, o, st); code {
		case exitUnformatted:
			unformatted = true
		default:
			worst = max(worst, code)
		}
	}
	if worst == exitOK && unformatted {
		return exitUnformatted // a broken script or command line says more
	}
	return worst
}

// fmtFile formats one file as the flags ask and returns its exit code.
func fmtFile(inv *invocation, in inputs, path string, o *fmtOptions, st present.Style) int {
	stdout, stderr := inv.stdout, inv.stderr
	src, err := in.script(path)
	if err != nil {
		if in.ctx.Err() != nil {
			return exitInterrupted
		}
		return inv.failf(exitUsage, "cannot read script: %s", escName(err.Error()))
	}
	script, err := dsl.Parse(path, src)
	var out bytes.Buffer
	if err == nil {
		err = dsl.Format(&out, script)
	}
	if err != nil {
		present.RenderError(stderr, st, src, err)
		return exitScript
	}
	changed := !bytes.Equal(out.Bytes(), src)
	if o.list && changed {
		fmt.Fprintln(stdout, escName(path))
	}
	switch {
	case o.write:
		if changed {
			if err := writeAtomic(path, out.Bytes()); err != nil {
				return inv.failf(exitUsage, "%v", err)
			}
		}
	case o.check:
		if changed {
			return exitUnformatted
		}
	case !o.list:
		stdout.Write(out.Bytes())
	}
	return exitOK
}

// writeAtomic replaces path with data whole (an interrupted write never
// leaves half a script), keeping the file's permissions, in a directory
// no other user controls, and never through a link another user planted.
func writeAtomic(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return safefile.WriteFile(path, data, info.Mode().Perm())
}
