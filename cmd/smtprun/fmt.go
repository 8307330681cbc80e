package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
  --check  print nothing but exit 1 if any file would change (for CI)

Exit codes: 0 ok, 1 usage error or --check found a change, 2 a script does
not parse.
`

// fmtOptions are smtprun fmt's flags.
type fmtOptions struct {
	write, list, check, noColor bool
	paths                       []string
}

func parseFmtFlags(args []string) (*fmtOptions, error) {
	o := &fmtOptions{}
	fs := flag.NewFlagSet("smtprun fmt", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
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
func runFmt(args []string, stdout, stderr io.Writer) int {
	o, err := parseFmtFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, fmtUsage)
		return exitOK
	}
	if err != nil {
		return fmtUsageError(stderr, err.Error())
	}
	if len(o.paths) == 0 {
		return fmtUsageError(stderr, "fmt: no script given")
	}
	files, err := expandPaths(o.paths)
	if err != nil {
		fmt.Fprintf(stderr, "smtprun: %v\n", err)
		return exitUsage
	}
	st := newStyle(stderr, o.noColor)
	ctx, stop := interruptContext()
	defer stop()
	in := inputs{ctx, newOptions().timeout}
	worst := exitOK
	for _, path := range files {
		worst = max(worst, fmtFile(in, path, o, stdout, stderr, st))
	}
	return worst
}

func fmtUsageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "smtprun: %s\nRun 'smtprun fmt --help' for usage.\n", msg)
	return exitUsage
}

// fmtFile formats one file as the flags ask and returns its exit code.
func fmtFile(in inputs, path string, o *fmtOptions, stdout, stderr io.Writer, st style) int {
	src, err := in.script(path)
	if err != nil {
		if in.ctx.Err() != nil {
			return exitInterrupted
		}
		fmt.Fprintf(stderr, "smtprun: cannot read script: %s\n", escName(err.Error()))
		return exitUsage
	}
	script, err := dsl.Parse(path, src)
	var out bytes.Buffer
	if err == nil {
		err = dsl.Format(&out, script)
	}
	if err != nil {
		reportErr(stderr, st, src, err)
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
				fmt.Fprintf(stderr, "smtprun: %v\n", err)
				return exitUsage
			}
		}
	case o.check:
		if changed {
			return exitUsage // "would change": exit 1, like hurlfmt --check
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

// expandPaths replaces each directory by the .smtp files under it, in
// lexical order.
func expandPaths(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil || !info.IsDir() {
			files = append(files, p) // an unreadable file is reported when read
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".smtp") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}
