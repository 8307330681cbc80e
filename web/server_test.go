package web

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestServerBounds: the page carries its policy, a body past the limit
// is refused, the token is not given to another site, and a live stream
// past the limit gets 503 while the first keeps working.
func TestServerBounds(t *testing.T) {
	s := New(Config{Limits: Limits{SSEClients: 1, BodyBytes: 1024}})
	srv := httptest.NewServer(s)
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second}

	resp, err := client.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("the page's headers: %v", resp.Header)
	}

	big := `{"plans":["` + strings.Repeat("x", 4096) + `"]}`
	req, _ := http.NewRequest("PUT", srv.URL+"/api/v1/faults", strings.NewReader(big))
	req.Header.Set(TokenHeader, s.Token())
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(s.faults.List()) != 0 {
		t.Errorf("a 4 KiB body past the 1 KiB limit: %d, plans %v", resp.StatusCode, s.faults.List())
	}

	req, _ = http.NewRequest("GET", srv.URL+"/api/v1/token", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("the token asked for by another site: %d %v", resp.StatusCode, resp.Header)
	}

	first, err := http.Get(srv.URL + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Body.Close()
	r := bufio.NewReader(first.Body)
	if line, _ := r.ReadString('\n'); line != "retry: 1000\n" {
		t.Fatalf("the stream began %q", line)
	}
	second, err := client.Get(srv.URL + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	second.Body.Close()
	if second.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a second stream past the limit of 1: %d", second.StatusCode)
	}
	req, _ = http.NewRequest("DELETE", srv.URL+"/api/v1/faults", nil)
	req.Header.Set(TokenHeader, s.Token())
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /api/v1/faults: %v %v", resp, err)
	}
	r.ReadString('\n') // the blank line after retry
	done := make(chan string, 1)
	go func() {
		ev, _ := r.ReadString('\n')
		data, _ := r.ReadString('\n')
		done <- ev + data
	}()
	select {
	case got := <-done:
		if got != "event: change\ndata: {\"kind\":\"faults\"}\n" {
			t.Errorf("the first stream got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the first stream did not get the change")
	}
}

// TestAssetsSelfContained: the page, its script and style name nothing
// outside the server (no CDN, no fonts), so the page works offline and
// tells nobody it was opened.
func TestAssetsSelfContained(t *testing.T) {
	for _, name := range []string{"assets/index.html", "assets/app.js", "assets/app.css"} {
		data, err := assets.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"http:", "https:", "//cdn", "@import", "url(", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
			if strings.Contains(string(data), bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}
