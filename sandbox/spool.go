package sandbox

import "os"

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
