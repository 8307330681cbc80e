package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/dsl"
)

const checkUsage = `Usage:
  smtprun check [flags] SCRIPT|DIR...

Parses and validates scripts without connecting: syntax, steps, includes,
captures. A directory means every .smtp file under it. For each script it
prints the steps it has and, on stderr, the variables it needs and which of
them are not set here (names only, never values).

Flags:
  --var NAME=VALUE        count NAME as set (repeatable)
  --variables-file FILE   count the names in FILE as set (repeatable)
  -q, --quiet             print only the errors
  --no-color              plain output

Example:
  smtprun check scripts

Exit codes: 0 every script is valid; 1 usage error or an unreadable script;
2 a script error.
`

// runCheck is `smtprun check`.
func runCheck(inv *invocation, args []string) int {
	o, code, ok := inv.parseRunFlags(args)
	if !ok {
		return code
	}
	if len(o.args) == 0 {
		return inv.usageError("no script given")
	}
	paths, err := findScripts(o.args, true)
	if err != nil {
		return inv.usageError(err.Error())
	}
	in := inputs{inv.ctx, o.timeout}
	files, err := readVariablesFiles(in, o.variableFiles)
	if err != nil {
		return inv.inputError(err)
	}
	st := present.NewStyle(inv.stderr, o.noColor)
	warned := map[string]bool{}
	worst := exitOK
	for _, path := range paths {
		script, code := loadScript(inv, in, path, st)
		if script == nil {
			worst = max(worst, code)
			continue
		}
		warnExposedSecrets(inv.stderr, st, o, files, script, warned)
		warnQuotedValues(inv.stderr, st, o, files, script, warned)
		warnSenderIdentity(inv.stderr, st, path, script, scriptVars(o, files))
		if !o.quiet {
			fmt.Fprintf(inv.stdout, "%s: ok (%d steps)\n", escName(path), script.Len())
			variablesNote(inv.stderr, st, path, script, scriptVars(o, files))
		}
	}
	return worst
}

// variablesNote tells `smtprun check` users which variables a script
// needs and which of them are not set here. It is a note, not a failure:
// the values may well come at run time (--var, the environment of CI).
// Values are never printed, only names.
func variablesNote(w io.Writer, st present.Style, path string, prog *dsl.Program, vars dsl.Vars) {
	uses := prog.Variables()
	if len(uses) == 0 {
		return
	}
	var names, unset []string
	seen := map[string]bool{}
	for _, u := range uses {
		if seen[u.Name] || prog.IsCapture(u.Name) || dsl.Builtin(u.Name) {
			continue // set by the run itself: a capture, ${ITERATION}, ${REPEAT}
		}
		seen[u.Name] = true
		label := u.Name
		if u.Secret {
			label += " (auth secret)"
		}
		names = append(names, label)
		if _, ok := vars.Lookup(u.Name); !ok && !hasDefaultEverywhere(uses, u.Name) {
			unset = append(unset, fmt.Sprintf("%s (line %d)", u.Name, u.Pos.Line))
		}
	}
	if len(names) == 0 {
		return // only captures and built-ins: nothing to set
	}
	fmt.Fprintf(w, "%s %s uses %s\n", st.Dim.Sprint("note:"), escName(path), strings.Join(names, ", "))
	if len(unset) > 0 {
		fmt.Fprintf(w, "%s not set here: %s; pass --var NAME=VALUE or export them before the run\n",
			st.Dim.Sprint("note:"), strings.Join(unset, ", "))
	}
}

// hasDefaultEverywhere reports whether every reference to name gives a
// default, so the script runs without it.
func hasDefaultEverywhere(uses []dsl.VarUse, name string) bool {
	for _, u := range uses {
		if u.Name == name && !u.HasDefault {
			return false
		}
	}
	return true
}
