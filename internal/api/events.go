package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/restake/restake/internal/node"
)

// eventsPath is the event stream's route; it is exempt from the per-request
// write deadline (see NewServer).
const eventsPath = "/v1/events"

// events streams committed events as Server-Sent Events: one message per
// event, named by its kind, with the node.CommittedEvent as JSON data. It
// first sends a ": subscribed" comment, after which no committed block is
// missed, then a heartbeat comment every HeartbeatInterval. A client that
// falls 64 blocks behind is dropped by the node; the stream then sends an
// "error" event and ends, and the client reconnects.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	ch := s.node.Subscribe()
	defer s.node.Unsubscribe(ch)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // tell nginx-style proxies not to buffer the stream
	bw := bufio.NewWriter(w)
	send := func(format string, args ...any) error {
		// A client that stops reading must not hold its subscription for
		// ever: each write gets its own deadline.
		_ = rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
		if _, err := fmt.Fprintf(bw, format, args...); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	w.WriteHeader(http.StatusOK)
	if err := send(": subscribed\n\n"); err != nil {
		return // the client is gone, or the writer cannot stream
	}
	heartbeat := time.NewTicker(s.opts.HeartbeatInterval)
	defer heartbeat.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-heartbeat.C:
			err = send(": heartbeat\n\n")
		case batch, ok := <-ch:
			if !ok {
				e := apiError(NameSubscriberTooSlow, "the stream fell 64 blocks behind and was "+
					"dropped; reconnect and read faster")
				data, _ := json.Marshal(e)
				_ = send("event: error\ndata: %s\n\n", data)
				return
			}
			err = sendEvents(send, batch)
		}
		if err != nil {
			return
		}
	}
}

// sendEvents writes one block's events.
func sendEvents(send func(string, ...any) error, batch []node.CommittedEvent) error {
	for _, e := range batch {
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if err := send("event: %s\ndata: %s\n\n", e.Event.Kind.String(), data); err != nil {
			return err
		}
	}
	return nil
}
