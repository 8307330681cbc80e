package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// events streams changes as server-sent events, one JSON change each.
// A stream lives at most an hour and pings every 15 seconds; EventSource
// reconnects by itself, and the page reloads its lists when it does.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	c, ok := s.hub.join()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "too many live pages (at most "+strconv.Itoa(s.lim.SSEClients)+")")
		return
	}
	defer s.hub.leave(c)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	rc.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	end := time.After(time.Hour)
	for {
		rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		select {
		case ch, ok := <-c:
			if !ok {
				return // fell behind: dropped by the hub
			}
			data, _ := json.Marshal(ch)
			fmt.Fprintf(w, "event: change\ndata: %s\n\n", data)
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case <-end:
			return
		case <-r.Context().Done():
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}
