package web

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smtprun/smtprun/explain"
	"github.com/smtprun/smtprun/sandbox"
)

// Session is one SMTP connection as the list shows it.
type Session struct {
	ID         int64       `json:"id"`
	Client     string      `json:"client"`
	Profile    string      `json:"profile"`
	Host       string      `json:"host"`
	Opened     time.Time   `json:"opened"`
	Closed     *time.Time  `json:"closed,omitempty"`
	TLS        string      `json:"tls,omitempty"`
	AuthUser   string      `json:"auth_user,omitempty"`
	Outcome    string      `json:"outcome"` // open, delivered, failed, closed
	LastError  string      `json:"last_error,omitempty"`
	Messages   []string    `json:"messages"`
	Diagnoses  int         `json:"diagnoses"`
	ReportCard *ReportCard `json:"report_card,omitempty"`
	Recording  string      `json:"recording,omitempty"` // the --record file's name
}

// SessionDetail is a session with its transcript.
type SessionDetail struct {
	Session
	Transcript []Entry `json:"transcript"`
	Dropped    int     `json:"dropped"` // entries past Limits.SessionEvents, not kept
}

// Entry is one line of a transcript. Every text in it is what the
// terminal log shows: credentials masked by the sandbox, control
// characters escaped by sandbox.EscapeLine.
type Entry struct {
	Time       time.Time  `json:"time"`
	Kind       string     `json:"kind"` // sandbox.EventKind's name: received, sent, tls, ...
	Line       string     `json:"line,omitempty"`
	Secret     bool       `json:"secret,omitempty"`
	User       string     `json:"user,omitempty"`
	Code       int        `json:"code,omitempty"`
	Lines      []string   `json:"lines,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	Millis     *float64   `json:"ms,omitempty"` // a reply: time since the client's last line
	Annotation string     `json:"annotation,omitempty"`
	Diagnosis  *Diagnosis `json:"diagnosis,omitempty"`
}

// Diagnosis is one of the coach's diagnoses with its advice.
type Diagnosis struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"` // mistake or warning
	Sentence string `json:"sentence"`
	RFC      string `json:"rfc"`
	Instead  string `json:"instead"`
	Line     int    `json:"line,omitempty"` // the client line it was made at, from 1; 0 at the end
	Entry    int    `json:"entry"`          // index of the diagnosis in the transcript
}

// ReportCard is the coach's summary of a session, as the sandbox gives
// it.
type ReportCard = sandbox.ReportCard

type session struct {
	Session
	transcript []Entry
	dropped    int
	diagnoses  []Diagnosis
	lastClient time.Time
	refused    bool // a command was refused since the last delivered message
}

// store holds the most recent sessions and messages. Its methods are safe
// for concurrent use; Observe is the sandbox's Observer.
type store struct {
	lim Limits

	mu       sync.Mutex
	sessions map[int64]*session
	order    []int64 // session IDs, oldest first
	messages map[string]*message
	morder   []string
	nextMsg  int
	arrived  chan struct{} // closed and replaced when a message arrives
	hub      *hub
}

func newStore(lim Limits, h *hub) *store {
	return &store{lim: lim, sessions: map[int64]*session{}, messages: map[string]*message{}, arrived: make(chan struct{}), hub: h}
}

