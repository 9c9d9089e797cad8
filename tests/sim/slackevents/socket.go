package slackevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// SocketServer is a local Slack speaking the Socket Mode protocol:
//
//   - POST <APIURL>apps.connections.open with "Authorization: Bearer xapp-…"
//     answers {"ok":true,"url":"ws://…/link/?ticket=…"} (invalid_auth for
//     another token);
//   - the websocket sends {"type":"hello",…} on connect, then the envelopes
//     you Send ({"envelope_id","type","payload","accepts_response_payload",
//     "retry_attempt","retry_reason"}), collects the client's acks
//     ({"envelope_id","payload"}) and pings every PingInterval, as Slack does.
type SocketServer struct {
	// AppToken is the only token apps.connections.open accepts.
	AppToken string
	// AppID is reported in hello's connection_info.
	AppID string
	// PingInterval between websocket pings (default 2 s).
	PingInterval time.Duration

	srv      *httptest.Server
	upgrader websocket.Upgrader

	mu       sync.Mutex
	cond     *sync.Cond
	conns    []*socketConn
	total    int // websocket connections accepted so far
	opens    int // apps.connections.open calls
	sent     map[string]sentEnvelope
	acks     map[string]json.RawMessage
	ackOrder []string
	closed   bool
}

type sentEnvelope struct {
	typ     string
	payload json.RawMessage
	retries int
}

type socketConn struct {
	ws *websocket.Conn
	mu sync.Mutex // gorilla: one writer at a time
}

func (c *socketConn) writeJSON(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// NewSocketServer starts a Socket Mode server on a loopback port.
func NewSocketServer(appToken string) *SocketServer {
	s := &SocketServer{AppToken: appToken, AppID: DefaultAppID, PingInterval: 2 * time.Second,
		sent: map[string]sentEnvelope{}, acks: map[string]json.RawMessage{}}
	s.cond = sync.NewCond(&s.mu)
	// Slack's clients send Origin: https://api.slack.com; any origin is fine here.
	s.upgrader.CheckOrigin = func(*http.Request) bool { return true }
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/apps.connections.open", s.open)
	mux.HandleFunc("GET /link/", s.link)
	s.srv = httptest.NewServer(mux)
	return s
}

// APIURL is the Web API base to give the client (SLACK_API_URL).
func (s *SocketServer) APIURL() string { return s.srv.URL + "/api/" }

// Close drops every connection and stops the server.
func (s *SocketServer) Close() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.cond.Broadcast()
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
	s.srv.Close()
}

func (s *SocketServer) open(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+s.AppToken {
		_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
		return
	}
	s.mu.Lock()
	s.opens++
	ticket := fmt.Sprintf("%d-%s", s.opens, randHex(12))
	s.mu.Unlock()
	wsURL := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link/?ticket=" + url.QueryEscape(ticket) + "&app_id=" + url.QueryEscape(s.AppID)
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": wsURL})
}

func (s *SocketServer) link(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("ticket") == "" {
		http.Error(w, "missing ticket", http.StatusUnauthorized)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &socketConn{ws: ws}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.total++
	n := len(s.conns) + 1
	s.mu.Unlock()
	hello := map[string]any{"type": "hello", "num_connections": n,
		"debug_info":      map[string]any{"host": "applink-sim", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": s.AppID}}
	if err := c.writeJSON(hello); err != nil {
		_ = ws.Close()
		return
	}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.cond.Broadcast()
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		t := time.NewTicker(s.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(5*time.Second)); err != nil {
					return
				}
			}
		}
	}()
	defer func() {
		close(done)
		_ = ws.Close()
		s.mu.Lock()
		for i, x := range s.conns {
			if x == c {
				s.conns = append(s.conns[:i], s.conns[i+1:]...)
				break
			}
		}
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		s.mu.Lock()
		s.ackOrder = append(s.ackOrder, ack.EnvelopeID)
		s.acks[ack.EnvelopeID] = ack.Payload
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// waitFor blocks until cond (called with s.mu held) holds or ctx ends.
func (s *SocketServer) waitFor(ctx context.Context, cond func() bool) error {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !cond() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.closed {
			return errors.New("slackevents: socket server closed")
		}
		s.cond.Wait()
	}
	return nil
}

// WaitConnected waits until at least n websocket connections were
// accepted in total (n=1: the client is connected; n=2: it reconnected) and
// one is open.
func (s *SocketServer) WaitConnected(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool { return s.total >= n && len(s.conns) > 0 })
}

