package dsl

// Node is any node of the syntax tree: the Script, its steps, and the
// words, codes, matchers, strings and heredocs they are written with.
// Every node knows where it starts and ends in its file.
type Node interface {
	// Pos is where the node's first byte is.
	Pos() Pos
	// End is just past the node's last byte.
	End() Pos
}

// Pos is where the script starts: line 1, column 1 of its file.
func (s *Script) Pos() Pos { return Pos{Filename: s.File, Line: 1, Column: 1} }

// End is the end of the script's last step, or its start when it has none.
func (s *Script) End() Pos {
	if len(s.Steps) == 0 {
		return s.Pos()
	}
	return s.Steps[len(s.Steps)-1].End()
}

// Walk traverses the tree under node in depth-first, source order, as
// mvdan/sh's syntax.Walk does: it calls fn(node), and if fn returns true,
// walks each of node's children and then calls fn(nil), so a visitor can
// keep a stack of the nodes it is inside. A repeat's children are its
// keyword, its count, its brace, the steps of its block and its closing
// brace; the parts of a String or Heredoc (literal text and ${NAME}
// references) are data of that node, not nodes of their own.
//
// Every pass over a script (the checks, the variable list, Format) walks
// it with Walk, so a node added to the language is seen by all of them.
func Walk(node Node, fn func(Node) bool) {
	if !fn(node) {
		return
	}
	word := func(w *Word) {
		if w != nil {
			Walk(w, fn)
		}
	}
	text := func(s *String) {
		if s != nil {
			Walk(s, fn)
		}
	}
	switch n := node.(type) {
	case *Script:
		for _, st := range n.Steps {
			Walk(st, fn)
		}
	case *Connect:
		word(&n.Kw)
		text(n.Address)
		word(n.TLS)
	case *Send:
		word(&n.Kw)
		text(n.Text)
	case *Expect:
		word(&n.Kw)
		word(n.Closed)
		for _, c := range n.Codes {
			Walk(c, fn)
		}
		if n.Match != nil {
			Walk(n.Match, fn)
		}
	case *Matcher:
		text(n.Substring)
		word(n.Regex)
	case *StartTLS:
		word(&n.Kw)
	case *Auth:
		word(&n.Kw)
		word(&n.Mechanism)
		text(n.User)
		text(n.Secret)
	case *Message:
		word(&n.Kw)
		word(n.Binary)
		if n.Inline != nil {
			Walk(n.Inline, fn)
		}
		word(n.FileKw)
		text(n.File)
	case *Quit:
		word(&n.Kw)
	case *Raw:
		word(&n.Kw)
		text(n.Text)
	case *Note:
		word(&n.Kw)
		text(n.Text)
	case *Include:
		word(&n.Kw)
		text(n.Path)
	case *Repeat:
		word(&n.Kw)
		text(n.Count)
		word(&n.Open)
		for _, st := range n.Steps {
			Walk(st, fn)
		}
		word(&n.Close)
	case *Unknown:
		word(&n.Word)
		for i := range n.Rest {
			word(&n.Rest[i])
		}
	case *Word, *Code, *String, *Heredoc:
		// leaves
	}
	fn(nil)
}

// Script is the checked program as a tree to Walk: its steps, file and
// source. The nodes are the Program's own: do not modify them.
func (p *Program) Script() *Script {
	return &Script{Steps: p.steps, File: p.file, Source: p.source, Header: p.header}
}

// ref is one ${NAME} in the tree, with what the checks need to know of
// where it stands.
type ref struct {
	Part
	// secret is set for a reference in an auth step's secret.
	secret bool
	// blocks is how many repeat blocks enclose it; a repeat's count is
	// read before its block runs, so it stands outside that block.
	blocks int
	// count is set for a reference in a repeat's count.
	count bool
}

// varRefs calls fn for every node under root in Walk's order, and once more
// for each variable reference in a String or Heredoc, with the node that
// holds it.
func varRefs(root Node, fn func(n Node, r *ref)) {
	type frame struct {
		n      Node
		blocks int // repeat blocks whose body holds n
	}
	var stack []frame
	Walk(root, func(n Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		blocks := 0
		var parent Node
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			parent, blocks = top.n, top.blocks
			if _, body := parent.(*Repeat); body {
				if _, step := n.(Step); step {
					blocks++
				}
			}
		}
		stack = append(stack, frame{n, blocks})
		fn(n, nil)
		var parts []Part
		secret, count := false, false
		switch n := n.(type) {
		case *String:
			parts = n.Parts
			a, ok := parent.(*Auth)
			secret = ok && a.Secret == n
			r, ok := parent.(*Repeat)
			count = ok && r.Count == n
		case *Heredoc:
			parts = n.Parts
		}
		for _, pt := range parts {
			if pt.Var != "" {
				fn(n, &ref{Part: pt, secret: secret, blocks: blocks, count: count})
			}
		}
		return true
	})
}
