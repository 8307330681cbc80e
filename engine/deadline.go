package engine

import (
	"errors"
	"time"
)

// writeChunk is how much one write hands the connection. Each chunk gets
// its own deadline, so --timeout bounds every wait for the server to take
// data (a server that never reads fails after one timeout) without
// bounding a large message that is flowing, however slowly.
const writeChunk = 64 << 10

// errInterrupted ends a write the interrupt has cut short; Run reports
// ctx.Err() instead.
var errInterrupted = errors.New("interrupted")

// deadlineWriter is what the session's buffered writer writes to. Before,
// the deadline was set only by flush, and bufio.Writer hands a write
// larger than its buffer straight to the connection: a 20 MB send line to
// a server that never reads blocked far beyond --timeout, and a BDAT
// chunk inherited a deadline set for an earlier flush.
type deadlineWriter struct{ ss *session }

func (d deadlineWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		conn := d.ss.conn
		if conn == nil {
			return written, errInterrupted
		}
		conn.SetWriteDeadline(time.Now().Add(d.ss.e.timeout))
		// Checked after the deadline is set: an interrupt that came
		// before is seen here, one that comes after sets its own past
		// deadline over this one.
		if d.ss.interrupted.Load() {
			return written, errInterrupted
		}
		n, err := conn.Write(p[:min(len(p), writeChunk)])
		written += n
		p = p[n:]
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// setReadDeadline is conn.SetReadDeadline that an interrupt cannot lose
// to: see deadlineWriter.
func (ss *session) setReadDeadline(t time.Time) {
	ss.conn.SetReadDeadline(t)
	if ss.interrupted.Load() {
		ss.conn.SetReadDeadline(time.Unix(1, 0))
	}
}
