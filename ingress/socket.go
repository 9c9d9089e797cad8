package ingress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"go.opentelemetry.io/otel/attribute"
)

// RunSocketMode connects to Slack with the app-level token and handles
// every envelope until ctx ends. Each envelope is acknowledged only after
// its events are stored (PubAck); when the bus fails it is left
// unacknowledged so Slack delivers it again. slack-go's client reconnects
// on its own (disconnect requests, dead connections, refresh); it returns an
// error only for fatal cases such as an invalid token.
func (in *Ingress) RunSocketMode(ctx context.Context) error {
	api := slack.New(in.cfg.BotToken, slack.OptionAppLevelToken(in.cfg.AppToken), slack.OptionAPIURL(in.cfg.APIURL))
	smc := socketmode.New(api, socketmode.OptionLog(zlogAdapter{in.log}))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- smc.RunContext(ctx) }()

	sem := make(chan struct{}, in.cfg.SocketWorkers)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer in.connected.Store(false)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-runErr:
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt := <-smc.Events:
			req := in.socketEvent(evt)
			if req == nil {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				in.handleEnvelope(ctx, smc, req)
			}()
		}
	}
}

// socketEvent records connection life-cycle events and returns the Slack
// request to handle, if the event carries one.
func (in *Ingress) socketEvent(evt socketmode.Event) *socketmode.Request {
	switch evt.Type {
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		return evt.Request
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not parse it (an event type it does not model, or
		// garbage): our own normalizer decides, from the raw message.
		bad, ok := evt.Data.(*socketmode.ErrorBadMessage)
		if !ok {
			return nil
		}
		var req socketmode.Request
		if err := json.Unmarshal(bad.Message, &req); err != nil || req.EnvelopeID == "" {
			in.log.Warn().Err(bad.Cause).Msg("socket mode: unreadable message without envelope id")
			metricRequests.WithLabelValues(EndpointSocket, OutcomeBadRequest).Inc()
			return nil
		}
		return &req
	case socketmode.EventTypeConnecting:
		metricSocket.WithLabelValues("connecting").Inc()
		in.log.Debug().Msg("socket mode: connecting")
	case socketmode.EventTypeConnected:
		metricSocket.WithLabelValues("connected").Inc()
		in.connected.Store(true)
		in.log.Info().Msg("socket mode: connected")
	case socketmode.EventTypeConnectionError:
		metricSocket.WithLabelValues("connection_error").Inc()
		in.connected.Store(false)
		ev := in.log.Warn()
		if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			ev = ev.Err(ce.ErrorObj).Dur("backoff", ce.Backoff)
		}
		ev.Msg("socket mode: connection failed; retrying")
	case socketmode.EventTypeInvalidAuth:
		metricSocket.WithLabelValues("invalid_auth").Inc()
		in.connected.Store(false)
		in.log.Error().Msg("socket mode: SLACK_APP_TOKEN rejected (invalid_auth)")
	case socketmode.EventTypeDisconnect:
		metricSocket.WithLabelValues("disconnect").Inc()
		in.connected.Store(false)
		reason := ""
		if evt.Request != nil {
			reason = evt.Request.Reason
		}
		in.log.Info().Str("reason", reason).Msg("socket mode: slack asked to reconnect")
	case socketmode.EventTypeHello:
		in.connected.Store(true)
		in.log.Debug().Msg("socket mode: hello")
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		in.log.Warn().Str("type", string(evt.Type)).Interface("detail", evt.Data).Msg("socket mode: connection error")
	}
	return nil
}

// handleEnvelope normalizes, publishes and then acknowledges one envelope.
func (in *Ingress) handleEnvelope(ctx context.Context, smc *socketmode.Client, req *socketmode.Request) {
	start := time.Now()
	ctx, span := telemetry.StartServerSpan(ctx, "slack "+EndpointSocket,
		attribute.String("maria.slack.endpoint", EndpointSocket),
		attribute.String("maria.slack.envelope_type", req.Type),
		attribute.String("maria.slack.envelope_id", req.EnvelopeID),
		attribute.Int("maria.slack.retry_attempt", req.RetryAttempt))
	outcome := in.envelopeOutcome(ctx, smc, req)
	metricRequests.WithLabelValues(EndpointSocket, outcome).Inc()
	metricSeconds.WithLabelValues(EndpointSocket).Observe(time.Since(start).Seconds())
	endServerSpan(span, outcome)
}

