package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/smtprun/smtprun/sandbox/fault"
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

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	off, lim, err := s.page(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	items, total := s.store.sessionList(off, lim)
	writeJSON(w, http.StatusOK, list[Session]{Total: total, Offset: off, Limit: lim, Items: items})
}

func sessionID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "no such session")
		return 0, false
	}
	return id, true
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	id, ok := sessionID(w, r)
	if !ok {
		return
	}
	d, _, ok := s.store.session(id)
	if !ok {
		writeError(w, http.StatusNotFound, "no such session (the view keeps the most recent "+strconv.Itoa(s.lim.Sessions)+")")
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) getDiagnoses(w http.ResponseWriter, r *http.Request) {
	id, ok := sessionID(w, r)
	if !ok {
		return
	}
	_, diags, ok := s.store.session(id)
	if !ok {
		writeError(w, http.StatusNotFound, "no such session")
		return
	}
	writeJSON(w, http.StatusOK, map[string][]Diagnosis{"items": diags})
}

func (s *Server) getRecording(w http.ResponseWriter, r *http.Request) {
	id, ok := sessionID(w, r)
	if !ok {
		return
	}
	d, _, ok := s.store.session(id)
	if !ok || d.Recording == "" || s.recordDir == "" {
		writeError(w, http.StatusNotFound, "no recording of this session (serve --record DIR records them)")
		return
	}
	download(w, filepath.Join(s.recordDir, d.Recording), d.Recording, "text/plain; charset=utf-8")
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	id, ok := sessionID(w, r)
	if !ok {
		return
	}
	if !s.store.deleteSession(id) {
		writeError(w, http.StatusNotFound, "no such session")
		return
	}
	s.deleted(w, "deleted-session", r.PathValue("id"))
}

