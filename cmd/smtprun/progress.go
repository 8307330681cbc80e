package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"

	"github.com/smtprun/smtprun/load"
)

// showProgress draws load mode's progress on a terminal: one line that
// rewrites itself in place and always fits the terminal's width (read
// again at every redraw, so a resized window is followed), cleared before
// the summary. Anywhere else (a pipe, a CI log, TERM=dumb) it draws
// nothing: the summary is the whole output, as with curl -s.
func showProgress(w io.Writer, r *load.Runner, done <-chan struct{}) {
	f, ok := w.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) || os.Getenv("TERM") == "dumb" {
		<-done
		return
	}
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	draw := func() {
		width, _, err := term.GetSize(int(f.Fd()))
		if err != nil || width <= 0 {
			width = 80
		}
		// \r returns to the line's start and \x1b[K clears what a longer
		// line drawn before left behind.
		fmt.Fprintf(f, "\r%s\x1b[K", progressLine(r.Progress(), width))
	}
	draw()
	for {
		select {
		case <-done:
			fmt.Fprint(f, "\r\x1b[K")
			return
		case <-t.C:
			draw()
		}
	}
}

var progressEvery = 200 * time.Millisecond

// progressLine is one line of progress in at most width-1 columns (a
// character in the last column makes some terminals wrap). The parts go
// in order of importance, and those that do not fit are left out, the
// bar first: counts, then the share done, errors, rate and time.
//
//	load [########......] 544/1500 36% 0 errors 272/s 2s, 4s left
func progressLine(p load.Progress, width int) string {
	frac, count := -1.0, fmt.Sprintf("%d done", p.Done)
	if p.Planned > 0 {
		frac = float64(p.Done) / float64(p.Planned)
		count = fmt.Sprintf("%d/%d", p.Done, p.Planned)
	} else if p.Duration > 0 {
		frac = min(1, p.Elapsed.Seconds()/p.Duration.Seconds())
	}
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Done) / s
	}
	clock := roundSecond(p.Elapsed).String()
	if left := remaining(p, rate); left >= 0 {
		clock += ", " + roundSecond(left).String() + " left"
	}
	parts := []string{count}
	if frac >= 0 {
		parts = append(parts, fmt.Sprintf("%d%%", int(frac*100)))
	}
	errs := fmt.Sprintf("%d errors", p.Failed)
	if p.Failed == 1 {
		errs = "1 error"
	}
	parts = append(parts, errs, fmt.Sprintf("%.0f/s", rate), clock)

	budget := width - 1
	line := "load"
	used := 0
	var fitted []string
	for _, part := range parts {
		if utf8.RuneCountInString(line)+used+1+utf8.RuneCountInString(part) > budget {
			break
		}
		fitted = append(fitted, part)
		used += 1 + utf8.RuneCountInString(part)
	}
	tail := strings.Join(fitted, " ")
	if frac >= 0 {
		// The bar takes what is left, between 10 and 40 columns.
		room := budget - utf8.RuneCountInString(line) - 1 - utf8.RuneCountInString(tail) - 1 - 2
		if room >= 10 {
			room = min(room, 40)
			filled := int(frac * float64(room))
			line += " [" + strings.Repeat("#", filled) + strings.Repeat(".", room-filled) + "]"
		}
	}
	if tail != "" {
		line += " " + tail
	}
	if utf8.RuneCountInString(line) > budget {
		line = string([]rune(line)[:max(0, budget)])
	}
	return line
}

func roundSecond(d time.Duration) time.Duration {
	return d.Round(time.Second)
}

// remaining estimates the time left, or -1 when nobody can tell yet.
func remaining(p load.Progress, rate float64) time.Duration {
	left := time.Duration(-1)
	if p.Duration > 0 {
		left = max(0, p.Duration-p.Elapsed)
	}
	if p.Planned > 0 && rate > 0 {
		byCount := time.Duration(float64(int64(p.Planned)-p.Done) / rate * float64(time.Second))
		if left < 0 || byCount < left {
			left = byCount
		}
	}
	return left
}
