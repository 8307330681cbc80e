package report

import (
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/smtprun/smtprun/internal/safefile"
)

// WriteHTML writes index.html and one page per script into dir (created
// 0700 if missing; refused when another user controls it), each page
// 0600: a page holds the conversation. The pages are static: inline CSS, no script, no network,
// so they open from a CI artifact and print; --explain annotations fold
// under their line with <details>, which needs no JavaScript.
func WriteHTML(dir string, r *Run) error {
	if err := safefile.MkdirPrivate(dir); err != nil {
		return err
	}
	rows := make([]htmlRow, len(r.Scripts))
	for i, sc := range r.Scripts {
		rows[i] = htmlRow{Script: sc, Page: pageName(i, sc.Path)}
		if err := writeTemplate(filepath.Join(dir, rows[i].Page), scriptPage(), scriptData{Script: sc, Failed: sc.FailedStep()}); err != nil {
			return err
		}
	}
	return writeTemplate(filepath.Join(dir, "index.html"), indexPage(), indexData{Run: r, Rows: rows})
}

type htmlRow struct {
	*Script
	Page string
}

type indexData struct {
	Run  *Run
	Rows []htmlRow
}

type scriptData struct {
	*Script
	Failed *Step
}

var unsafeName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9._-]+`) })

// pageName is unique (the index leads) and readable.
func pageName(i int, path string) string {
	name := strings.TrimSuffix(filepath.ToSlash(filepath.Clean(path)), ".smtp")
	name = strings.Trim(unsafeName().ReplaceAllString(strings.ReplaceAll(name, "/", "--"), "_"), "._-")
	return fmt.Sprintf("%03d-%s.html", i+1, name)
}

func writeTemplate(path string, t *template.Template, data any) error {
	return safefile.Replace(path, 0o600, func(w io.Writer) error { return t.Execute(w, data) })
}

func ms(m Millis) string { return ShortDuration(m.D()) }

// ShortDuration keeps a timing short for a reader: 41ms, 1.2s, 350µs; the
// terminal's transcript and the reports write timings alike.
func ShortDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

var funcs = template.FuncMap{
	"ms": ms,
	"replyClass": func(code int) string {
		switch {
		case code >= 500:
			return "s5"
		case code >= 400:
			return "s4"
		}
		return "s2"
	},
	"prefix": func(l *Line) string {
		switch {
		case l.Dir == Sent && l.Role == "raw":
			return "C (raw): "
		case l.Dir == Sent:
			return "C: "
		case l.Dir == Received:
			return "S: "
		}
		return ""
	},
	"roleNote": func(role string) string { return roleNotes[role] },
	"isFailed": func(st, failed *Step) bool { return failed != nil && st == failed },
}

// roleNotes are the words the terminal puts after a line whose role is
// not plain, keyed by the role's stable name.
var roleNotes = map[string]string{
	"username":          "username, base64",
	"password":          "password, base64, masked",
	"credentials":       "base64 of NUL user NUL password, masked",
	"digest":            "base64 of user and HMAC-MD5 digest, masked",
	"cancel":            "cancels the exchange",
	"quit on interrupt": "interrupted",
	"end of data":       "end of data",
}

const css = `
body { font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #222; background: #fff; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .3em .8em; border-bottom: 1px solid #ddd; }
.pass { color: #176b2c; font-weight: bold; }
.fail, .error { color: #b00020; font-weight: bold; }
.skipped { color: #777; }
pre, .transcript { font: 13px/1.35 ui-monospace, monospace; }
.transcript { border: 1px solid #ddd; padding: .5em; }
.step { margin: 0; }
.src { font-weight: bold; white-space: pre-wrap; }
.gutter { color: #888; display: inline-block; width: 4ch; text-align: right; margin-right: 1ch; }
.mark { color: #888; display: inline-block; width: 4ch; }
.line { white-space: pre-wrap; margin-left: 5ch; }
.c { color: #00838f; } .s2 { color: #1b7a2f; } .s4 { color: #9a6700; } .s5 { color: #b00020; }
.info, .time, .role { color: #777; }
.failed { background: #fde7ea; border-left: 4px solid #b00020; }
.errorreport { background: #fde7ea; padding: .5em; white-space: pre-wrap; }
details { margin-left: 10ch; color: #555; }
summary { cursor: pointer; color: #777; }
@media print { details { display: block; } a { color: inherit; text-decoration: none; } }
`

// The pages are parsed when a report is written, not at start-up.
var indexPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("index").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>smtprun test report</title>
<style>` + css + `</style></head>
<body>
<h1>smtprun test report</h1>
<p id="summary">{{.Run.Passed}} passed, {{.Run.Failed}} failed{{if .Run.Skipped}}, {{.Run.Skipped}} skipped{{end}} in {{ms .Run.Duration}}</p>
<table id="scripts">
<thead><tr><th>Result</th><th>Script</th><th>Steps</th><th>Duration</th><th>Failure</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="row-{{.Result}}"><td class="{{.Result}}">{{.Result}}</td><td><a href="{{.Page}}">{{.Path}}</a></td><td>{{len .Steps}}/{{.TotalSteps}}</td><td>{{ms .Duration}}</td><td>{{with .Error}}{{.Message}}{{end}}</td></tr>
{{end}}</tbody>
</table>
</body></html>
`))
})

var scriptPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("script").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Path}}: {{.Result}}</title>
<style>` + css + `</style></head>
<body>
<p><a href="index.html">all scripts</a></p>
<h1>{{.Path}}</h1>
<p id="result"><span class="{{.Result}}">{{.Result}}</span> (exit code {{.ExitCode}}), {{len .Steps}} of {{.TotalSteps}} steps, {{ms .Duration}}</p>
{{range .Notes}}<p class="info">{{.}}</p>
{{end}}{{with .Error}}<h2>Failure</h2>
<pre class="errorreport" id="error">{{.Report}}</pre>
{{end}}{{with .Captures}}<h2>Captures</h2>
<table>{{range $k, $v := .}}<tr><td>{{$k}}</td><td>{{$v}}</td></tr>{{end}}</table>
{{end}}<h2>Transcript</h2>
<div class="transcript">
{{$failed := .Failed}}{{range .Steps}}<div class="step{{if isFailed . $failed}} failed{{end}}"{{if isFailed . $failed}} id="failed-step"{{end}}>
{{if ne .Kind "note"}}<div class="src"><span class="gutter">{{.Line}}</span>| {{.Source}}</div>
{{end}}{{range .Lines}}<div class="line"><span class="mark">{{if .TLS}}tls{{end}}</span>{{if eq .Dir "sent"}}<span class="c">{{prefix .}}{{.Text}}</span>{{with roleNote .Role}} <span class="role">({{.}})</span>{{end}}{{else if eq .Dir "received"}}<span class="{{replyClass .Code}}">{{prefix .}}{{.Text}}</span>{{if .Elapsed}} <span class="time">({{ms .Elapsed}})</span>{{end}}{{else}}<span class="info">{{.Text}}</span>{{end}}</div>
{{with .Explain}}<details><summary>explain</summary>{{range .}}<div># {{.}}</div>{{end}}</details>
{{end}}{{end}}</div>
{{end}}</div>
</body></html>
`))
})
