package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smtprun/smtprun/sandbox"
)

// message is one accepted message: what the event said, and its header
// and envelope read from the saved files on first use.
type message struct {
	ID       string
	Session  int64
	QueueID  string
	Size     int64
	Received time.Time
	path     string
	limit    int64

	once sync.Once
	head *MessageSummary
}

// MessageSummary is a message as the list shows it.
type MessageSummary struct {
	ID       string    `json:"id"`
	Session  int64     `json:"session"`
	QueueID  string    `json:"queue_id"`
	Size     int64     `json:"size"`
	Received time.Time `json:"received"`
	MailFrom string    `json:"mail_from"`
	RcptTo   []string  `json:"rcpt_to"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Subject  string    `json:"subject"`
	AuthUser string    `json:"auth_user,omitempty"`
	TLS      string    `json:"tls,omitempty"`
}

// MessageDetail is a message opened: its header, text and HTML parts and
// attachments.
type MessageDetail struct {
	MessageSummary
	Headers     []Header     `json:"headers"`
	Text        string       `json:"text"`
	HasHTML     bool         `json:"has_html"`
	Attachments []Attachment `json:"attachments"`
	Truncated   bool         `json:"truncated,omitempty"` // larger than the view reads; see the raw source
}

// Header is one header field, decoded (RFC 2047) for reading.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Attachment is a part with a file name, or one that is neither the text
// nor the HTML body.
type Attachment struct {
	Index       int    `json:"index"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
}

func (m *message) summary() *MessageSummary {
	m.once.Do(func() {
		s := &MessageSummary{ID: m.ID, Session: m.Session, QueueID: m.QueueID, Size: m.Size, Received: m.Received, RcptTo: []string{}}
		if data, err := os.ReadFile(strings.TrimSuffix(m.path, ".eml") + ".envelope.json"); err == nil {
			var env sandbox.Envelope
			if json.Unmarshal(data, &env) == nil {
				s.MailFrom, s.AuthUser, s.TLS = esc(env.MailFrom), esc(env.AuthUser), esc(env.TLS)
				for _, r := range env.RcptTo {
					s.RcptTo = append(s.RcptTo, esc(r))
				}
			}
		}
		if f, err := os.Open(m.path); err == nil {
			// The header only: the first 64 KiB are plenty, as the sandbox
			// keeps no more of a message in memory either.
			if msg, err := mail.ReadMessage(io.LimitReader(f, 64<<10)); err == nil {
				s.From = decodeHeader(msg.Header.Get("From"))
				s.To = decodeHeader(msg.Header.Get("To"))
				s.Subject = decodeHeader(msg.Header.Get("Subject"))
			}
			f.Close()
		}
		m.head = s
	})
	return m.head
}

// raw reads the .eml, at most limit bytes; truncated if there was more.
func (m *message) raw() (data []byte, truncated bool, err error) {
	f, err := os.Open(m.path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, m.limit+1))
	if int64(len(data)) > m.limit {
		return data[:m.limit], true, err
	}
	return data, false, err
}

// part is one leaf of the MIME tree.
type part struct {
	contentType, filename string
	body                  []byte
	inline                bool
}

// maxParts and maxDepth bound the MIME walk: a message is the client's.
const (
	maxParts = 200
	maxDepth = 8
)

func (m *message) detail() (*MessageDetail, []part, error) {
	data, truncated, err := m.raw()
	if err != nil {
		return nil, nil, err
	}
	d := &MessageDetail{MessageSummary: *m.summary(), Headers: []Header{}, Attachments: []Attachment{}, Truncated: truncated}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		d.Text = esc(string(data))
		return d, nil, nil
	}
	for name, values := range msg.Header {
		for _, v := range values {
			d.Headers = append(d.Headers, Header{Name: esc(name), Value: decodeHeader(v)})
		}
	}
	sortHeaders(d.Headers, data)
	var parts []part
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Header.Get("Content-Disposition"), msg.Body, 0, &parts)
	textDone, htmlDone := false, false
	for i, p := range parts {
		switch {
		case p.filename == "" && p.contentType == "text/plain" && !textDone:
			d.Text, textDone = string(p.body), true
		case p.filename == "" && p.contentType == "text/html" && !htmlDone:
			d.HasHTML, htmlDone = true, true
		default:
			name := p.filename
			if name == "" {
				name = "part-" + strconv.Itoa(i)
			}
			d.Attachments = append(d.Attachments, Attachment{Index: i, Filename: esc(name), ContentType: esc(p.contentType), Size: len(p.body)})
		}
	}
	return d, parts, nil
}

func walk(ctype, cte, disp string, body io.Reader, depth int, parts *[]part) {
	if len(*parts) >= maxParts {
		return
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil || ctype == "" {
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") && depth < maxDepth && params["boundary"] != "" {
		r := multipart.NewReader(body, params["boundary"])
		for len(*parts) < maxParts {
			p, err := r.NextRawPart()
			if err != nil {
				return
			}
			walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p, depth+1, parts)
		}
		return
	}
	var dec io.Reader = body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		dec = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	case "quoted-printable":
		dec = quotedprintable.NewReader(body)
	}
	data, _ := io.ReadAll(dec)
	p := part{contentType: mt, body: data}
	if dt, dp, err := mime.ParseMediaType(disp); err == nil {
		p.filename = dp["filename"]
		p.inline = dt == "inline"
	}
	if p.filename == "" {
		p.filename = params["name"]
	}
	*parts = append(*parts, p)
}

// newlineStripper drops CR and LF, which base64 bodies are wrapped with.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, b := range p[:k] {
			if b != '\r' && b != '\n' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	return nil, errors.New("charset not supported")
}}

// decodeHeader decodes RFC 2047 words (UTF-8 and Latin-1 only; others
// stay encoded) and escapes what a terminal would not show.
func decodeHeader(v string) string {
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	return esc(v)
}

// sortHeaders puts fields in the order the message has them: net/mail
// keeps a map.
func sortHeaders(h []Header, raw []byte) {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(raw)
	}
	head := strings.ToLower(string(raw[:end]))
	pos := func(name string) int {
		if strings.HasPrefix(head, strings.ToLower(name)+":") {
			return 0
		}
		if i := strings.Index(head, "\n"+strings.ToLower(name)+":"); i >= 0 {
			return i
		}
		return len(head)
	}
	slices.SortStableFunc(h, func(a, b Header) int { return pos(a.Name) - pos(b.Name) })
}
