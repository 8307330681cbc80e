package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteTAP writes the run as TAP version 13 (testanything.org): one test
// point per script, a failure's details as a YAML block under it, a
// skipped script as "# SKIP".
func WriteTAP(w io.Writer, r *Run) error {
	var b strings.Builder
	b.WriteString("TAP version 13\n")
	fmt.Fprintf(&b, "1..%d\n", len(r.Scripts))
	for i, sc := range r.Scripts {
		// A description must not contain "#", which starts a directive.
		desc := strings.ReplaceAll(sc.Path, "#", `\#`)
		switch sc.Result {
		case Pass:
			fmt.Fprintf(&b, "ok %d - %s\n", i+1, desc)
		case Skipped:
			fmt.Fprintf(&b, "ok %d - %s # SKIP not run: --fail-fast stopped the run\n", i+1, desc)
		default:
			fmt.Fprintf(&b, "not ok %d - %s\n", i+1, desc)
			writeYAML(&b, sc)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeYAML writes the diagnostics block: two-space indented, between
// "---" and "...". Strings are block scalars or quoted, so a reply with a
// colon or a quote cannot break the YAML.
func writeYAML(b *strings.Builder, sc *Script) {
	b.WriteString("  ---\n")
	fmt.Fprintf(b, "  result: %s\n", sc.Result)
	fmt.Fprintf(b, "  exit_code: %d\n", sc.ExitCode)
	fmt.Fprintf(b, "  duration_ms: %.3f\n", float64(sc.Duration.D().Microseconds())/1000)
	if e := sc.Error; e != nil {
		fmt.Fprintf(b, "  message: %s\n", yamlQuote(e.Message))
		fmt.Fprintf(b, "  severity: %s\n", e.Kind)
		fmt.Fprintf(b, "  at:\n    file: %s\n    line: %d\n    column: %d\n", yamlQuote(e.File), e.Line, e.Column)
		if len(e.Reply) > 0 {
			b.WriteString("  got:\n")
			for _, l := range e.Reply {
				fmt.Fprintf(b, "    - %s\n", yamlQuote(l))
			}
		}
		if e.Report != "" {
			b.WriteString("  report: |\n")
			for _, l := range strings.Split(strings.TrimRight(e.Report, "\n"), "\n") {
				fmt.Fprintf(b, "    %s\n", l)
			}
		}
	}
	b.WriteString("  ...\n")
}

// yamlQuote writes s as a double-quoted YAML scalar.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
