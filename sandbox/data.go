package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// messageLimit is the most the session stores of one message: the
// announced SIZE, or the sandbox's memory cap if that is smaller.
func (ss *session) messageLimit() int64 {
	return min(ss.sizeLimit(), ss.sb.opts.MaxMessageBytes)
}

// cmdData: DATA (RFC 5321 4.1.1.4).
func (ss *session) cmdData(arg string) {
	if arg != "" {
		ss.reply("syntax")
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
	msg, err := ss.readData(ss.messageLimit())
	if err != nil {
		ss.readFailed(err, "during DATA")
		return
	}
	e := ss.event(LineReceived, ".")
	e.Bytes = msg.size
	ss.sb.observe(e)
	if msg.bareLF && ss.p.BareLF == "reject" {
		// Postfix's smtpd_forbid_bare_newline=reject (the SMTP smuggling
		// fix): refuse the message and hang up.
		ss.reply("bare_lf")
		ss.hangUp(errors.New("bare LF in message data"))
		return
	}
	ss.finishMessage(msg.data, msg.size, msg.tooBig)
}

// finishMessage answers the end of a message, from DATA or BDAT LAST.
func (ss *session) finishMessage(data []byte, size int64, tooBig bool) {
	defer ss.resetTransaction()
	if tooBig {
		ss.reply("message_too_big")
		return
	}
	if hook := ss.hooks().message; hook != nil && hook(ss, size) {
		return
	}
	ss.msgVars = map[string]string{"message_id": messageID(data)}
	for _, v := range ss.p.MessageVars {
		ss.msgVars[v.name] = expand(v.value, lookupIn(ss.msgVars, ss.vars), ss.sb.randomString)
	}
	if ss.msgVars["message_id"] == "" {
		ss.msgVars["message_id"] = ss.sb.randomString(randomClasses["hex"], 32) + "@" + ss.vars["server"]
	}
	path, err := ss.sb.saveMessage(ss.p.Name, ss.msgVars["queue_id"], data)
	if err != nil {
		ss.emit(Note, "could not save the message: "+err.Error())
		ss.reply("save_failed")
		return
	}
	e := ss.event(MessageReceived, ss.msgVars["queue_id"])
	e.Bytes = size
	e.Path = path
	ss.sb.observe(e)
	ss.errors = 0
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
	data   []byte
	size   int64 // all of it, also what was not kept
	tooBig bool
	bareLF bool
}

// readData reads message content up to the line "." (RFC 5321 4.1.1.4),
// undoing dot-stuffing (4.5.2). It keeps at most limit bytes; the rest is
// read and counted but not kept. A bare LF is noted, and stored as CRLF.
// A line "." ended by a bare LF also ends the message, as for Postfix in
// its default mode.
func (ss *session) readData(limit int64) (message, error) {
	var m message
	var buf bytes.Buffer
	atStart := true
	var last byte = '\n'
	for {
		ss.setReadDeadline()
		chunk, err := ss.r.ReadSlice('\n')
		if n := len(chunk); n > 0 {
			complete := chunk[n-1] == '\n'
			if atStart && complete && (string(chunk) == ".\r\n" || string(chunk) == ".\n") {
				m.bareLF = m.bareLF || string(chunk) == ".\n"
				m.data = buf.Bytes()
				return m, nil
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
					data = append(data[:len(data)-1:len(data)-1], '\r', '\n')
				}
			}
			m.size += int64(len(data))
			if m.size > limit {
				if !m.tooBig {
					buf = bytes.Buffer{}
				}
				m.tooBig = true
			} else {
				buf.Write(data)
			}
			atStart = complete
			last = chunk[n-1]
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return m, err
		}
	}
}

// cmdBdat: BDAT size [LAST] (RFC 3030). The chunk is always read, even
// when it will be refused, or its bytes would be taken for commands.
func (ss *session) cmdBdat(arg string) {
	f := strings.Fields(arg)
	var size int64 = -1
	if len(f) >= 1 {
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil && n >= 0 {
			size = n
		}
	}
	if size < 0 || len(f) > 2 || len(f) == 2 && !strings.EqualFold(f[1], "LAST") {
		ss.reply("syntax")
		return
	}
	last := len(f) == 2
	ss.cmdVars["octets"] = strconv.FormatInt(size, 10)
	limit := ss.messageLimit()
	keep := ss.inTx && len(ss.rcpts) > 0 && ss.bdatSize+size <= limit
	if keep {
		ss.bdat = append(ss.bdat, make([]byte, size)...)
		chunk := ss.bdat[len(ss.bdat)-int(size):]
		ss.setReadDeadline()
		if _, err := io.ReadFull(ss.r, chunk); err != nil {
			ss.readFailed(err, "during BDAT")
			return
		}
	} else {
		ss.setReadDeadline()
		if _, err := io.CopyN(io.Discard, ss.r, size); err != nil {
			ss.readFailed(err, "during BDAT")
			return
		}
		ss.bdat = nil
	}
	e := ss.event(LineReceived, fmt.Sprintf("(BDAT chunk, %d bytes)", size))
	e.Bytes = size
	ss.sb.observe(e)
	if !ss.inTx || len(ss.rcpts) == 0 {
		ss.reply("need_rcpt")
		return
	}
	ss.bdatSize += size
	if ss.bdatSize > limit {
		// Refuse at the chunk that overflows; later chunks find no
		// transaction (RFC 3030 allows an error reply to any chunk).
		ss.finishMessage(nil, ss.bdatSize, true)
		return
	}
	if !last {
		ss.reply("bdat_chunk")
		return
	}
	ss.finishMessage(ss.bdat, ss.bdatSize, false)
}
