package oauthsim

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hostile clients against the emulated endpoints: floods of grants with
// huge fields, dripping bodies, idle and excess connections. Each test is
// bounded in time; memory is measured where the attack is on memory.

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestGrantFloodIsBounded: 1500 device and 1500 authorization codes, each
// asked with a 60 KB scope, once took a serve from 15 MB to 293 MB (the
// codes live 10 to 15 minutes). Fields are capped, and so are the grants
// waiting at once; the log gets a truncated scope, never 60 KB of it.
func TestGrantFloodIsBounded(t *testing.T) {
	var mu sync.Mutex
	var logged int
	is := NewIssuer(Config{})
	// Connections refused for an oversized body linger a moment as the
	// server closes them: a cap for this test alone, not the one tested.
	srv := newLoopbackServer(t, is.Handler([]*Provider{gmail, office365}, func(_, line string) {
		mu.Lock()
		logged = max(logged, len(line))
		mu.Unlock()
	}), Limits{ReadTimeout: 10 * time.Second, IdleTimeout: 10 * time.Second, MaxConns: 10000})
	huge := strings.Repeat("x", 60000) // under the old 64 KiB body limit
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	before := heapInUse()
	statuses := map[int]int{}
	for i := 0; i < 1500; i++ {
		for _, req := range []struct {
			path string
			form url.Values
		}{
			{"/office365/devicecode", url.Values{"client_id": {"x"}, "scope": {huge}}},
			{"/gmail/authorize", url.Values{"client_id": {"x"}, "scope": {huge}, "response_type": {"code"}, "action": {"approve"},
				"redirect_uri": {"http://127.0.0.1:9/"}, "code_challenge": {"abc"}, "code_challenge_method": {"S256"}}},
		} {
			resp, err := client.PostForm(srv+req.path, req.form)
			if err != nil {
				// Cut off while still sending what is over the limit.
				statuses[0]++
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[resp.StatusCode]++
		}
	}
	grew := int64(heapInUse()) - int64(before)
	t.Logf("3000 requests with a 60 KB scope: heap grew %.1f MB; statuses %v", float64(grew)/(1<<20), statuses)
	if grew > 8<<20 {
		t.Errorf("heap grew %d MB", grew>>20)
	}
	if statuses[http.StatusBadRequest]+statuses[0] != 3000 {
		t.Errorf("a 60 KB scope was taken: statuses %v", statuses)
	}

	// Small fields, many grants: capped too, with an answer that says so.
	statuses = map[int]int{}
	for i := 0; i < maxPending+50; i++ {
		resp, err := client.PostForm(srv+"/office365/devicecode", url.Values{"client_id": {"x"}, "scope": {"mail"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		statuses[resp.StatusCode]++
		if resp.StatusCode == http.StatusServiceUnavailable && !strings.Contains(string(b), "temporarily_unavailable") {
			t.Errorf("the refusal is not an OAuth error: %s", b)
		}
	}
	if statuses[http.StatusOK] != maxPending || statuses[http.StatusServiceUnavailable] != 50 {
		t.Errorf("pending grants: statuses %v, want %d taken", statuses, maxPending)
	}
	mu.Lock()
	defer mu.Unlock()
	if logged > 300 {
		t.Errorf("a log line of %d bytes", logged)
	}
}

// testLimits are short, so that the tests of the mechanism are quick.
var testLimits = Limits{ReadTimeout: time.Second, IdleTimeout: time.Second, MaxConns: 20}

func newLoopbackServer(t *testing.T, h http.Handler, lim Limits) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, lim)
	go srv.Serve(LimitListener(l, lim.MaxConns))
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}

// closedWithin says whether the server closes c within d, reading (and
// dropping) whatever it sends.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	ne, ok := err.(net.Error)
	return !(ok && ne.Timeout())
}

// TestSlowAndIdleClientsAreDropped: a body dripping a byte a second and
// an idle keep-alive connection were both held 45 s; the server's read
// and idle timeouts end them.
func TestSlowAndIdleClientsAreDropped(t *testing.T) {
	is := NewIssuer(Config{})
	base := newLoopbackServer(t, is.Handler([]*Provider{office365}, nil), testLimits)
	addr := strings.TrimPrefix(base, "http://")

	drip, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer drip.Close()
	fmt.Fprintf(drip, "POST /office365/devicecode HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
				if _, err := drip.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
	start := time.Now()
	if !closedWithin(drip, 5*time.Second) {
		t.Errorf("a dripping body was still held after 5 s")
	}
	t.Logf("dripping body dropped after %v", time.Since(start).Round(time.Millisecond))

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "POST /office365/devicecode HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\nclient_id=x")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("request on the idle connection: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	if !closedWithin(idle, 5*time.Second) {
		t.Errorf("an idle keep-alive connection was still held after 5 s")
	}
}

// TestConnectionsAreCapped: past the cap, a connection gets 503 and is
// closed, rather than 1500 idle ones all being held.
func TestConnectionsAreCapped(t *testing.T) {
	is := NewIssuer(Config{})
	base := newLoopbackServer(t, is.Handler([]*Provider{office365}, nil), testLimits)
	addr := strings.TrimPrefix(base, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(100 * time.Millisecond) // all accepted
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetReadDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(extra).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 503") {
		t.Errorf("the 21st connection: %q %v", line, err)
	}
	// A place freed is taken again.
	conns[0].Close()
	time.Sleep(100 * time.Millisecond)
	resp, err := http.PostForm(base+"/office365/devicecode", url.Values{"client_id": {"x"}})
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("after a place was freed: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestDefaultLimits: the defaults serve uses are tight enough to matter.
func TestDefaultLimits(t *testing.T) {
	d := DefaultLimits
	if d.ReadTimeout <= 0 || d.ReadTimeout > 15*time.Second || d.IdleTimeout <= 0 || d.IdleTimeout > time.Minute || d.MaxConns <= 0 || d.MaxConns > 1000 {
		t.Errorf("defaults %+v", d)
	}
}
