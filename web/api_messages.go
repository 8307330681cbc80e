package web

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"
)

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
