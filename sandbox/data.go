package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// messageLimit is the largest message the session accepts: the announced
// SIZE, or Options.MaxMessageBytes if that is set and smaller. (An
// internal 64 MiB cap once refused 70 MB at Microsoft 365, which
// announces 150 MiB.)
func (ss *session) messageLimit() int64 {
	if m := ss.sb.opts.MaxMessageBytes; m > 0 {
		return min(ss.sizeLimit(), m)
	}
	return ss.sizeLimit()
}

// cmdData: DATA (RFC 5321 4.1.1.4).
func (ss *session) cmdData(arg string) {
	if arg != "" {
		ss.reply("syntax")
		return
	}
	if ss.requireTLS() && !ss.tls && ss.p.TLSGatesTransaction {
		ss.diagnoseOnce("before_starttls", "DATA")
		ss.reply("must_starttls")
		return
	}
	if ss.inTx && len(ss.rcpts) == 0 && ss.rcptTried && ss.p.AuthAtRcpt {
		ss.reply("no_valid_recipients")
		return
	}
	if !ss.inTx || len(ss.rcpts) == 0 {
		ss.reply("need_rcpt")
		return
	}
	ss.reply("data_start")
	if ss.stop {
		return
	}
	ss.spool = ss.sb.newSpool(ss.messageLimit())
	if ss.co.on {
		ss.data = ss.newDataCoach()
	}
	msg, err := ss.readData(ss.spool)
	if err != nil {
		ss.readFailed(err, "during DATA")
		return
	}
	if ss.data != nil {
		if ss.data.stuckSaid {
			ss.withdraw("stuck_in_data", "the message did end")
		}
		ss.data.end()
		ss.data = nil
	}
	if ss.rec != nil {
		ss.rec.endData(msg.final)
	}
	e := ss.event(LineReceived, ".")
	e.Bytes = ss.spool.size
	ss.sb.observe(e)
	if msg.bareLF && (ss.p.BareLF == "reject" || ss.hooks().strict) {
		// Postfix's smtpd_forbid_bare_newline=reject (the SMTP smuggling
		// fix): refuse the message and hang up.
		ss.reply("bare_lf")
		ss.hangUp(errors.New("bare LF in message data"))
		return
	}
	ss.finishMessage(ss.spool)
}

// finishMessage answers the end of a message, from DATA or BDAT LAST.
// The spool is the session's; it is released here.
func (ss *session) finishMessage(sp *spool) {
	defer ss.resetTransaction()
	if sp.tooBig {
		ss.reply("message_too_big")
		return
	}
	if ss.faultedMessage(sp.size) {
		return
	}
	if hook := ss.hooks().message; hook != nil && hook(ss, sp.size) {
		return
	}
	if ss.identityAtMessage(sp) {
		return
	}
	if ss.refusedByQuota(len(ss.rcpts)) {
		return
	}
	// The Message-ID is echoed in Office 365's reply: nothing a terminal
	// would act on.
	ss.msgVars = map[string]string{"message_id": replySafe(messageID(sp.head))}
	for _, v := range ss.p.MessageVars {
		ss.msgVars[v.name] = expand(v.value, lookupIn(ss.msgVars, ss.vars), ss.sb.randomString)
	}
	if ss.msgVars["message_id"] == "" {
		ss.msgVars["message_id"] = ss.sb.randomString(randomClasses["hex"], 32) + "@" + ss.vars["server"]
	}
	path, err := ss.sb.saveMessage(ss.p.Name, ss.msgVars["queue_id"], sp, ss.envelope(sp.size))
	if err != nil {
		// Before the reply: a client that reads it may look at once.
		sp.dropFile()
	}
	var quota *quotaError
	switch {
	case errors.As(err, &quota):
		ss.emit(Note, "not saved: "+quota.Error())
		ss.send(quota.reply(), quota.reason())
		return
	case err != nil:
		ss.emit(Note, "could not save the message: "+err.Error())
		ss.reply("save_failed")
		return
	}
	e := ss.event(MessageReceived, ss.msgVars["queue_id"])
	e.Bytes = sp.size
	e.Path = path
	ss.sb.observe(e)
	ss.errors = 0
	ss.praise("message delivered")
	ss.reply("data_ok")
}

// messageID returns the message's Message-ID without <>, or "".
func messageID(data []byte) string {
	for len(data) > 0 {
		line := data
		next := len(data)
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, next = data[:i], i+1
		}
		data = data[next:]
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break // end of the header
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && strings.EqualFold(string(name), "Message-ID") {
			id := strings.TrimSpace(string(value))
			id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
			if !strings.ContainsAny(id, "<> \t\r\n") {
				return id
			}
		}
	}
	return ""
}

type message struct {
	bareLF bool
	final  string // the line that ended the message: ".\r\n" or ".\n"
}

