package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
)

// ERPQuerier runs one read against the ERP. Failures the model should hear
// about (refused, access, unavailable) come back in the reply's Error/Kind;
// the returned error is only for the caller's own context ending.
type ERPQuerier interface {
	Query(ctx context.Context, q schemas.ERPQuery) (*schemas.ERPReply, error)
}

// NATSQuerier asks the ERP query service on maria.erp.query: the request
// body is a JSON schemas.ERPQuery, the reply body a JSON schemas.ERPReply.
type NATSQuerier struct {
	NC      *nats.Conn
	Timeout time.Duration
}

// Query sends q and waits for the reply, bounded by Timeout.
func (n *NATSQuerier) Query(ctx context.Context, q schemas.ERPQuery) (*schemas.ERPReply, error) {
	body, err := json.Marshal(q)
	if err != nil {
		return &schemas.ERPReply{Error: "could not encode the query: " + err.Error(), Kind: "refused"}, nil
	}
	timeout := n.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	// The span is the parent of the query service's: RequestHeaders
	// carries it.
	ctx, span := telemetry.StartSpan(ctx, "erp query",
		attribute.String("rpc.system", "nats"),
		attribute.String("messaging.destination.name", schemas.SubjectERPQuery),
		attribute.String("maria.erp.model", q.Model),
		attribute.String("maria.erp.method", q.Method))
	r, err := n.request(ctx, body, timeout)
	if span.IsRecording() {
		if r != nil {
			kind := r.Kind
			if kind == "" {
				kind = "ok"
			}
			span.SetAttributes(attribute.String("maria.erp.kind", kind), attribute.Bool("maria.erp.cached", r.Cached),
				attribute.Int("maria.erp.records", len(r.Records)))
		}
		spanErr := err
		if spanErr == nil && r != nil && r.Error != "" {
			spanErr = fmt.Errorf("erp query %s", r.Kind)
		}
		telemetry.EndSpan(span, spanErr)
	}
	return r, err
}

func (n *NATSQuerier) request(ctx context.Context, body []byte, timeout time.Duration) (*schemas.ERPReply, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req := &nats.Msg{Subject: schemas.SubjectERPQuery, Data: body, Header: telemetry.RequestHeaders(ctx)}
	msg, err := n.NC.RequestMsgWithContext(rctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("erp query: %w", ctx.Err())
		}
		switch {
		case errors.Is(err, nats.ErrNoResponders):
			return &schemas.ERPReply{Error: "the ERP query service is not running", Kind: "unavailable"}, nil
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
			return &schemas.ERPReply{Error: fmt.Sprintf("the ERP did not answer within %s", timeout), Kind: "unavailable"}, nil
		}
		return &schemas.ERPReply{Error: "the ERP query service could not be reached", Kind: "unavailable"}, nil
	}
	var r schemas.ERPReply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return &schemas.ERPReply{Error: "the ERP query service sent an unreadable reply", Kind: "internal"}, nil
	}
	return &r, nil
}