// Observe records one event. It only copies what the event says: a
// message's file is read when someone asks for it.
func (s *store) Observe(e sandbox.Event) {
	s.mu.Lock()
	ss := s.sessions[e.Conn]
	if ss == nil {
		if e.Kind != sandbox.ConnOpened {
			s.mu.Unlock()
			return // dropped already, or opened before the view started
		}
		ss = &session{Session: Session{ID: e.Conn, Client: esc(e.Remote), Profile: e.Profile, Host: esc(e.Host), Opened: e.Time, Outcome: "open", Messages: []string{}}}
		s.sessions[e.Conn] = ss
		s.order = append(s.order, e.Conn)
		for len(s.order) > s.lim.Sessions {
			delete(s.sessions, s.order[0])
			s.order = s.order[1:]
		}
	}
	var msg *message
	en := Entry{Time: e.Time, Kind: e.Kind.String(), Line: esc(e.Line), Secret: e.Secret, User: esc(e.User)}
	switch e.Kind {
	case sandbox.LineReceived:
		ss.lastClient = e.Time
		if e.User != "" {
			ss.AuthUser = esc(e.User)
		}
		if e.Line != "." && !strings.HasPrefix(e.Line, "(") {
			if x, ok := explain.Command(e.Line); ok {
				en.Annotation = x.Title + ": " + x.Text
			}
		}
	case sandbox.ReplySent:
		en.Code, en.Reason = e.Code, e.Reason
		for _, l := range e.Lines {
			en.Lines = append(en.Lines, esc(l))
		}
		if !ss.lastClient.IsZero() {
			ms := float64(e.Time.Sub(ss.lastClient).Microseconds()) / 1000
			en.Millis = &ms
		}
		if e.Code >= 400 && len(en.Lines) > 0 {
			ss.LastError = strconv.Itoa(e.Code) + " " + en.Lines[len(en.Lines)-1]
			ss.refused = true
		}
	case sandbox.TLSStarted:
		ss.TLS = esc(e.Line)
	case sandbox.MessageReceived:
		msg = s.addMessageLocked(ss, e)
		ss.refused = false // recovered: what was refused before was retried or dropped
	case sandbox.DiagnosisMade:
		if e.Diagnosis != nil {
			a := e.Diagnosis.Advice()
			d := Diagnosis{Rule: e.Diagnosis.Rule, Severity: string(e.Diagnosis.Severity), Sentence: e.Diagnosis.Sentence(sandbox.EscapeLine),
				RFC: e.Diagnosis.RFC, Instead: a.Instead, Line: e.Diagnosis.Line, Entry: len(ss.transcript)}
			if d.RFC == "" {
				d.RFC = a.RFC
			}
			if d.Severity == "" {
				d.Severity = string(a.Severity)
			}
			en.Diagnosis = &d
			if len(ss.diagnoses) < s.lim.SessionEvents {
				ss.diagnoses = append(ss.diagnoses, d)
			}
			ss.Diagnoses++
		}
	case sandbox.ReportCardMade:
		if e.Report != nil {
			// A copy: the maps and slices are the coach's.
			rc := *e.Report
			rc.Good = append([]string{}, rc.Good...) // [] in JSON, never null
			rc.Recipients = slices.Clone(rc.Recipients)
			rc.Mistakes = maps.Clone(rc.Mistakes)
			rc.Warnings = maps.Clone(rc.Warnings)
			if rc.LastRefused != nil {
				lr := *rc.LastRefused
				lr.Command, lr.Reply = esc(lr.Command), esc(lr.Reply)
				rc.LastRefused = &lr
			}
			for i, r := range rc.Recipients {
				rc.Recipients[i] = esc(r)
			}
			ss.ReportCard = &rc
		}
	case sandbox.ConnClosed:
		t := e.Time
		ss.Closed = &t
		if e.Err != nil {
			en.Line = esc(e.Err.Error())
		}
		// As the coach's report card counts it: a session failed when a
		// refusal was the last word, or the connection was cut.
		switch {
		case ss.refused || e.Err != nil:
			ss.Outcome = "failed"
			if e.Err != nil {
				ss.LastError = en.Line
			}
		case len(ss.Messages) > 0:
			ss.Outcome = "delivered"
		default:
			ss.Outcome = "closed"
		}
	}
	if len(ss.transcript) < s.lim.SessionEvents {
		ss.transcript = append(ss.transcript, en)
	} else {
		ss.dropped++
	}
	sum := ss.Session
	sum.Messages = append([]string{}, ss.Messages...)
	s.mu.Unlock()

	// Each event is a change to its session; the list needs no more.
	s.hub.publish(change{Kind: "session", ID: strconv.FormatInt(e.Conn, 10), Session: &sum})
	if msg != nil {
		// Without its summary, which reads the files: the observer must
		// not wait for the disk; the page asks for the list.
		s.hub.publish(change{Kind: "message", ID: msg.ID})
	}
}