// readData reads message content up to the line "." (RFC 5321 4.1.1.4),
// undoing dot-stuffing (4.5.2), into sp, which keeps what fits its limit
// and counts the rest. A bare LF is noted, and stored as CRLF. A line "."
// ended by a bare LF also ends the message, as for Postfix in its default
// mode.
func (ss *session) readData(sp *spool) (message, error) {
	var m message
	atStart := true
	var last byte = '\n'
	// With the coach on, the line being read as sent (to check it whole),
	// at most a little over 998 octets of it, and its length.
	var wire []byte
	var wireLen int
	for {
		idle := ss.setReadDeadline()
		watch := ss.data != nil && !ss.data.stuckSaid
		if watch {
			after := ss.sb.opts.StuckAfter
			if after <= 0 {
				after = defaultStuckAfter
			}
			if t := time.Now().Add(after); t.Before(idle) {
				ss.conn.SetReadDeadline(t)
			}
		}
		chunk, err := ss.r.ReadSlice('\n')
		if watch && isTimeout(err) && time.Now().Before(idle) {
			// No progress for StuckAfter: say so once per message, then
			// wait as long as ever for the rest.
			ss.data.stuck()
			err = nil
			if len(chunk) == 0 {
				continue
			}
		}
		if n := len(chunk); n > 0 {
			complete := chunk[n-1] == '\n'
			if ss.rec != nil {
				ss.rec.recordData(chunk)
			}
			if atStart && complete && (string(chunk) == ".\r\n" || string(chunk) == ".\n") {
				m.bareLF = m.bareLF || string(chunk) == ".\n"
				m.final = string(chunk)
				if ss.rec != nil {
					// The final dot is the message step's, not content.
					ss.rec.data.Truncate(max(0, ss.rec.data.Len()-n))
				}
				return m, nil
			}
			if ss.data != nil {
				if room := 1002 - len(wire); room > 0 {
					wire = append(wire, chunk[:min(room, n)]...)
				}
				wireLen += n
				if complete {
					prev := last
					if n >= 2 {
						prev = chunk[n-2]
					}
					lf := prev != '\r'
					length := wireLen - 1
					if !lf {
						length--
					}
					text := wire[:min(len(wire), length)]
					ss.data.line(text, length, lf, bytes.IndexByte(text, '\r') >= 0)
					wire, wireLen = wire[:0], 0
				}
			}
			data := chunk
			if atStart && data[0] == '.' {
				data = data[1:]
			}
			if complete {
				prev := last
				if n >= 2 {
					prev = chunk[n-2]
				}
				if prev != '\r' {
					m.bareLF = true
					sp.Write(data[:len(data)-1])
					data = crlf
				}
			}
			sp.Write(data)
			atStart = complete
			last = chunk[n-1]
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && ss.data != nil && wireLen > 0 {
				// A last line without its line ending: it counts.
				ss.data.line(wire, wireLen, false, false)
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return m, err
		}
	}
}

var crlf = []byte("\r\n")

// cmdBdat: BDAT size [LAST] (RFC 3030). The chunk is always read, even
// when it will be refused, or its bytes would be taken for commands. It is
// read in pieces as it arrives, never into a buffer sized from the
// client's number: "BDAT 67108864 LAST" and no data once made the server
// allocate 64 MiB per connection.
func (ss *session) cmdBdat(arg string) {
	size, last, ok := parseBdat(arg)
	if !ok {
		ss.reply("syntax")
		return
	}
	ss.cmdVars["octets"] = strconv.FormatInt(size, 10)
	ready := ss.inTx && len(ss.rcpts) > 0
	if ready && ss.spool == nil {
		ss.spool = ss.sb.newSpool(ss.messageLimit())
	}
	var dst io.Writer = io.Discard
	if ready {
		dst = ss.spool
	}
	if _, err := io.CopyN(dst, idleReader{ss}, size); err != nil {
		ss.readFailed(err, "during BDAT")
		return
	}
	e := ss.event(LineReceived, fmt.Sprintf("(BDAT chunk, %d bytes)", size))
	e.Bytes = size
	ss.sb.observe(e)
	if !ready {
		ss.reply("need_rcpt")
		return
	}
	if ss.spool.tooBig {
		// Refuse at the chunk that overflows; later chunks find no
		// transaction (RFC 3030 allows an error reply to any chunk).
		ss.finishMessage(ss.spool)
		return
	}
	if !last {
		ss.reply("bdat_chunk")
		return
	}
	ss.finishMessage(ss.spool)
}

// idleReader reads from the session with the idle deadline renewed for
// every read, as DATA does for every line: a large chunk that keeps
// arriving is not cut off, one that stalls is (and the session's own
// maximum length bounds a client that drips).
type idleReader struct{ ss *session }

func (r idleReader) Read(p []byte) (int, error) {
	r.ss.setReadDeadline()
	return r.ss.r.Read(p)
}

// parseBdat parses "size [LAST]". A size that is not a decimal number of
// at most 18 digits (so that no sum of chunk sizes can overflow an int64)
// is a syntax error, as RFC 3030's chunk-size = 1*DIGIT within reason.
func parseBdat(arg string) (size int64, last, ok bool) {
	f := strings.Fields(arg)
	if len(f) < 1 || len(f) > 2 || len(f) == 2 && !strings.EqualFold(f[1], "LAST") {
		return 0, false, false
	}
	if len(f[0]) > 18 || strings.TrimLeft(f[0], "0123456789") != "" {
		return 0, false, false
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, false, false
	}
	return n, len(f) == 2, true
}
