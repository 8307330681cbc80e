package roff

import "testing"

func TestMarkdown(t *testing.T) {
	for _, tc := range []struct{ name, md, want string }{
		{"title left out, heading, paragraph", "# T\n\n## A b\n\nSome `code` and [a link](x.md).\n",
			".SS \"A b\"\n.PP\nSome \\fBcode\\fR and a link.\n"},
		{"control characters guarded", "text\n.dot first\n'quote first\n",
			".PP\ntext\n\\&.dot first\n\\&'quote first\n"},
		{"escapes", "a\\b -x µ\n", ".PP\na\\eb \\-x \\[u00B5]\n"},
		{"code block", "```text\n.x \\n\n\n```\n", ".PP\n.RS 4\n.nf\n\\&.x \\en\n\\&\n.fi\n.RE\n"},
		{"table without its header, escaped pipes", "| a | b |\n|---|---|\n| `x\\|y` | z |\n",
			".TP\n\\fBx|y\\fR\nz\n"},
		{"list", "- one\n- two\n", ".IP \\(bu 2\none\n.IP \\(bu 2\ntwo\n"},
		{"comment", "<!-- a\nb -->\nc\n", ".PP\nc\n"},
	} {
		if got := Markdown(tc.md); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
