package web

import "sync"

// change is what a server-sent event tells the page: which session,
// message or the fault plans changed, with the new summary when there is
// one.
type change struct {
	Kind    string   `json:"kind"` // session, message, deleted-session, deleted-message, faults
	ID      string   `json:"id,omitempty"`
	Session *Session `json:"session,omitempty"`
}

// hub fans changes out to the live event streams. A stream that falls
// Limits.SSEBacklog changes behind is dropped (its channel closed): the
// page reconnects and reloads the lists, so a slow reader costs neither
// memory nor the sandbox's time.
type hub struct {
	mu      sync.Mutex
	max     int
	backlog int
	clients map[chan change]struct{}
}

func newHub(lim Limits) *hub {
	return &hub{max: lim.SSEClients, backlog: lim.SSEBacklog, clients: map[chan change]struct{}{}}
}

// join returns a new stream, or false past the limit of live streams.
func (h *hub) join() (chan change, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients) >= h.max {
		return nil, false
	}
	c := make(chan change, h.backlog)
	h.clients[c] = struct{}{}
	return c, true
}

func (h *hub) leave(c chan change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c)
	}
}

func (h *hub) publish(ch change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c <- ch:
		default:
			delete(h.clients, c)
			close(c)
		}
	}
}
