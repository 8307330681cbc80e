package safefile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// LimitError is an input larger than the limit for its kind: /dev/zero
// named as a script ends here instead of in all of memory.
type LimitError struct {
	Path  string
	Limit int64
	Kind  string // what the file is for ("a script"); "" for "it"
}

func (e *LimitError) Error() string {
	kind := e.Kind
	if kind == "" {
		kind = "it"
	}
	return fmt.Sprintf("%s is larger than %s, the limit for %s", e.Path, Size(e.Limit), kind)
}

// waitError is a timeout that says what was waited for.
type waitError struct{ msg string }

func (e *waitError) Error() string { return e.msg }
func (e *waitError) Unwrap() error { return os.ErrDeadlineExceeded }

// Size prints a limit as people write it: 64 MiB, 512 KiB.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Read reads the file at path, at most limit bytes, within timeout for
// the open (a FIFO waits there for a writer) and for each read, and
// until ctx is done (then it returns ctx.Err()). A timeout is an error
// wrapping os.ErrDeadlineExceeded that says what was waited for.
func Read(ctx context.Context, path string, limit int64, timeout time.Duration) ([]byte, error) {
	f, err := OpenWaiting(ctx, path, timeout)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, &waitError{fmt.Sprintf("%s: no writer opened it within %v", path, timeout)}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := ReadAll(ctx, f, limit, timeout)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, &waitError{fmt.Sprintf("%s: no data within %v", path, timeout)}
	}
	return b, err
}

// OpenWaiting opens a file for reading that may block in open(2), as a
// FIFO does until a writer comes, within timeout and until ctx is done
// (os.ErrDeadlineExceeded, ctx.Err()). Go cannot cancel a blocked open,
// so it runs aside; giving up, the FIFO is opened for writing
// (non-blocking), which completes the blocked open so the file can be
// closed rather than leaked.
func OpenWaiting(ctx context.Context, path string, timeout time.Duration) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		return os.Open(path) // never blocks
	}
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var err error
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = os.ErrDeadlineExceeded
	}
	if w, werr := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); werr == nil {
		w.Close()
	}
	go func() {
		if o := <-ch; o.f != nil {
			o.f.Close()
		}
	}()
	return nil, err
}

// ReadAll reads f to its end, at most limit bytes (more is a
// *LimitError), each read within timeout (os.ErrDeadlineExceeded) and
// until ctx is done (ctx.Err()). A file that cannot take deadlines
// (a regular file, /dev/zero) never blocks for long anyway.
func ReadAll(ctx context.Context, f *os.File, limit int64, timeout time.Duration) ([]byte, error) {
	// Read straight into the buffer's spare room, as io.ReadAll does:
	// /dev/zero behind a 64 MiB limit is copied once, not twice. A
	// regular file's buffer is its size (one more byte to see its end):
	// fresh memory costs a page fault per 4 KiB, and a 64 KiB buffer for
	// a 300-byte script was a tenth of a script's parse. A regular file
	// never blocks, so it needs no deadline and nothing watching ctx.
	size := int64(64 << 10)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size() + 1
	} else {
		stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	buf := make([]byte, 0, min(limit+1, size))
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := buf[len(buf):min(int64(cap(buf)), limit+1)]
		f.SetReadDeadline(time.Now().Add(timeout))
		n, err := f.Read(room)
		buf = buf[:len(buf)+n]
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if int64(len(buf)) > limit {
			return nil, &LimitError{Path: f.Name(), Limit: limit}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