func (s *Server) deleteSessions(w http.ResponseWriter, r *http.Request) {
	s.store.deleteSessions()
	s.deleted(w, "deleted-session", "")
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	off, lim, err := s.page(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	all := s.store.messagesMatching(queryOf(r.URL.Query()))
	out := list[*MessageSummary]{Total: len(all), Offset: off, Limit: lim, Items: []*MessageSummary{}}
	for i := off; i < len(all) && len(out.Items) < lim; i++ {
		out.Items = append(out.Items, all[i].summary())
	}
	writeJSON(w, http.StatusOK, out)
}

// waitMessage answers with the newest message matching the query, as
// soon as there is one: at once if one has arrived already (after the
// message ID in "after", if given), else when it arrives, or 408 after
// timeout (default 10s, at most Limits.MaxWait).
func (s *Server) waitMessage(w http.ResponseWriter, r *http.Request) {
	q := queryOf(r.URL.Query())
	timeout := 10 * time.Second
	if v := r.URL.Query().Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("timeout %q is not a duration such as 10s", v))
			return
		}
		timeout = min(d, s.lim.MaxWait)
	}
	after := 0
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "after must be a message ID")
			return
		}
		after = n
	}
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + 10*time.Second))
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		// Taken before looking, so a message arriving in between wakes us.
		arrived := s.store.arrival()
		for _, m := range s.store.messagesMatching(q) {
			if n, _ := strconv.Atoi(m.ID); n > after {
				writeJSON(w, http.StatusOK, m.summary())
				return
			}
		}
		select {
		case <-arrived:
		case <-deadline.C:
			writeError(w, http.StatusRequestTimeout, "no matching message within "+timeout.String())
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) messageOr404(w http.ResponseWriter, r *http.Request) (*message, bool) {
	m, ok := s.store.message(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "no such message (the view keeps the most recent "+strconv.Itoa(s.lim.Messages)+")")
	}
	return m, ok
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.messageOr404(w, r)
	if !ok {
		return
	}
	d, _, err := m.detail()
	if err != nil {
		writeError(w, http.StatusGone, "the message's file cannot be read: "+esc(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) getRaw(w http.ResponseWriter, r *http.Request) {
	m, ok := s.messageOr404(w, r)
	if !ok {
		return
	}
	ctype := "text/plain; charset=utf-8"
	if r.URL.Query().Get("download") != "" {
		ctype = "message/rfc822"
	}
	download(w, m.path, filepath.Base(m.path), ctype)
}

func (s *Server) getHTML(w http.ResponseWriter, r *http.Request) {
	m, ok := s.messageOr404(w, r)
	if !ok {
		return
	}
	d, parts, err := m.detail()
	if err != nil || !d.HasHTML {
		writeError(w, http.StatusNotFound, "the message has no HTML part")
		return
	}
	for _, p := range parts {
		if p.filename == "" && p.contentType == "text/html" {
			h := w.Header()
			h.Set("Content-Security-Policy", htmlCSP)
			h.Set("X-Frame-Options", "SAMEORIGIN")
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.Write(p.body)
			return
		}
	}
}

func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request) {
	m, ok := s.messageOr404(w, r)
	if !ok {
		return
	}
	d, parts, err := m.detail()
	n, nerr := strconv.Atoi(r.PathValue("n"))
	if err != nil || nerr != nil {
		writeError(w, http.StatusNotFound, "no such attachment")
		return
	}
	for _, a := range d.Attachments {
		if a.Index == n {
			// Never rendered here: a download, whatever its type says.
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Disposition", contentDisposition(parts[n].filename, "part-"+strconv.Itoa(n)))
			w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
			w.Write(parts[n].body)
			return
		}
	}
	writeError(w, http.StatusNotFound, "no such attachment")
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) {
	if !s.store.deleteMessage(r.PathValue("id")) {
		writeError(w, http.StatusNotFound, "no such message")
		return
	}
	s.deleted(w, "deleted-message", r.PathValue("id"))
}

func (s *Server) deleteMessages(w http.ResponseWriter, r *http.Request) {
	s.store.deleteMessages()
	s.deleted(w, "deleted-message", "")
}

// deleted tells the pages what a DELETE removed, and answers 204.
func (s *Server) deleted(w http.ResponseWriter, kind, id string) {
	s.hub.publish(change{Kind: kind, ID: id})
	w.WriteHeader(http.StatusNoContent)
}

// FaultPlan is a fault plan as the API shows it.
type FaultPlan struct {
	Plan  string `json:"plan"`
	Fired int    `json:"fired"`
	Spent bool   `json:"spent"`
}

// faultPlans is the body of GET and PUT /api/v1/faults.
type faultPlans struct {
	Plans []FaultPlan `json:"plans"`
}

func (s *Server) getFaults(w http.ResponseWriter, r *http.Request) {
	out := faultPlans{Plans: []FaultPlan{}}
	for _, p := range s.faults.List() {
		out.Plans = append(out.Plans, FaultPlan{Plan: esc(p.Source), Fired: p.Fired, Spent: p.Spent})
	}
	writeJSON(w, http.StatusOK, out)
}

// putFaults replaces every plan (their counts start again), all or none:
// one that does not parse leaves the plans as they were.
func (s *Server) putFaults(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Plans []string `json:"plans"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, `the body must be {"plans": ["rcpt#1=550 5.1.1 No such user", ...]}: `+esc(err.Error()))
		return
	}
	var plans []fault.Plan
	for i, src := range body.Plans {
		if strings.TrimSpace(src) == "" {
			continue
		}
		p, err := fault.Parse(strings.TrimSpace(src))
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("plan %d: %s", i+1, esc(err.Error())))
			return
		}
		plans = append(plans, p)
	}
	s.faults.Set(plans...)
	s.hub.publish(change{Kind: "faults"})
	s.getFaults(w, r)
}

func (s *Server) deleteFaults(w http.ResponseWriter, r *http.Request) {
	s.faults.Clear()
	s.deleted(w, "faults", "")
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
