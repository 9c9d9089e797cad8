package erp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// QueryClient asks the ERP query service (any replica) over NATS
// request/reply. It is what the AI processor's ERP tools use.
type QueryClient struct {
	NC *nats.Conn
	// Timeout applies when ctx has no deadline (default 40s: longer than
	// the service's own query timeout, so its answer wins).
	Timeout time.Duration
}

// ErrNoQueryService means no replica of the ERP service is listening.
var ErrNoQueryService = errors.New("the ERP query service is not running")

// Query sends q and returns the reply. A transport failure (no service, no
// answer in time) is an error; Odoo's or Maria's refusal is in the reply
// (Error, Kind) — see ReplyError.
func (c QueryClient) Query(ctx context.Context, q schemas.ERPQuery) (*schemas.ERPReply, error) {
	if c.NC == nil {
		return nil, errors.New("erp query client: no NATS connection")
	}
	body, err := json.Marshal(q)
	if err != nil {
		return nil, fmt.Errorf("encode erp query: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		t := c.Timeout
		if t <= 0 {
			t = 40 * time.Second
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	// The turn's correlation id and trace context travel with the query.
	msg, err := c.NC.RequestMsgWithContext(ctx, &nats.Msg{Subject: schemas.SubjectERPQuery, Data: body, Header: telemetry.RequestHeaders(ctx)})
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, ErrNoQueryService
	}
	if err != nil {
		return nil, fmt.Errorf("erp query %s %s: %w", q.Method, q.Model, err)
	}
	if e := msg.Header.Get(micro.ErrorHeader); e != "" {
		return nil, fmt.Errorf("erp query %s %s: service error %s: %s", q.Method, q.Model, msg.Header.Get(micro.ErrorCodeHeader), e)
	}
	var rep schemas.ERPReply
	dec := json.NewDecoder(bytes.NewReader(msg.Data))
	dec.UseNumber()
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("erp query %s %s: bad reply: %w", q.Method, q.Model, err)
	}
	return &rep, nil
}

// ReplyError turns an error reply into a Go error (nil for success).
func ReplyError(rep *schemas.ERPReply) error {
	if rep == nil || rep.Error == "" {
		return nil
	}
	return &QueryError{Kind: rep.Kind, Message: rep.Error}
}

// QueryError is an error reply of the ERP query service.
type QueryError struct {
	Kind    string
	Message string
}

func (e *QueryError) Error() string { return "erp " + e.Kind + ": " + e.Message }
