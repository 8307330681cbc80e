package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/dsl"
)

// variablesFile is one --variables-file: NAME=VALUE lines, # comments and
// blank lines. A value is the rest of the line after the first "=", taken
// literally (no quotes removed, no ${...} expanded), as docker's
// --env-file does, so a password with any character in it just works.
type variablesFile struct {
	path string
	mode fs.FileMode
	vars dsl.MapVars
	// lines is where each name is set, for warnings that point at it.
	lines map[string]int
}

// readVariablesFiles reads the files of --variables-file, in order.
func readVariablesFiles(in inputs, paths []string) ([]*variablesFile, error) {
	var out []*variablesFile
	for _, p := range paths {
		f, err := readVariablesFile(in, p)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func readVariablesFile(in inputs, path string) (*variablesFile, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--variables-file: %v", err)
	}
	data, err := in.read(path, "a variables file", maxVariablesFileBytes)
	if err != nil {
		return nil, fmt.Errorf("--variables-file: %w", err)
	}
	vf := &variablesFile{path: path, mode: info.Mode().Perm(), vars: dsl.MapVars{}, lines: map[string]int{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		// A malformed line is never quoted: it may be a secret (a
		// password pasted without its name, or "SMTP_PASS: x").
		switch {
		case !ok:
			return nil, fmt.Errorf("--variables-file %s:%d: want NAME=VALUE, but the line has no \"=\" (it is not shown: it may hold a secret)", path, n)
		case !dsl.ValidName(name) && strings.Trim(name, "_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" && name != "":
			// Only name characters, so no secret: shown.
			return nil, fmt.Errorf("--variables-file %s:%d: %q is not a variable name (letters, digits and _, not starting with a digit)", path, n, name)
		case !dsl.ValidName(name):
			return nil, fmt.Errorf("--variables-file %s:%d: the text before the first \"=\" is not a variable name (letters, digits and _, not starting with a digit; it is not shown: it may hold a secret)", path, n)
		}
		if _, dup := vf.vars[name]; dup {
			return nil, fmt.Errorf("--variables-file %s:%d: %s is set twice in the file", path, n, name)
		}
		vf.vars[name] = value
		vf.lines[name] = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--variables-file %s: %v", path, err)
	}
	return vf, nil
}

// scriptVars is where a run looks variables up: --var first, then the
// variables files in the order given (the first that sets a name wins),
// then the environment.
func scriptVars(o *options, files []*variablesFile) dsl.Chain {
	c := dsl.Chain{o.vars}
	for _, f := range files {
		c = append(c, f.vars)
	}
	return append(c, dsl.EnvVars{})
}

// warnExposedSecrets warns, without failing, when an auth secret of prog
// comes from a variables file that others than its owner can read: the
// password is as safe as that file (ssh refuses such a key; a warning is
// kinder for a test run). Each file and name is reported once per warned
// map.
func warnExposedSecrets(w io.Writer, st present.Style, o *options, files []*variablesFile, prog *dsl.Program, warned map[string]bool) {
	for _, u := range prog.Variables() {
		if !u.Secret {
			continue
		}
		if _, ok := o.vars[u.Name]; ok {
			continue
		}
		for _, f := range files {
			if _, ok := f.vars[u.Name]; !ok {
				continue
			}
			key := f.path + "\x00" + u.Name
			if f.mode&0o044 != 0 && !warned[key] {
				warned[key] = true
				fmt.Fprintf(w, "%s %s supplies %s, an auth secret, and is readable by %s (mode %04o); run: chmod 600 %s\n",
					st.ErrTitle.Sprint("warning:"), f.path, u.Name, readableBy(f.mode), f.mode, f.path)
			}
			break // the first file that sets it is the one used
		}
	}
}

// warnQuotedValues warns when a value the script uses comes from a
// variables file wrapped in quotes: they are part of the value there (as
// in docker's --env-file), and a password written SMTP_PASS="secret" is
// sent with its quotes and refused with a bare 535, which says nothing
// of why. The value itself is never shown.
func warnQuotedValues(w io.Writer, st present.Style, o *options, files []*variablesFile, prog *dsl.Program, warned map[string]bool) {
	for _, u := range prog.Variables() {
		if _, ok := o.vars[u.Name]; ok {
			continue
		}
		for _, f := range files {
			v, ok := f.vars[u.Name]
			if !ok {
				continue
			}
			key := "quoted\x00" + f.path + "\x00" + u.Name
			if wrappedInQuotes(v) && !warned[key] {
				warned[key] = true
				fmt.Fprintf(w, "%s %s:%d: the value of %s is wrapped in quotes, and they are part of it: values are taken literally, as docker's --env-file does; write %s=value without them unless the quotes belong to the value\n",
					st.ErrTitle.Sprint("warning:"), f.path, f.lines[u.Name], u.Name, u.Name)
			}
			break // the first file that sets it is the one used
		}
	}
}

func wrappedInQuotes(v string) bool {
	v = strings.TrimSpace(v)
	return len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0]
}

func readableBy(m fs.FileMode) string {
	switch {
	case m&0o040 != 0 && m&0o004 != 0:
		return "group and others"
	case m&0o040 != 0:
		return "its group"
	}
	return "others"
}
