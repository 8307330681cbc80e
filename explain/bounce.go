package explain

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"sync"
)

// Found is one server reply found in pasted text or in a bounce message.
type Found struct {
	// Reply is the reply as a server sent it, one line per wire line
	// ("550 5.1.1 ..."); "" when only a Status was found.
	Reply string
	// Status is the DSN's Status field (RFC 3464 2.3.4), when given.
	Status string
	// Recipient is the Final-Recipient (or Original-Recipient) address,
	// when given.
	Recipient string
	// Where says what the reply was found in: "Diagnostic-Code", "Status",
	// "Remote Server returned", "said:" or "reply".
	Where string
}

// Limits on what is read from a bounce, so a hostile file cannot make
// explain use unbounded memory or time.
const (
	MaxBounceBytes = 8 << 20
	maxBounceParts = 64
	maxBounceDepth = 5
	maxFound       = 100
)

// bounceRE holds the patterns FindReplies uses, compiled on first use.
var bounceRE = sync.OnceValue(func() *bouncePatterns {
	return &bouncePatterns{
		reDiagnostic: regexp.MustCompile(`(?i)^\s*Diagnostic-Code\s*:\s*(?:[A-Za-z0-9-]+\s*;)?\s*(.*)$`),
		reStatus:     regexp.MustCompile(`(?i)^\s*Status\s*:\s*([245]\.[0-9]{1,3}\.[0-9]{1,3})\b`),
		reRecipient:  regexp.MustCompile(`(?i)^\s*(?:Final|Original)-Recipient\s*:\s*(?:[A-Za-z0-9-]+\s*;)?\s*<?([^\s>]+)>?`),
		// Exchange and Outlook NDRs: Remote Server returned '550 5.1.1 ...'
		reRemote: regexp.MustCompile(`(?i)Remote Server returned\s+'(?:<[^>]*?#)?([^']*)'?`),
		// Postfix bounces: host mx[1.2.3.4] said: 550 5.1.1 ... (in reply to
		// RCPT TO command)
		reSaid:      regexp.MustCompile(`(?i)\bsaid:\s+([2-5][0-9]{2}[ -].*)$`),
		reInReplyTo: regexp.MustCompile(`(?i)\s*\(in reply to [^)]*\)\s*$`),
		reReplyLine: regexp.MustCompile(`^[2-5][0-9]{2}(?:[ -]|$)`),
		// A reply whose lines a client or a DSN joined into one:
		// "550-5.1.1 a 550-5.1.1 b 550 5.1.1 c".
		reJoinedLine: regexp.MustCompile(`\s([2-5][0-9]{2})([ -])`),
		// An Exchange "#5.1.1 smtp;550 ..." inside the quotes.
		reSmtpPrefix: regexp.MustCompile(`(?i)^#?[245]\.[0-9]+\.[0-9]+\s+smtp;\s*`),
		// Older Exchange NDRs: <server #5.1.1 smtp;550 5.1.1 ...>
		reLegacyNDR: regexp.MustCompile(`(?i)#[245]\.[0-9]+\.[0-9]+\s+smtp;\s*([2-5][0-9]{2}[ -].*?)>?\s*$`),
	}
})

type bouncePatterns struct {
	reDiagnostic, reStatus, reRecipient, reRemote, reSaid, reInReplyTo, reReplyLine, reJoinedLine, reSmtpPrefix, reLegacyNDR *regexp.Regexp
}