func (in *Ingress) envelopeOutcome(ctx context.Context, smc *socketmode.Client, req *socketmode.Request) string {
	log := in.log.With().Str("endpoint", EndpointSocket).Str("envelope_id", req.EnvelopeID).Str("type", req.Type).Logger()
	ack := func(payload any) {
		if err := smc.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
			log.Warn().Err(err).Msg("socket mode: ack failed; slack will redeliver")
		}
	}
	res, err := in.normalizeEnvelope(req)
	if err != nil {
		// Slack would resend these bytes forever: record them and acknowledge.
		reason := "invalid socket mode envelope: " + err.Error()
		id := schemas.StableID("socket-invalid", req.EnvelopeID)
		env, eerr := inbound(id, schemas.TurnID("", "socket-invalid", req.EnvelopeID), "slack.invalid.v1", json.RawMessage(validJSONOrString(req.Payload)))
		if eerr == nil {
			pctx, cancel := context.WithTimeout(ctx, in.cfg.PublishTimeout)
			eerr = in.deadLetter(pctx, DLQInvalid, schemas.InSubject("invalid", "_", "_"), env, reason)
			cancel()
		}
		if eerr != nil {
			log.Warn().Err(eerr).Msg("socket mode: invalid envelope not dead-lettered; leaving it unacknowledged")
			return OutcomeUnavailable
		}
		log.Warn().Err(err).Msg("socket mode: invalid envelope dead-lettered")
		ack(nil)
		if errors.Is(err, errTooLarge) {
			return OutcomeTooLarge
		}
		return OutcomeBadRequest
	}
	retry := ""
	if req.RetryAttempt > 0 {
		retry = fmt.Sprint(req.RetryAttempt)
	}
	annotateSpan(ctx, res)
	outcome, err := in.deliver(ctx, EndpointSocket, res, retry)
	if err != nil {
		return OutcomeUnavailable // no ack: Slack redelivers
	}
	switch {
	case outcome == OutcomeRateLimited && req.Type == socketmode.RequestTypeSlashCommands:
		ack(map[string]string{"response_type": "ephemeral", "text": rateLimitedReply})
	case outcome == OutcomeRefused && req.Type == socketmode.RequestTypeSlashCommands:
		ack(map[string]string{"response_type": "ephemeral", "text": refusedReply})
	case res.Response != nil:
		ack(res.Response)
	default:
		// A refused envelope is acknowledged too: unacknowledged, Slack
		// would deliver it again and again.
		ack(nil)
	}
	return outcome
}

var errTooLarge = errors.New("payload over MARIA_INGRESS_MAX_BODY")

func (in *Ingress) normalizeEnvelope(req *socketmode.Request) (*Result, error) {
	if int64(len(req.Payload)) > in.cfg.MaxBody {
		return nil, fmt.Errorf("%w (%d bytes)", errTooLarge, len(req.Payload))
	}
	switch req.Type {
	case socketmode.RequestTypeEventsAPI:
		return in.norm.Event(req.Payload)
	case socketmode.RequestTypeSlashCommands:
		var sc slack.SlashCommand
		if err := json.Unmarshal(req.Payload, &sc); err != nil {
			return nil, malformed("slash command payload: %v", err)
		}
		return in.norm.Command(sc)
	case socketmode.RequestTypeInteractive:
		return in.norm.Interaction(req.Payload)
	}
	return nil, malformed("unsupported socket mode envelope type %q", req.Type)
}

func validJSONOrString(b []byte) []byte {
	if json.Valid(b) && len(b) > 0 {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

// zlogAdapter routes slack-go's socketmode logs to zerolog at debug level.
type zlogAdapter struct{ l zerolog.Logger }

func (z zlogAdapter) Output(_ int, s string) error {
	z.l.Debug().Str("source", "slack-socketmode").Msg(strings.TrimSpace(s))
	return nil
}
