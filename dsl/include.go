package dsl

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// Loader reads the script an include step names, at the path Check
// resolved (relative to the including file's directory). The dsl package
// does no I/O itself: the command decides where scripts come from.
type Loader func(path string) ([]byte, error)

// CheckOption configures Check.
type CheckOption func(*checkConfig)

type checkConfig struct {
	load Loader
}

// WithLoader lets Check splice the scripts include steps name. Without
// it, an include step is an error.
func WithLoader(l Loader) CheckOption { return func(c *checkConfig) { c.load = l } }

// splicer replaces include steps by the steps of the scripts they name,
// recursively, remembering for each step the chain of includes that
// brought it in and the source of every file, for diagnostics.
type splicer struct {
	load    Loader
	steps   []Step
	origins [][]Pos // per spliced step: the include steps, innermost first
	sources map[string][]byte
	errs    ErrorList
}

// splice returns a Script whose steps are s's with every include
// replaced; the order check and everything after it see the spliced steps.
func (sp *splicer) splice(s *Script) *Script {
	sp.sources = map[string][]byte{s.File: s.Source}
	sp.expand(s, nil, []string{filepath.Clean(s.File)})
	out := *s
	out.Steps = sp.steps
	return &out
}

func (sp *splicer) expand(s *Script, chain []Pos, stack []string) {
	for _, st := range s.Steps {
		in, ok := st.(*Include)
		if !ok {
			sp.steps = append(sp.steps, st)
			sp.origins = append(sp.origins, chain)
			continue
		}
		sub, src, err := sp.open(in, stack)
		if err != nil {
			err.Notes = append(err.Notes, includedFrom(chain)...)
			sp.errs = append(sp.errs, err)
			continue
		}
		inner := append([]Pos{in.Pos()}, chain...)
		if sub == nil {
			// A parse error inside the included file: it points there.
			var pe *Error
			if errors.As(src.err, &pe) {
				c := *pe
				c.Source = src.text
				c.Notes = append(append([]string(nil), pe.Notes...), includedFrom(inner)...)
				sp.errs = append(sp.errs, &c)
			}
			continue
		}
		sp.sources[sub.File] = sub.Source
		sp.expand(sub, inner, append(stack, filepath.Clean(sub.File)))
	}
}

type parsed struct {
	text []byte
	err  error
}

// open resolves, reads and parses the script an include names. A parse
// error comes back in parsed with a nil Script; a path that cannot be
// included (variables, a cycle, a missing file) is an error at the
// include line.
func (sp *splicer) open(in *Include, stack []string) (*Script, parsed, *Error) {
	at := func(title, label string, notes ...string) *Error {
		return &Error{Pos: in.Path.Pos(), Span: in.Path.Span(), Title: title, Label: label, Notes: notes}
	}
	rel, ok := in.Path.Static()
	switch {
	case !ok:
		return nil, parsed{}, at("variable in an include path", "the path must be written literally, so the script can be checked before it runs")
	case rel == "":
		return nil, parsed{}, at("empty include path", `write the path of a script, relative to this one: include "common/login.smtp"`)
	case sp.load == nil:
		return nil, parsed{}, at("include not available", "this command does not read other files")
	}
	path := rel
	if !filepath.IsAbs(rel) {
		path = filepath.Join(filepath.Dir(in.Pos().Filename), rel)
	}
	for i, f := range stack {
		if f == filepath.Clean(path) {
			cycle := append(append([]string(nil), stack[i:]...), filepath.Clean(path))
			return nil, parsed{}, at("include cycle", "this includes a script that is already being included",
				"cycle: "+strings.Join(cycle, " includes "),
				"help: move the shared steps into a script that includes nothing, and include that from each")
		}
	}
	src, err := sp.load(path)
	if err != nil {
		label := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			label = fmt.Sprintf("%s: %v", pe.Path, pe.Err)
		}
		e := at("cannot read included script", label)
		if errors.Is(err, fs.ErrNotExist) {
			e.Notes = []string{"help: the path is relative to the including script, here " + filepath.Dir(in.Pos().Filename)}
		}
		return nil, parsed{}, e
	}
	sub, err := Parse(path, src)
	if err != nil {
		return nil, parsed{text: src, err: err}, nil
	}
	return sub, parsed{}, nil
}

// includedFrom writes an include chain as notes, innermost first.
func includedFrom(chain []Pos) []string {
	out := make([]string, len(chain))
	for i, p := range chain {
		out[i] = fmt.Sprintf("included from %s:%d", p.Filename, p.Line)
	}
	return out
}

// placeErrors points errors from included files into them: the file's
// source for the caret, and the include chain of the step they belong to.
func (sp *splicer) placeErrors(main string, errs ErrorList) {
	for _, e := range errs {
		if e.Pos.Filename == main || e.Source != nil {
			continue
		}
		e.Source = sp.sources[e.Pos.Filename]
		for i, st := range sp.steps {
			if st.Pos().Filename == e.Pos.Filename && st.Pos().Line <= e.Pos.Line && e.Pos.Line <= st.End().Line {
				e.Notes = append(e.Notes, includedFrom(sp.origins[i])...)
				break
			}
		}
	}
}

// dedupe drops repeated errors: a script included twice would otherwise
// report each of its mistakes once per include.
func dedupe(errs ErrorList) ErrorList {
	if len(errs) < 2 {
		return errs
	}
	seen := map[string]bool{}
	out := errs[:0:0]
	for _, e := range errs {
		key := fmt.Sprintf("%s\x00%s\x00%s", Where(e.Pos), e.Title, e.Label)
		if !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	return out
}

// SourceOf is the text of file, the script itself or one it includes.
func (p *Program) SourceOf(file string) []byte {
	if file == p.file || file == "" {
		return p.source
	}
	return p.sources[file]
}

// IncludedFrom is the chain of include steps that brought step i into
// the program, innermost first; empty for the script's own steps.
func (p *Program) IncludedFrom(i int) []Pos {
	if p.origins == nil {
		return nil
	}
	return append([]Pos(nil), p.origins[i]...)
}

// IncludeNotes are "included from FILE:LINE" lines for a position inside
// an included file, for a diagnostic found at run time.
func (p *Program) IncludeNotes(pos Pos) []string {
	for i, st := range p.steps {
		if st.Pos().Filename == pos.Filename && st.Pos().Line <= pos.Line && pos.Line <= st.End().Line {
			return includedFrom(p.origins[i])
		}
	}
	return nil
}
