package engine_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// TestLeanRun: in lean mode a run reports its connection, handshake and
// each reply's verb, code and time, and nothing of the transcript: no
// step, line or content events, no outcomes.
func TestLeanRun(t *testing.T) {
	g := smtptest.Start(t, false)
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}
	rec, res, err := runSrc(t, strings.ReplaceAll(submission, "${MECH}", "plain"), engine.WithRootCAs(g.PKI.Pool),
		engine.WithVars(vars), engine.WithLean(true))
	if err != nil {
		t.Fatal(err)
	}
	var verbs []string
	for _, ev := range rec.events {
		switch e := ev.(type) {
		case engine.ReplyTime:
			if e.Took <= 0 || e.Code < 200 {
				t.Errorf("reply time %+v", e)
			}
			verbs = append(verbs, e.Verb)
		case engine.Connected, engine.TLSEstablished, engine.Closed:
		default:
			t.Errorf("lean run reported %T", ev)
		}
	}
	want := "(greeting) EHLO STARTTLS EHLO AUTH MAIL RCPT DATA (message) QUIT"
	if got := strings.Join(verbs, " "); got != want {
		t.Errorf("verbs %s\nwant  %s", got, want)
	}
	if len(res.Outcomes) != 0 || res.Messages != 1 || res.Replies != 10 {
		t.Errorf("outcomes %d, messages %d, replies %d", len(res.Outcomes), res.Messages, res.Replies)
	}
}

// replyTimer takes lean reply times by value, as load mode's workers do,
// and counts anything else it is sent.
type replyTimer struct {
	times  []engine.ReplyTime
	others []engine.Event
}

func (r *replyTimer) ReplyTime(e engine.ReplyTime) { r.times = append(r.times, e) }
func (r *replyTimer) Event(e engine.Event)         { r.others = append(r.others, e) }

// TestLeanReplyTimer: an observer that is an engine.ReplyTimer gets every
// reply time through ReplyTime, masked as the Event it replaces would
// be, and the other events as before. AUTH LOGIN's SASL lines are
// secrets the engine answers 334s with, so their "verbs" must not leak.
func TestLeanReplyTimer(t *testing.T) {
	g := smtptest.Start(t, false)
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}
	src := strings.ReplaceAll(submission, "${MECH}", "login")
	rec, _, err := runSrc(t, src, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars), engine.WithLean(true))
	if err != nil {
		t.Fatal(err)
	}
	rt := &replyTimer{}
	if _, _, err := runSrc(t, src, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars), engine.WithLean(true),
		engine.WithObserver(rt)); err != nil {
		t.Fatal(err)
	}
	var viaEvents, others []string
	for _, ev := range rec.events {
		if e, ok := ev.(engine.ReplyTime); ok {
			viaEvents = append(viaEvents, e.Verb)
		} else {
			others = append(others, fmt.Sprintf("%T", ev))
		}
	}
	var direct, rtOthers []string
	for _, e := range rt.times {
		if e.Took <= 0 || e.Code < 200 {
			t.Errorf("reply time %+v", e)
		}
		direct = append(direct, e.Verb)
	}
	for _, ev := range rt.others {
		if _, ok := ev.(engine.ReplyTime); ok {
			t.Errorf("a ReplyTimer was sent a ReplyTime as an Event")
		}
		rtOthers = append(rtOthers, fmt.Sprintf("%T", ev))
	}
	if strings.Join(direct, " ") != strings.Join(viaEvents, " ") || len(direct) < 10 {
		t.Errorf("verbs through ReplyTime: %q\nthrough Event: %q", direct, viaEvents)
	}
	if strings.Join(rtOthers, " ") != strings.Join(others, " ") {
		t.Errorf("other events %v, want %v", rtOthers, others)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(g.Password))
	for _, v := range direct {
		if strings.Contains(v, g.Password) || strings.Contains(v, b64) {
			t.Errorf("a reply time names the secret: %q", v)
		}
	}
}