// FindReplies finds the server replies in text as people paste it: reply
// lines (several at once, multi-line replies grouped), a DSN's
// Diagnostic-Code and Status fields (folded lines included), Outlook's
// "Remote Server returned '...'", Postfix's "host ... said: ...".
func FindReplies(text string) []Found {
	var out []Found
	var recipient string
	block := -1 // index in out of the current recipient's first finding
	lines := unfold(strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n"))
	for i := 0; i < len(lines) && len(out) < maxFound; i++ {
		l := strings.TrimRight(lines[i], " \t")
		if strings.TrimSpace(l) == "" {
			recipient, block = "", -1
			continue
		}
		if m := bounceRE().reRecipient.FindStringSubmatch(l); m != nil {
			recipient = m[1]
			for j := max(block, 0); block >= 0 && j < len(out); j++ {
				out[j].Recipient = recipient
			}
			continue
		}
		if m := bounceRE().reStatus.FindStringSubmatch(l); m != nil {
			out, block = addStatus(out, block, m[1], recipient)
			continue
		}
		if m := bounceRE().reDiagnostic.FindStringSubmatch(l); m != nil {
			out, block = addReply(out, block, splitJoined(m[1]), recipient, "Diagnostic-Code")
			continue
		}
		if m := bounceRE().reRemote.FindStringSubmatch(l); m != nil {
			out, block = addReply(out, block, splitJoined(bounceRE().reSmtpPrefix.ReplaceAllString(m[1], "")), recipient, "Remote Server returned")
			continue
		}
		if m := bounceRE().reLegacyNDR.FindStringSubmatch(l); m != nil {
			out, block = addReply(out, block, m[1], recipient, "NDR")
			continue
		}
		if m := bounceRE().reSaid.FindStringSubmatch(l); m != nil {
			// Postfix folds the rest of the reply onto indented lines.
			s := m[1]
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") && !bounceRE().reReplyLine.MatchString(strings.TrimSpace(lines[i+1])) {
				i++
				s += " " + strings.TrimSpace(lines[i])
			}
			out, block = addReply(out, block, splitJoined(bounceRE().reInReplyTo.ReplaceAllString(s, "")), recipient, "said:")
			continue
		}
		t := strings.TrimSpace(l)
		if bounceRE().reReplyLine.MatchString(t) {
			// A multi-line reply: NNN- lines up to the NNN line.
			group := []string{t}
			for len(t) > 3 && t[3] == '-' && i+1 < len(lines) {
				next := strings.TrimSpace(lines[i+1])
				if !strings.HasPrefix(next, t[:3]) || !bounceRE().reReplyLine.MatchString(next) {
					break
				}
				i++
				t = next
				group = append(group, t)
			}
			out, block = addReply(out, block, strings.Join(group, "\n"), recipient, "reply")
		}
	}
	return dedupe(out)
}

// unfold joins header-style continuation lines (RFC 5322 2.2.3) to the
// DSN field they continue.
func unfold(lines []string) []string {
	var out []string
	for _, l := range lines {
		if n := len(out); n > 0 && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) &&
			bounceRE().reDiagnostic.MatchString(out[n-1]) && strings.TrimSpace(l) != "" {
			out[n-1] += " " + strings.TrimSpace(l)
			continue
		}
		out = append(out, l)
	}
	return out
}

// splitJoined turns a reply whose lines were joined into one back into
// lines: "550-5.1.1 a 550-5.1.1 b 550 5.1.1 c" has three.
func splitJoined(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 4 || !bounceRE().reReplyLine.MatchString(s) || s[3] != '-' {
		return s
	}
	code := s[:3]
	var lines []string
	rest := s
	for {
		locs := bounceRE().reJoinedLine.FindAllStringSubmatchIndex(rest, -1)
		cut := -1
		for _, m := range locs {
			if rest[m[2]:m[3]] == code {
				cut = m[0]
				break
			}
		}
		if cut < 0 {
			lines = append(lines, strings.TrimSpace(rest))
			break
		}
		lines = append(lines, strings.TrimSpace(rest[:cut]))
		rest = strings.TrimSpace(rest[cut:])
		if rest[3] == ' ' {
			lines = append(lines, rest)
			break
		}
	}
	return strings.Join(lines, "\n")
}

func addReply(out []Found, block int, reply, recipient, where string) ([]Found, int) {
	if reply == "" {
		return out, block
	}
	if block >= 0 {
		for j := block; j < len(out); j++ {
			if out[j].Reply == "" && out[j].Status != "" {
				out[j].Reply, out[j].Where = reply, where
				return out, block
			}
		}
	}
	out = append(out, Found{Reply: reply, Recipient: recipient, Where: where})
	if block < 0 {
		block = len(out) - 1
	}
	return out, block
}

func addStatus(out []Found, block int, status, recipient string) ([]Found, int) {
	if block >= 0 {
		for j := block; j < len(out); j++ {
			if out[j].Status == "" {
				out[j].Status = status
				return out, block
			}
		}
	}
	out = append(out, Found{Status: status, Recipient: recipient, Where: "Status"})
	if block < 0 {
		block = len(out) - 1
	}
	return out, block
}