// recorded notes the --record file of a session.
func (s *store) recorded(conn int64, name string) {
	s.mu.Lock()
	ss := s.sessions[conn]
	if ss != nil {
		ss.Recording = name
	}
	s.mu.Unlock()
	if ss != nil {
		s.hub.publish(change{Kind: "session", ID: strconv.FormatInt(conn, 10)})
	}
}

func (s *store) addMessageLocked(ss *session, e sandbox.Event) *message {
	if e.Path == "" {
		return nil // not saved (the view always saves; a test may not)
	}
	s.nextMsg++
	m := &message{ID: strconv.Itoa(s.nextMsg), Session: e.Conn, QueueID: esc(e.Line), Size: e.Bytes, Received: e.Time, path: e.Path, limit: s.lim.ParseBytes}
	s.messages[m.ID] = m
	s.morder = append(s.morder, m.ID)
	for len(s.morder) > s.lim.Messages {
		delete(s.messages, s.morder[0])
		s.morder = s.morder[1:]
	}
	ss.Messages = append(ss.Messages, m.ID)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return m
}

// sessionList returns sessions newest first, from offset, at most limit,
// and how many there are.
func (s *store) sessionList(offset, limit int) ([]Session, int) {
	s.mu.Lock()
	out := []Session{}
	for i := len(s.order) - 1 - offset; i >= 0 && len(out) < limit; i-- {
		ss := s.sessions[s.order[i]]
		sum := ss.Session
		sum.Messages = append([]string{}, ss.Messages...)
		out = append(out, sum)
	}
	total := len(s.order)
	s.mu.Unlock()
	for i := range out {
		s.fillUser(&out[i])
	}
	return out, total
}

// fillUser takes the AUTH user from the session's first message's
// envelope when the events did not name it (the coach decodes PLAIN and
// LOGIN only, and only with --explain). Called without the lock: it may
// read the envelope file.
func (s *store) fillUser(sum *Session) {
	if sum.AuthUser != "" || len(sum.Messages) == 0 {
		return
	}
	if m, ok := s.message(sum.Messages[0]); ok {
		sum.AuthUser = m.summary().AuthUser
	}
}

func (s *store) session(id int64) (*SessionDetail, []Diagnosis, bool) {
	s.mu.Lock()
	ss, ok := s.sessions[id]
	if !ok {
		s.mu.Unlock()
		return nil, nil, false
	}
	d := &SessionDetail{Session: ss.Session, Transcript: append([]Entry{}, ss.transcript...), Dropped: ss.dropped}
	d.Messages = append([]string{}, ss.Messages...)
	diags := append([]Diagnosis{}, ss.diagnoses...)
	s.mu.Unlock()
	s.fillUser(&d.Session)
	return d, diags, true
}

func (s *store) deleteSession(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[id]; !ok {
		return false
	}
	delete(s.sessions, id)
	s.order = without(s.order, id)
	return true
}

func (s *store) deleteSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = map[int64]*session{}
	s.order = nil
}

// messagesMatching returns the messages q matches, newest first.
func (s *store) messagesMatching(q query) []*message {
	s.mu.Lock()
	all := make([]*message, 0, len(s.morder))
	for i := len(s.morder) - 1; i >= 0; i-- {
		all = append(all, s.messages[s.morder[i]])
	}
	s.mu.Unlock()
	// Matching reads headers from disk: outside the lock, so the sandbox's
	// observer never waits for a search.
	out := all[:0]
	for _, m := range all {
		if q.matches(m) {
			out = append(out, m)
		}
	}
	return out
}

func (s *store) message(id string) (*message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[id]
	return m, ok
}

func (s *store) deleteMessage(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.messages[id]; !ok {
		return false
	}
	delete(s.messages, id)
	s.morder = without(s.morder, id)
	return true
}

func (s *store) deleteMessages() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = map[string]*message{}
	s.morder = nil
}

// arrival returns a channel closed when the next message arrives.
func (s *store) arrival() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arrived
}

func without[T comparable](list []T, v T) []T {
	for i, x := range list {
		if x == v {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// esc is the terminal log's escaping, so the page shows what it shows.
func esc(s string) string { return sandbox.EscapeLine(s) }
