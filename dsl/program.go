package dsl

import ()

// Program is a checked script, ready to run: the steps with everything
// derived computed once by Check (reply-code patterns, compiled regexes,
// the captures, the variables used).
//
// Programs are immutable: nothing writes a Program after Check, so one
// Program may be run by many goroutines at once. Its steps share the
// Script's nodes where Check derived nothing from them; neither may be
// modified once Check has run.
type Program struct {
	file   string
	source []byte
	header map[string]string
	steps  []Step
	vars   []VarUse
	// captures are the variables named regex groups define.
	captures []Capture
	// sources are the texts of the script and the scripts it includes,
	// by file; origins, per step, the include chain that brought it in.
	sources map[string][]byte
	origins [][]Pos
	// expanded is how many steps the program unrolls to, blockSteps the
	// steps of one iteration of each repeat block (see limits.go).
	expanded   uint64
	blockSteps map[*Repeat]uint64
}

// VarUse is one ${NAME} reference in a script.
type VarUse struct {
	Name string
	Pos  Pos
	// HasDefault is set for ${NAME:-default}: the name need not be set.
	HasDefault bool
	// Secret is set when the reference feeds an auth secret, so its
	// value must be masked wherever it appears.
	Secret bool
}

// File is the path the script was parsed from.
func (p *Program) File() string { return p.file }

// Source is the script text. The slice is shared: do not modify it.
func (p *Program) Source() []byte { return p.source }

// Header returns a "# key: value" hint from the script's first comment
// lines (key lower-case), or "".
func (p *Program) Header(key string) string { return p.header[key] }

// Len is the number of steps.
func (p *Program) Len() int { return len(p.steps) }

// Step returns step i.
func (p *Program) Step(i int) Step { return p.steps[i] }

// Steps returns the steps in order; the slice is a copy.
func (p *Program) Steps() []Step { return append([]Step(nil), p.steps...) }

// Variables lists every variable reference, in source order; the slice is
// a copy.
func (p *Program) Variables() []VarUse { return append([]VarUse(nil), p.vars...) }

// Built-in variables the engine sets itself: ITERATION is the number of
// the script's run (from 1; in load mode, across all connections and
// shards), REPEAT the iteration of the innermost repeat block (from 1).
const (
	VarIteration = "ITERATION"
	VarRepeat    = "REPEAT"
)

// Builtin reports whether name is a variable the engine sets itself.
func Builtin(name string) bool { return name == VarIteration || name == VarRepeat }

func collectVariables(s *Script) []VarUse {
	var out []VarUse
	varRefs(s, func(_ Node, r *ref) {
		if r != nil {
			out = append(out, VarUse{Name: r.Var, Pos: r.Pos, HasDefault: r.Default != nil, Secret: r.secret})
		}
	})
	return out
}