// Connections returns how many websocket connections were accepted so far.
func (s *SocketServer) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Send delivers an envelope of type typ ("events_api", "slash_commands",
// "interactive") on the newest connection and returns its envelope id.
func (s *SocketServer) Send(ctx context.Context, typ string, payload []byte) (string, error) {
	id := uuid()
	s.mu.Lock()
	s.sent[id] = sentEnvelope{typ: typ, payload: append(json.RawMessage(nil), payload...)}
	s.mu.Unlock()
	return id, s.deliver(ctx, id)
}

// SendEvent delivers an Events API body (see EventCallback).
func (s *SocketServer) SendEvent(ctx context.Context, body []byte) (string, error) {
	return s.Send(ctx, "events_api", body)
}

// SendCommand delivers a slash command; Socket Mode carries the form's
// fields as a JSON object.
func (s *SocketServer) SendCommand(ctx context.Context, form url.Values) (string, error) {
	obj := map[string]string{}
	for k := range form {
		obj[k] = form.Get(k)
	}
	return s.Send(ctx, "slash_commands", mustJSON(obj))
}

// SendInteractive delivers an interaction payload (see BlockActionsPayload).
func (s *SocketServer) SendInteractive(ctx context.Context, payload []byte) (string, error) {
	return s.Send(ctx, "interactive", payload)
}

// Redeliver sends an unacknowledged envelope again, as Slack does, with
// the same envelope id and retry_attempt incremented.
func (s *SocketServer) Redeliver(ctx context.Context, envelopeID string) error {
	s.mu.Lock()
	e, ok := s.sent[envelopeID]
	if ok {
		e.retries++
		s.sent[envelopeID] = e
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("slackevents: unknown envelope %s", envelopeID)
	}
	return s.deliver(ctx, envelopeID)
}

func (s *SocketServer) deliver(ctx context.Context, id string) error {
	if err := s.WaitConnected(ctx, 1); err != nil {
		return err
	}
	s.mu.Lock()
	e := s.sent[id]
	c := s.conns[len(s.conns)-1]
	s.mu.Unlock()
	env := map[string]any{"envelope_id": id, "type": e.typ, "payload": e.payload,
		"accepts_response_payload": e.typ != "events_api", "retry_attempt": e.retries}
	if e.retries > 0 {
		env["retry_reason"] = "timeout"
	}
	if err := c.writeJSON(env); err != nil {
		return fmt.Errorf("slackevents: send envelope: %w", err)
	}
	return nil
}

// Acked reports whether envelopeID was acknowledged, and the ack's payload.
func (s *SocketServer) Acked(envelopeID string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.acks[envelopeID]
	return p, ok
}

// Acks lists every acknowledgement received, in order (an envelope acked
// twice appears twice).
func (s *SocketServer) Acks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ackOrder...)
}

// WaitAck waits for envelopeID's acknowledgement and returns its payload.
func (s *SocketServer) WaitAck(ctx context.Context, envelopeID string) (json.RawMessage, error) {
	var p json.RawMessage
	err := s.waitFor(ctx, func() bool {
		var ok bool
		p, ok = s.acks[envelopeID]
		return ok
	})
	return p, err
}

// Disconnect asks every connected client to reconnect, as Slack does
// before rotating a connection ({"type":"disconnect","reason":"refresh_requested"}).
func (s *SocketServer) Disconnect() error {
	s.mu.Lock()
	conns := append([]*socketConn(nil), s.conns...)
	s.mu.Unlock()
	var errs []error
	for _, c := range conns {
		msg := map[string]any{"type": "disconnect", "reason": "refresh_requested",
			"debug_info": map[string]any{"host": "applink-sim"}}
		errs = append(errs, c.writeJSON(msg))
	}
	return errors.Join(errs...)
}

// DropConnections closes every websocket abruptly (a network failure).
func (s *SocketServer) DropConnections() {
	s.mu.Lock()
	conns := append([]*socketConn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
}