// dedupe drops a reply found twice (a bounce's text part and its
// delivery-status part say the same thing), keeping what each knew.
func dedupe(in []Found) []Found {
	var out []Found
	for _, f := range in {
		merged := false
		for i := range out {
			o := &out[i]
			sameReply := f.Reply != "" && normalizeSpace(o.Reply) == normalizeSpace(f.Reply)
			statusOnly := f.Reply == "" && f.Status != "" && (o.Status == f.Status || o.Status == "") && (f.Recipient == "" || o.Recipient == "" || f.Recipient == o.Recipient) && o.Reply != ""
			if (sameReply && (f.Recipient == "" || o.Recipient == "" || f.Recipient == o.Recipient)) || statusOnly {
				if o.Status == "" {
					o.Status = f.Status
				}
				if o.Recipient == "" {
					o.Recipient = f.Recipient
				}
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, f)
		}
	}
	return out
}

func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// ParseBounce finds the replies in a whole bounce message (an .eml file):
// a multipart/report DSN (RFC 3464: its message/delivery-status part and
// its text part), an Exchange or Gmail non-delivery report, or any
// message whose text quotes a reply. It reads at most MaxBounceBytes.
func ParseBounce(r io.Reader) ([]Found, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBounceBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBounceBytes {
		return nil, fmt.Errorf("the message is over %d MiB; a bounce is far smaller", MaxBounceBytes>>20)
	}
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		// Not a message: take it as pasted text.
		return FindReplies(string(data)), nil
	}
	var texts []string
	parts := 0
	if err := walkPart(msg.Header, msg.Body, 0, &parts, &texts); err != nil {
		return nil, err
	}
	return FindReplies(strings.Join(texts, "\n\n")), nil
}

type header interface{ Get(string) string }

// walkPart collects the text of the parts that carry replies: the
// delivery-status part first, then text/plain; the returned original
// message (message/rfc822, text/rfc822-headers) is skipped.
func walkPart(h header, body io.Reader, depth int, parts *int, texts *[]string) error {
	*parts++
	if *parts > maxBounceParts || depth > maxBounceDepth {
		return errors.New("too many or too deeply nested MIME parts for a bounce")
	}
	ct := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || ct == "" {
		mt = "text/plain"
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		mr := multipart.NewReader(body, params["boundary"])
		var status, rest []string
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("reading the MIME parts: %w", err)
			}
			var sub []string
			if err := walkPart(p.Header, p, depth+1, parts, &sub); err != nil {
				return err
			}
			if pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt == "message/delivery-status" || pt == "message/global-delivery-status" {
				status = append(status, sub...)
			} else {
				rest = append(rest, sub...)
			}
		}
		*texts = append(*texts, status...)
		*texts = append(*texts, rest...)
		return nil
	case mt == "message/rfc822", mt == "text/rfc822-headers", mt == "message/global", mt == "message/global-headers":
		return nil
	case strings.HasPrefix(mt, "text/"), mt == "message/delivery-status", mt == "message/global-delivery-status":
		b, err := io.ReadAll(decode(h.Get("Content-Transfer-Encoding"), body))
		if err != nil {
			return fmt.Errorf("decoding a %s part: %w", mt, err)
		}
		s := string(b)
		if mt == "text/html" {
			s = stripTags(s)
		}
		*texts = append(*texts, s)
	}
	return nil
}

func decode(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &lineJoiner{r: r})
	}
	return r
}

// lineJoiner drops the line breaks of a base64 body.
type lineJoiner struct{ r io.Reader }

func (l *lineJoiner) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}

var reTag = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<[^>]*>`) })

func stripTags(s string) string {
	s = strings.NewReplacer("<br>", "\n", "<br/>", "\n", "<br />", "\n", "</p>", "\n", "</div>", "\n", "&nbsp;", " ", "&lt;", "<", "&gt;", ">", "&#39;", "'", "&quot;", `"`, "&amp;", "&").Replace(s)
	return reTag().ReplaceAllString(s, "")
}

// Explained is a found reply with its explanation.
type Explained struct {
	Found
	Entries []Entry
	Hints   []Hint
}

// ExplainFound explains each found reply: a reply with Lookup, a bare
// Status as an enhanced code.
func ExplainFound(found []Found) []Explained {
	var out []Explained
	for _, f := range found {
		q := f.Reply
		if q == "" {
			q = f.Status
		}
		es, hs, err := Lookup(q)
		if err != nil {
			continue
		}
		out = append(out, Explained{Found: f, Entries: es, Hints: hs})
	}
	return out
}

// IsPaste reports whether text is more than one plain reply: DSN fields,
// an NDR's quote, or several replies, which FindReplies should take
// apart before each is explained.
func IsPaste(text string) bool {
	found := FindReplies(text)
	if len(found) > 1 {
		return true
	}
	return len(found) == 1 && found[0].Where != "reply"
}
