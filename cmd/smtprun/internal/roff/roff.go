// Package roff writes man pages: the roff of the man macros, from the
// Markdown that docs/ is written in (the part of it those pages use:
// headings, paragraphs, lists, tables, fenced code, inline code, links).
package roff

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Escape makes text safe in a roff line: backslashes escaped, every rune
// beyond ASCII as a named Unicode escape (so the page needs no input
// encoding), and a line that would start with a control character
// guarded.
func Escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > 127:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if strings.HasPrefix(out, ".") || strings.HasPrefix(out, "'") {
		out = `\&` + out
	}
	return out
}

// markdownSyntax is the patterns of the Markdown the pages use, compiled
// on first use: the program's start-up pays nothing for a man page it
// seldom writes.
// (A sync.Once, not sync.OnceValue, whose closure would allocate at
// start-up.)
var (
	syntaxOnce sync.Once
	compiled   *syntax
)

func markdownSyntax() *syntax {
	syntaxOnce.Do(func() { compiled = compileSyntax() })
	return compiled
}

func compileSyntax() *syntax {
	return &syntax{
		inlineCode: regexp.MustCompile("`([^`]+)`"),
		strong:     regexp.MustCompile(`\*\*([^*]+)\*\*`),
		link:       regexp.MustCompile(`\[([^\]]+)\]\(([^)]+)\)`),
		listItem:   regexp.MustCompile(`^\s*(?:[-*]|\d+\.)\s+`),
		tableRule:  regexp.MustCompile(`^\|[\s:|-]+\|$`),
	}
}

type syntax struct {
	inlineCode, strong, link, listItem, tableRule *regexp.Regexp
}

// inline renders a line of running text: code and strong text in bold,
// links as their text.
func inline(s string) string {
	md := markdownSyntax()
	s = md.link.ReplaceAllString(s, "$1")
	// Bold is marked with bytes Escape leaves alone, and turned into
	// font escapes after it.
	s = md.inlineCode.ReplaceAllString(s, "\x01$1\x02")
	s = md.strong.ReplaceAllString(s, "\x01$1\x02")
	s = Escape(s)
	// A long URL or JSON value is one word wider than a line: let it
	// break after its slashes and commas.
	s = strings.NewReplacer("/", `/\:`, ",", `,\:`).Replace(s)
	s = strings.ReplaceAll(s, "\x01", `\fB`)
	return strings.ReplaceAll(s, "\x02", `\fR`)
}

// Markdown writes a Markdown page as the body of a man page section: its
// title (the first "# " heading) is left out, since the caller names the
// section; "## " headings become subsections and deeper ones bold
// paragraphs.
func Markdown(page string) string {
	md := markdownSyntax()
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\n") }
	inCode, inComment, para := false, false, false
	tableHeader := false
	for _, l := range strings.Split(page, "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			if inCode {
				line(".fi")
				line(".RE")
			} else {
				line(".PP")
				line(".RS 4")
				line(".nf")
			}
			inCode, para = !inCode, false
			continue
		case inCode:
			if l == "" {
				line(`\&`)
			} else {
				line(Escape(l))
			}
			continue
		case inComment:
			inComment = !strings.Contains(l, "-->")
			continue
		case strings.HasPrefix(trimmed, "<!--"):
			inComment = !strings.Contains(l, "-->")
			continue
		}
		switch {
		case trimmed == "":
			para, tableHeader = false, false
		case strings.HasPrefix(l, "# "):
			para = false
		case strings.HasPrefix(l, "## "):
			line(".SS " + quote(inline(strings.TrimPrefix(l, "## "))))
			para = true
		case strings.HasPrefix(l, "#"):
			line(".PP")
			line(`\fB` + inline(strings.TrimLeft(l, "# ")) + `\fR`)
			line(".br")
			para = true
		case strings.HasPrefix(trimmed, "|"):
			if md.tableRule.MatchString(trimmed) {
				tableHeader = false
				continue
			}
			if !para {
				// The first row of a table is its header.
				tableHeader, para = true, true
			}
			if tableHeader {
				continue
			}
			// A cell writes a pipe of its own as \|.
			cells := strings.Split(strings.Trim(strings.ReplaceAll(trimmed, `\|`, "\x03"), "|"), "|")
			for i := range cells {
				cells[i] = strings.ReplaceAll(inline(strings.TrimSpace(cells[i])), "\x03", "|")
			}
			line(".TP")
			line(cells[0])
			line(strings.Join(cells[1:], ` \(em `))
		case md.listItem.MatchString(l) && !strings.HasPrefix(l, "    "):
			line(`.IP \(bu 2`)
			line(inline(md.listItem.ReplaceAllString(l, "")))
			para = true
		default:
			if !para {
				line(".PP")
				para = true
			}
			line(inline(trimmed))
		}
	}
	return b.String()
}

// quote makes s one argument of a macro.
func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\(dq`) + `"`
}
