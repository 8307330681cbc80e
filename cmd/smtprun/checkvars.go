package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/smtprun/smtprun/dsl"
)

// variablesNote tells `smtprun check` users which variables a script
// needs and which of them are not set here. It is a note, not a failure:
// the values may well come at run time (--var, the environment of CI).
// Values are never printed, only names.
func variablesNote(w io.Writer, st style, path string, prog *dsl.Program, vars dsl.Vars) {
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
	fmt.Fprintf(w, "%s %s uses %s\n", st.dim.Sprint("note:"), escName(path), strings.Join(names, ", "))
	if len(unset) > 0 {
		fmt.Fprintf(w, "%s not set here: %s; pass --var NAME=VALUE or export them before the run\n",
			st.dim.Sprint("note:"), strings.Join(unset, ", "))
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
