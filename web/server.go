package web

import (
	"embed"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/net/netutil"

	"github.com/smtprun/smtprun/sandbox"
	"github.com/smtprun/smtprun/sandbox/fault"
)

//go:embed assets
var assets embed.FS

// Config is what a view needs from the server it shows.
type Config struct {
	// Faults are the sandbox's plans, which the view lists and changes.
	Faults *fault.Plans
	// RecordDir is serve --record's directory, for the sessions' scripts.
	RecordDir string
	// Public allows any Host header; otherwise only loopback names are
	// served (see allowed).
	Public bool
	Limits Limits
}

// Server is the view of one sandbox. Observe is its sandbox.Observer.
type Server struct {
	store     *store
	hub       *hub
	lim       Limits
	faults    *fault.Plans
	recordDir string
	public    bool
	token     string
	mux       *http.ServeMux
}

// New returns a view with nothing in it yet.
func New(c Config) *Server {
	lim := c.Limits.withDefaults()
	h := newHub(lim)
	s := &Server{store: newStore(lim, h), hub: h, lim: lim, faults: c.Faults, recordDir: c.RecordDir, public: c.Public, token: newToken()}
	if s.faults == nil {
		s.faults = &fault.Plans{}
	}
	s.routes()
	return s
}

// Observe records a sandbox event; it is quick, as an Observer must be.
func (s *Server) Observe(e sandbox.Event) { s.store.Observe(e) }

// Recorded tells the view the file a session was recorded in.
func (s *Server) Recorded(conn int64, path string) { s.store.recorded(conn, filepath.Base(path)) }

// Token is this run's token for changing requests.
func (s *Server) Token() string { return s.token }

// ServeHTTP serves the page and the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if ok, why := s.allowed(r); !ok {
		writeError(w, http.StatusForbidden, why)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.lim.BodyBytes)
	s.mux.ServeHTTP(w, r)
}

// Serve serves the view on ln until Close of the returned server, with
// timeouts and a connection limit of its own: a client that drips or
// idles must not hold it. The event stream and the long poll extend their
// own write deadlines.
func (s *Server) Serve(ln net.Listener) (*http.Server, <-chan error) {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	errs := make(chan error, 1)
	go func() {
		if err := srv.Serve(limitListener(ln, s.lim.MaxConnections)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- err
		}
		close(errs)
	}()
	return srv, errs
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// apiError is every error's body.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// page reads limit and offset; limit is capped at Limits.PageSize.
func (s *Server) page(r *http.Request) (offset, limit int, err error) {
	limit = 50
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return 0, 0, errors.New("limit must be a positive number")
		}
	}
	if v := r.URL.Query().Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, errors.New("offset must be a number, 0 or more")
		}
	}
	return offset, min(limit, s.lim.PageSize), nil
}

// limitListener bounds the view's connections at once; more wait in the
// listen backlog, which a loopback page can afford.
func limitListener(ln net.Listener, n int) net.Listener { return netutil.LimitListener(ln, n) }
