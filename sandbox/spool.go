package sandbox

import (
	"bytes"
	"io"
	"os"
)

// headBytes is how much of a message a session keeps in memory: enough
// for the header, where the Message-ID is. The rest streams to the save
// file, or nowhere, so a connection's memory does not grow with the
// message or with what a BDAT command announces.
const headBytes = 64 << 10

// spool receives one message as it arrives. It keeps the first headBytes
// in memory, within the sandbox-wide budget (Options.MaxMemoryBytes), and,
// when messages are saved, the whole message in a temporary file in the
// save directory that saveMessage renames into place. Past limit it keeps
// nothing more and only counts.
type spool struct {
	sb     *Sandbox
	head   []byte
	held   int64 // bytes of the memory budget this spool holds
	file   *os.File
	err    error // the first error writing file
	size   int64 // all of the message, also what was not kept
	limit  int64
	tooBig bool
}

func (s *Sandbox) newSpool(limit int64) *spool {
	return &spool{sb: s, limit: limit}
}

// Write never fails: a message over its limit, or a file that cannot be
// written, is answered when the message ends, after all of it was read.
func (sp *spool) Write(p []byte) (int, error) {
	n := len(p)
	sp.size += int64(n)
	if sp.tooBig {
		return n, nil
	}
	if sp.size > sp.limit {
		sp.tooBig = true
		sp.dropFile()
		return n, nil
	}
	if room := headBytes - len(sp.head); room > 0 {
		take := int64(min(room, n))
		if sp.sb.reserveMemory(take) {
			sp.held += take
			sp.head = append(sp.head, p[:take]...)
		}
	}
	if sp.sb.opts.SaveDir != "" && sp.err == nil {
		if sp.file == nil {
			sp.file, sp.err = os.CreateTemp(sp.sb.opts.SaveDir, ".incoming-*")
		}
		if sp.err == nil {
			_, sp.err = sp.file.Write(p)
		}
	}
	return n, nil
}

func (sp *spool) dropFile() {
	if sp.file != nil {
		sp.file.Close()
		os.Remove(sp.file.Name())
		sp.file = nil
	}
}

// release gives back the spool's memory and removes a file not saved.
func (sp *spool) release() {
	sp.dropFile()
	sp.sb.memoryInUse.Add(-sp.held)
	sp.held = 0
	sp.head = nil
}

// reserveMemory takes n bytes of the sandbox's memory budget for message
// heads, if there are n to take. Every connection's memory is bounded by
// itself; this bounds them together.
func (s *Sandbox) reserveMemory(n int64) bool {
	if s.memoryInUse.Add(n) > s.opts.MaxMemoryBytes {
		s.memoryInUse.Add(-n)
		return false
	}
	return true
}

// rewriteFrom replaces the message's From: header with the account's
// address in the save file, as Gmail does for a sender that is not the
// account. Nothing is saved, or the header is not wholly in the head, and
// nothing is changed; false then.
func (sp *spool) rewriteFrom(account string) bool {
	if sp.file == nil || sp.err != nil {
		return false
	}
	start, end, ok := fromHeaderSpan(sp.head)
	if !ok || int64(len(sp.head)) > sp.size {
		return false
	}
	line := "From: " + account + "\r\n"
	out, err := os.CreateTemp(sp.sb.opts.SaveDir, ".incoming-*")
	if err != nil {
		return false
	}
	_, err = out.Write(append(append(append([]byte(nil), sp.head[:start]...), line...), sp.head[end:]...))
	if err == nil {
		_, err = sp.file.Seek(int64(len(sp.head)), io.SeekStart)
	}
	if err == nil {
		_, err = io.Copy(out, sp.file)
	}
	if err != nil {
		out.Close()
		os.Remove(out.Name())
		return false
	}
	sp.dropFile()
	sp.file = out
	sp.size += int64(len(line) - (end - start))
	return true
}

// fromHeaderSpan is where the From: header (with its continuation lines)
// is in head, if the whole header section is there.
func fromHeaderSpan(head []byte) (start, end int, ok bool) {
	body := bytes.Index(head, []byte("\r\n\r\n"))
	if body < 0 {
		return 0, 0, false
	}
	for pos := 0; pos < body+2; {
		next := bytes.Index(head[pos:], []byte("\r\n")) + pos + 2
		name, _, found := bytes.Cut(head[pos:next], []byte(":"))
		if found && bytes.EqualFold(bytes.TrimRight(name, " \t"), []byte("From")) {
			for next < body+2 && (head[next] == ' ' || head[next] == '\t') {
				next = bytes.Index(head[next:], []byte("\r\n")) + next + 2
			}
			return pos, next, true
		}
		pos = next
	}
	return 0, 0, false
}
