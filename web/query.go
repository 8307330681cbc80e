package web

import (
	"net/url"
	"strings"
)

// query is a message search: each field a case-insensitive substring of
// the envelope or the header (from: MAIL FROM or the From field; to: any
// RCPT TO or the To field; subject: the Subject field). Empty matches all.
type query struct{ from, to, subject string }

func queryOf(v url.Values) query {
	return query{from: strings.ToLower(v.Get("from")), to: strings.ToLower(v.Get("to")), subject: strings.ToLower(v.Get("subject"))}
}

func (q query) matches(m *message) bool {
	s := m.summary()
	has := func(hay, needle string) bool { return strings.Contains(strings.ToLower(hay), needle) }
	if q.from != "" && !has(s.MailFrom, q.from) && !has(s.From, q.from) {
		return false
	}
	if q.to != "" && !has(strings.Join(s.RcptTo, "\n"), q.to) && !has(s.To, q.to) {
		return false
	}
	return q.subject == "" || has(s.Subject, q.subject)
}
