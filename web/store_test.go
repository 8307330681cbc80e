package web

import (
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/smtprun/smtprun/sandbox"
)

// TestStoreBounds: past the bound, the oldest sessions and messages are
// dropped and the newest kept; a session's transcript stops growing and
// counts what it did not keep.
func TestStoreBounds(t *testing.T) {
	dir := t.TempDir()
	s := newStore(Limits{Sessions: 3, Messages: 2, SessionEvents: 4}.withDefaults(), newHub(DefaultLimits))
	for conn := int64(1); conn <= 5; conn++ {
		s.Observe(sandbox.Event{Conn: conn, Kind: sandbox.ConnOpened, Remote: "127.0.0.1:1"})
		path := filepath.Join(dir, "m.eml")
		os.WriteFile(path, []byte("Subject: x\r\n\r\nbody\r\n"), 0o600)
		s.Observe(sandbox.Event{Conn: conn, Kind: sandbox.MessageReceived, Line: "Q", Path: path})
		for i := 0; i < 10; i++ {
			s.Observe(sandbox.Event{Conn: conn, Kind: sandbox.LineReceived, Line: "NOOP"})
		}
		s.Observe(sandbox.Event{Conn: conn, Kind: sandbox.ConnClosed, Err: errors.New("gone")})
	}
	list, total := s.sessionList(0, 10)
	if total != 3 || len(list) != 3 || list[0].ID != 5 || list[2].ID != 3 {
		t.Errorf("sessions kept: %d %+v", total, list)
	}
	if _, _, ok := s.session(2); ok {
		t.Errorf("session 2 kept past the bound of 3")
	}
	d, _, _ := s.session(5)
	if len(d.Transcript) != 4 || d.Dropped != 9 || d.Outcome != "failed" {
		t.Errorf("transcript of 4 at most: %d kept, %d dropped, outcome %s", len(d.Transcript), d.Dropped, d.Outcome)
	}
	ms := s.messagesMatching(query{})
	if len(ms) != 2 || ms[0].ID != "5" || ms[1].ID != "4" {
		t.Errorf("messages kept: %d", len(ms))
	}
}

// TestHubDropsSlowStreams: a stream that does not read is dropped once
// its backlog is full, and a stream past the limit is refused.
func TestHubDropsSlowStreams(t *testing.T) {
	h := newHub(Limits{SSEClients: 2, SSEBacklog: 3})
	slow, _ := h.join()
	if _, ok := h.join(); !ok {
		t.Fatal("the second stream was refused")
	}
	if _, ok := h.join(); ok {
		t.Fatal("a third stream past the limit of 2 was let in")
	}
	for i := 0; i < 4; i++ {
		h.publish(change{Kind: "session"})
	}
	n := 0
	for range slow {
		n++
	}
	if n != 3 {
		t.Errorf("the slow stream got %d changes before it was dropped, want its backlog of 3", n)
	}
	if _, ok := h.join(); !ok {
		t.Errorf("a dropped stream still counts against the limit")
	}
}

// TestGuard: which requests may change something.
func TestGuard(t *testing.T) {
	s := New(Config{})
	for _, tc := range []struct {
		name, method, host string
		hdr                map[string]string
		public, want       bool
	}{
		{"a read", "GET", "127.0.0.1:8025", nil, false, true},
		{"a read by another name", "GET", "evil.example:8025", nil, false, false},
		{"another name with --public", "GET", "mail.lan:8025", nil, true, true},
		{"the page's own change", "PUT", "127.0.0.1:8025", map[string]string{"Origin": "http://127.0.0.1:8025", "Sec-Fetch-Site": "same-origin", TokenHeader: s.token}, false, true},
		{"curl with the token", "DELETE", "localhost:8025", map[string]string{TokenHeader: s.token}, false, true},
		{"IPv6 loopback", "DELETE", "[::1]:8025", map[string]string{TokenHeader: s.token}, false, true},
		{"no token", "DELETE", "127.0.0.1:8025", nil, false, false},
		{"another origin", "PUT", "127.0.0.1:8025", map[string]string{"Origin": "http://127.0.0.1:9999", TokenHeader: s.token}, false, false},
		{"same site, other port", "PUT", "127.0.0.1:8025", map[string]string{"Sec-Fetch-Site": "same-site", TokenHeader: s.token}, false, false},
		{"a form post from elsewhere", "POST", "127.0.0.1:8025", map[string]string{"Origin": "null"}, false, false},
	} {
		r := httptest.NewRequest(tc.method, "http://"+tc.host+"/api/v1/faults", nil)
		for k, v := range tc.hdr {
			r.Header.Set(k, v)
		}
		s.public = tc.public
		if ok, why := s.allowed(r); ok != tc.want {
			t.Errorf("%s: allowed %v (%s), want %v", tc.name, ok, why, tc.want)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for in, want := range map[string]string{
		"notes.txt":           `attachment; filename="notes.txt"`,
		"../../etc/passwd":    `attachment; filename="passwd"`,
		"a\"b\r\nSet: x.html": `attachment; filename="a_b__Set: x.html"`,
		"":                    `attachment; filename="part-1"`,
		"héllo.pdf":           `attachment; filename="h_llo.pdf"`,
	} {
		if got := contentDisposition(in, "part-1"); got != want {
			t.Errorf("contentDisposition(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestOutcome: a session failed when a refusal was its last word or the
// connection was cut, as the coach's report card counts it.
func TestOutcome(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.eml")
	os.WriteFile(path, []byte("Subject: x\r\n\r\nbody\r\n"), 0o600)
	refused := sandbox.Event{Kind: sandbox.ReplySent, Code: 550, Lines: []string{"550 5.1.1 No such user"}}
	ok := sandbox.Event{Kind: sandbox.ReplySent, Code: 250, Lines: []string{"250 2.0.0 Ok"}}
	msg := sandbox.Event{Kind: sandbox.MessageReceived, Line: "Q", Path: path}
	for _, tc := range []struct {
		name   string
		events []sandbox.Event
		cut    bool
		want   string
	}{
		{"nothing sent", []sandbox.Event{ok}, false, "closed"},
		{"delivered", []sandbox.Event{ok, msg}, false, "delivered"},
		{"refused, then delivered", []sandbox.Event{refused, msg}, false, "delivered"},
		{"delivered, then refused", []sandbox.Event{msg, refused, ok}, false, "failed"},
		{"delivered, then cut", []sandbox.Event{msg}, true, "failed"},
	} {
		s := newStore(DefaultLimits, newHub(DefaultLimits))
		s.Observe(sandbox.Event{Conn: 1, Kind: sandbox.ConnOpened})
		for _, e := range tc.events {
			e.Conn = 1
			s.Observe(e)
		}
		closed := sandbox.Event{Conn: 1, Kind: sandbox.ConnClosed}
		if tc.cut {
			closed.Err = errors.New("client vanished")
		}
		s.Observe(closed)
		d, _, _ := s.session(1)
		if d.Outcome != tc.want {
			t.Errorf("%s: outcome %s, want %s", tc.name, d.Outcome, tc.want)
		}
	}
}
