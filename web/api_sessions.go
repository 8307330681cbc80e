package web

import (
	"net/http"
	"path/filepath"
	"strconv"
)

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

// sessionOr404 is the session the path names, or a 404 answered.
func (s *Server) sessionOr404(w http.ResponseWriter, r *http.Request) (*SessionDetail, []Diagnosis, bool) {
	id, ok := sessionID(w, r)
	if !ok {
		return nil, nil, false
	}
	d, diags, ok := s.store.session(id)
	if !ok {
		writeError(w, http.StatusNotFound, "no such session (the view keeps the most recent "+strconv.Itoa(s.lim.Sessions)+")")
	}
	return d, diags, ok
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	if d, _, ok := s.sessionOr404(w, r); ok {
		writeJSON(w, http.StatusOK, d)
	}
}

func (s *Server) getDiagnoses(w http.ResponseWriter, r *http.Request) {
	if _, diags, ok := s.sessionOr404(w, r); ok {
		writeJSON(w, http.StatusOK, map[string][]Diagnosis{"items": diags})
	}
}

func (s *Server) getRecording(w http.ResponseWriter, r *http.Request) {
	d, _, ok := s.sessionOr404(w, r)
	if !ok {
		return
	}
	if d.Recording == "" || s.recordDir == "" {
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
