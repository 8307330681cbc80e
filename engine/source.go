package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/internal/safefile"
)

// MaxStreamedMessage bounds a message read from a pipe, a FIFO or a
// device, which is read once into memory (it cannot be read twice, once
// to check and once to send): `message file "/dev/stdin"` fed by `yes`
// ends here instead of filling memory. Regular files are streamed and not
// bounded.
const MaxStreamedMessage = 64 << 20

// maxStreamedMessage is MaxStreamedMessage, lowered by tests.
var maxStreamedMessage = MaxStreamedMessage

// source is where message content comes from: opened once per pass.
type source struct {
	open  func() (io.ReadCloser, error)
	where string // the file, or "" for inline content
}

// messageSource returns the content's source. A regular file is opened
// for each pass (check, then send). Anything else (a pipe, a FIFO,
// /dev/stdin) is read once, here, into memory: read twice, the second
// pass met an empty pipe and sent an empty message reported as success.
// Opening and reading honour ctx and the timeout: a FIFO nobody writes to
// must not hang the run past --timeout or an interrupt.
func (ss *session) messageSource(ctx context.Context, m *dsl.Message) (*source, error) {
	if m.Inline != nil {
		content, err := m.Inline.Expand(ss.e.vars)
		if err != nil {
			return nil, err
		}
		return memorySource(content, ""), nil
	}
	p, err := m.File.Expand(ss.e.vars)
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(p) {
		// Relative to the script, wherever smtprun was started.
		p = filepath.Join(filepath.Dir(ss.prog.File()), p)
	}
	fileErr := func(label string) error {
		return &dsl.Error{Pos: m.File.Pos(), Span: m.File.Span(), Title: "cannot read message file", Label: label}
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fileErr(strings.TrimPrefix(err.Error(), "stat "))
	}
	if fi.Mode().IsRegular() {
		return &source{open: func() (io.ReadCloser, error) {
			f, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			return &ctxReader{ctx: ctx, f: f}, nil
		}, where: p}, nil
	}
	if fi.IsDir() {
		return nil, fileErr(p + " is a directory")
	}
	pos, span := m.File.Pos(), m.File.Span()
	f, err := safefile.OpenWaiting(ctx, p, ss.e.timeout)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, &TimeoutError{Pos: pos, Span: span, Op: "writer to open " + p, After: ss.e.timeout}
		}
		return nil, fileErr(err.Error())
	}
	defer f.Close()
	content, err := safefile.ReadAll(ctx, f, int64(maxStreamedMessage), ss.e.timeout)
	var tooBig *safefile.LimitError
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &tooBig):
		return nil, fileErr(fmt.Sprintf("%s gave more than %d MiB; a message read from a pipe or device is held in memory and bounded there (use a regular file)",
			p, maxStreamedMessage>>20))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, &TimeoutError{Pos: pos, Span: span, Op: "message data from " + p, After: ss.e.timeout}
	case err != nil:
		return nil, fileErr(err.Error())
	}
	return memorySource(string(content), p), nil
}

func memorySource(content, where string) *source {
	return &source{open: func() (io.ReadCloser, error) { return stringSource{strings.NewReader(content)}, nil }, where: where}
}

// ctxReader stops reading a regular file once the run is interrupted.
type ctxReader struct {
	ctx context.Context
	f   *os.File
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.f.Read(p)
}

func (r *ctxReader) Close() error { return r.f.Close() }

// size is the content's length, for BDAT: from the open file for a
// regular one, from the content otherwise.
func sourceSize(r io.ReadCloser) (int64, error) {
	switch r := r.(type) {
	case *ctxReader:
		fi, err := r.f.Stat()
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	case stringSource:
		return r.Size(), nil
	}
	return 0, errors.New("unknown source")
}
