package dsl

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Limits on what a script may ask for, so that a mistake (or a hostile
// file) is refused with a positioned error instead of running until
// memory runs out.
const (
	// MaxScriptBytes and MaxScriptLines bound a script file, checked
	// before it is parsed: the parser allocates about 7 KB and takes some
	// 40 µs per line, so a million lines took 1.77 GB and 24 s before it
	// was refused. The largest script shipped has 53 lines and 2 KB;
	// 20,000 lines parse in about a second and 150 MB. Message content
	// that is larger belongs in a file (`message file "PATH"`).
	MaxScriptBytes = 1 << 20
	MaxScriptLines = 20_000

	// MaxSteps bounds the steps a script expands to, repeat blocks
	// unrolled, in one run: each step is at least one line of the
	// transcript and one outcome in the Result (about 200 bytes with its
	// reply), so 10 million steps are about 2 GB at worst and hours of a
	// conversation, far beyond any test or lesson, while four nested
	// `repeat 1000` (10^12 steps) would never end. Load mode repeats
	// whole runs, which this does not bound.
	MaxSteps = 10_000_000
)

// checkSize refuses a script past MaxScriptBytes or MaxScriptLines, at
// the first line past the limit.
func checkSize(path string, src []byte) *Error {
	if len(src) <= MaxScriptBytes && bytes.Count(src, []byte("\n")) < MaxScriptLines {
		return nil // the usual case: one pass, no allocation
	}
	// Whichever limit the file passes first is the one reported.
	off, line := 0, 1
	for off < len(src) && off < MaxScriptBytes && line <= MaxScriptLines {
		nl := bytes.IndexByte(src[off:], '\n')
		if nl < 0 || off+nl+1 > MaxScriptBytes {
			break
		}
		off, line = off+nl+1, line+1
	}
	switch {
	case line > MaxScriptLines && off < len(src):
		lines := bytes.Count(src, []byte("\n"))
		if src[len(src)-1] != '\n' {
			lines++
		}
		return &Error{Pos: Pos{Filename: path, Offset: off, Line: line, Column: 1}, Title: "script too long",
			Label: fmt.Sprintf("the script has %d lines; at most %d", lines, MaxScriptLines),
			Notes: []string{"help: a repeat block runs steps many times without writing them out; put long message content in a file: message file \"PATH\""}}
	case len(src) > MaxScriptBytes:
		return &Error{Pos: Pos{Filename: path, Offset: MaxScriptBytes, Line: line, Column: MaxScriptBytes - off + 1}, Title: "script too large",
			Label: fmt.Sprintf("the script is %d bytes; at most %d (1 MiB)", len(src), MaxScriptBytes),
			Notes: []string{"help: put long message content in a file of its own: message file \"PATH\"; split a long conversation with include"}}
	}
	return nil
}

// expansion counts the steps a tree unrolls to, each repeat's body times
// its count, a count that is a variable taken as 1 (the engine counts it
// when it knows the value). It saturates at math.MaxUint64. blocks gets
// the steps of one iteration of each repeat block.
func expansion(root Node, blocks map[*Repeat]uint64) uint64 {
	type frame struct {
		r   *Repeat // nil for a Script
		sum uint64
	}
	var stack []frame
	var total uint64
	count := func(n uint64) {
		if len(stack) == 0 {
			total = addSat(total, n)
		} else {
			stack[len(stack)-1].sum = addSat(stack[len(stack)-1].sum, n)
		}
	}
	Walk(root, func(n Node) bool {
		switch n := n.(type) {
		case nil:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.r == nil {
				count(f.sum)
				return false
			}
			if blocks != nil {
				blocks[f.r] = f.sum
			}
			count(mulSat(staticCount(f.r), f.sum))
		case *Repeat:
			stack = append(stack, frame{r: n})
			return true
		case *Script:
			stack = append(stack, frame{})
			return true
		case Step:
			count(1)
		}
		return false
	})
	return total
}

// staticCount is a repeat's count as written, or 1 for a variable or a
// count Check refuses.
func staticCount(r *Repeat) uint64 {
	if text, ok := r.Count.Static(); ok {
		if n, err := RepeatCount(text); err == nil {
			return uint64(n)
		}
	}
	return 1
}

// checkExpansion refuses a script that unrolls to more than MaxSteps,
// at the block that costs most, naming the counts that multiply.
func checkExpansion(p *Program, add func(*Error)) {
	blocks := map[*Repeat]uint64{}
	var total uint64
	var worst *Repeat
	var worstSteps uint64
	for _, st := range p.steps {
		n := expansion(st, blocks)
		total = addSat(total, n)
		if r, ok := st.(*Repeat); ok && n > worstSteps {
			worst, worstSteps = r, n
		}
	}
	p.expanded, p.blockSteps = total, blocks
	if total <= MaxSteps || worst == nil {
		return
	}
	var chain []string
	for r := worst; r != nil; {
		chain = append(chain, countText(r.Count))
		var next *Repeat
		var most uint64
		for _, st := range r.Steps {
			if in, ok := st.(*Repeat); ok && mulSat(staticCount(in), blocks[in]) > most {
				next, most = in, mulSat(staticCount(in), blocks[in])
			}
		}
		r = next
	}
	label := fmt.Sprintf("repeat %s expands to %s steps; at most %s", strings.Join(chain, " × "), Magnitude(worstSteps), Magnitude(MaxSteps))
	if worstSteps <= MaxSteps {
		label = fmt.Sprintf("with this block the script expands to %s steps; at most %s", Magnitude(total), Magnitude(MaxSteps))
	}
	add(&Error{Pos: worst.Count.Pos(), Span: worst.Count.Span(), Title: "too many steps", Label: label,
		Notes: []string{"help: lower the counts; a run is at most " + Magnitude(MaxSteps) + " steps, each at least a line of the transcript; to run a whole conversation many times, use smtprun load --iterations"}})
}

// ExpandedSteps is how many steps the program unrolls to, repeat blocks
// times their counts, a count that is a variable taken as 1; Check
// refuses more than MaxSteps.
func (p *Program) ExpandedSteps() int { return int(min(p.expanded, math.MaxInt)) }

// BlockSteps is how many steps one iteration of a repeat block of the
// program unrolls to, counted as ExpandedSteps counts them; the engine
// adds (count-1) of these when it reads a variable count.
func (p *Program) BlockSteps(r *Repeat) int { return int(min(p.blockSteps[r], math.MaxInt)) }

// Magnitude writes a step count for a person: 2000 as is, 10^12 and
// 2×10^12 when round, 10000001 when not, about 1.5×10^13 when longer.
func Magnitude(n uint64) string {
	if n < 1_000_000 {
		return strconv.FormatUint(n, 10)
	}
	if n == math.MaxUint64 {
		return "more than 10^19"
	}
	e, p := 0, uint64(1)
	for n/p >= 10 {
		e, p = e+1, p*10
	}
	if n%p == 0 {
		if n/p == 1 {
			return fmt.Sprintf("10^%d", e)
		}
		return fmt.Sprintf("%d×10^%d", n/p, e)
	}
	if e < 10 {
		return strconv.FormatUint(n, 10)
	}
	return fmt.Sprintf("about %.1f×10^%d", float64(n)/float64(p), e)
}

func mulSat(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

func addSat(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}
