package web

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.index)
	m.Handle("GET /assets/", http.FileServerFS(assets))
	m.HandleFunc("GET /api/v1/openapi.json", s.openapi)
	m.HandleFunc("GET /api/v1/token", s.getToken)
	m.HandleFunc("GET /api/v1/events", s.events)

	m.HandleFunc("GET /api/v1/sessions", s.listSessions)
	m.HandleFunc("DELETE /api/v1/sessions", s.deleteSessions)
	m.HandleFunc("GET /api/v1/sessions/{id}", s.getSession)
	m.HandleFunc("DELETE /api/v1/sessions/{id}", s.deleteSession)
	m.HandleFunc("GET /api/v1/sessions/{id}/diagnoses", s.getDiagnoses)
	m.HandleFunc("GET /api/v1/sessions/{id}/recording", s.getRecording)

	m.HandleFunc("GET /api/v1/messages", s.listMessages)
	m.HandleFunc("DELETE /api/v1/messages", s.deleteMessages)
	m.HandleFunc("GET /api/v1/messages/wait", s.waitMessage)
	m.HandleFunc("GET /api/v1/messages/{id}", s.getMessage)
	m.HandleFunc("DELETE /api/v1/messages/{id}", s.deleteMessage)
	m.HandleFunc("GET /api/v1/messages/{id}/raw", s.getRaw)
	m.HandleFunc("GET /api/v1/messages/{id}/html", s.getHTML)
	m.HandleFunc("GET /api/v1/messages/{id}/attachments/{n}", s.getAttachment)

	m.HandleFunc("GET /api/v1/faults", s.getFaults)
	m.HandleFunc("PUT /api/v1/faults", s.putFaults)
	m.HandleFunc("DELETE /api/v1/faults", s.deleteFaults)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint; see /api/v1/openapi.json")
	})
	s.mux = m
}

// pageCSP lets the page load its own script, style and frames only, and
// be framed by nobody.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// htmlCSP is a message's HTML: sandboxed into an opaque origin with no
// scripts (even when opened outside the page's iframe), nothing fetched
// but inline styles and data: images, framed by the page only.
const htmlCSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	data, _ := assets.ReadFile("assets/index.html")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(data)
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	data, _ := assets.ReadFile("assets/openapi.json")
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}

// getToken gives the token to a same-origin reader: no CORS header is
// ever sent, so another site's script cannot read the answer.
func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		writeError(w, http.StatusForbidden, "cross-origin request (Sec-Fetch-Site: "+site+")")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": s.token, "header": TokenHeader})
}

// list is every list's body.
type list[T any] struct {
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
	Items  []T `json:"items"`
}

// deleted tells the pages what a DELETE removed, and answers 204.
func (s *Server) deleted(w http.ResponseWriter, kind, id string) {
	s.hub.publish(change{Kind: kind, ID: id})
	w.WriteHeader(http.StatusNoContent)
}

// download serves a file as an attachment, never rendered in the page's
// origin.
func download(w http.ResponseWriter, path, name, ctype string) {
	f, err := os.Open(path)
	if err != nil {
		writeError(w, http.StatusGone, "the file cannot be read: "+esc(err.Error()))
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	if !strings.HasPrefix(ctype, "text/plain") {
		h.Set("Content-Disposition", contentDisposition(name, "download"))
	}
	io.Copy(w, f)
}

// contentDisposition names a download safely: the client chose the name.
func contentDisposition(name, fallback string) string {
	var b strings.Builder
	for _, r := range filepath.Base(name) {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r > 0x7e {
			b.WriteByte('_')
		} else {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 || b.String() == "." || b.String() == ".." {
		return `attachment; filename="` + fallback + `"`
	}
	return `attachment; filename="` + b.String() + `"`
}
