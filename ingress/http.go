package ingress

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/slack-go/slack"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
)

// Routes mounts POST /slack/events, /slack/commands and /slack/interactions
// (the schemas.SlackPath* contract).
// Other methods on those paths get 405 from the mux.
func (in *Ingress) Routes(mux *http.ServeMux) {
	mux.Handle("POST "+schemas.SlackPathEvents, in.handler(EndpointEvents, ctJSON, func(body []byte) (*Result, error) {
		return in.norm.Event(body)
	}))
	mux.Handle("POST "+schemas.SlackPathCommands, in.handler(EndpointCommands, ctForm, func(body []byte) (*Result, error) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, malformed("slash command form: %v", err)
		}
		return in.norm.Command(CommandFromForm(form))
	}))
	mux.Handle("POST "+schemas.SlackPathInteractions, in.handler(EndpointInteractions, ctForm, func(body []byte) (*Result, error) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, malformed("interaction form: %v", err)
		}
		payload := form.Get("payload")
		if payload == "" {
			return nil, malformed("interaction form without payload")
		}
		return in.norm.Interaction([]byte(payload))
	}))
}

// CommandFromForm reads a slash command form post.
func CommandFromForm(f url.Values) slack.SlashCommand {
	return slack.SlashCommand{
		Token: f.Get("token"), TeamID: f.Get("team_id"), TeamDomain: f.Get("team_domain"),
		EnterpriseID: f.Get("enterprise_id"), EnterpriseName: f.Get("enterprise_name"),
		IsEnterpriseInstall: f.Get("is_enterprise_install") == "true",
		ChannelID:           f.Get("channel_id"), ChannelName: f.Get("channel_name"),
		UserID: f.Get("user_id"), UserName: f.Get("user_name"), Command: f.Get("command"), Text: f.Get("text"),
		ResponseURL: f.Get("response_url"), TriggerID: f.Get("trigger_id"), APIAppID: f.Get("api_app_id"),
	}
}

// rateLimitedReply is shown (ephemerally) to a user whose slash command was refused.
const rateLimitedReply = "You are sending requests faster than Maria accepts them. Please wait a minute and try again."

func (in *Ingress) handler(endpoint, contentType string, parse func([]byte) (*Result, error)) http.Handler {
	seconds := metricSeconds.WithLabelValues(endpoint)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if telemetry.Tracer() == nil {
			// Tracing off: no span, and no copy of the request for a
			// context that would not change.
			outcome := in.serve(w, r, endpoint, contentType, parse)
			metricRequests.WithLabelValues(endpoint, outcome).Inc()
			seconds.Observe(time.Since(start).Seconds())
			return
		}
		// The root of the turn's trace: what serve publishes is its child.
		// Slack sends no trace context; nothing from the request (headers,
		// body) goes into the attributes but the endpoint and event type.
		ctx, span := telemetry.StartServerSpan(r.Context(), "slack "+endpoint,
			attribute.String("maria.slack.endpoint", endpoint),
			attribute.String("http.request.method", r.Method),
			attribute.String("http.route", r.URL.Path))
		sw := &statusWriter{ResponseWriter: w}
		outcome := in.serve(sw, r.WithContext(ctx), endpoint, contentType, parse)
		metricRequests.WithLabelValues(endpoint, outcome).Inc()
		seconds.Observe(time.Since(start).Seconds())
		endServerSpan(span, outcome, attribute.Int("http.response.status_code", sw.code()))
	})
}

// statusWriter remembers the status code written, for the server span.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// endServerSpan ends an ingress server span with the request's outcome;
// the bus not storing the delivery is the only error (Slack retries), a
// refused request is an answered one.
func endServerSpan(span trace.Span, outcome string, attrs ...attribute.KeyValue) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(append(attrs, attribute.String("maria.outcome", outcome))...)
	var err error
	if outcome == OutcomeUnavailable {
		err = errUnavailable
	}
	telemetry.EndSpan(span, err)
}

// annotateSpan records what the delivery was ("event_callback/app_mention",
// "command /maria") on ctx's server span.
func annotateSpan(ctx context.Context, res *Result) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("maria.slack.event", res.What), attribute.Int("maria.events", len(res.Events)))
	if res.Team != "" {
		span.SetAttributes(attribute.String("maria.slack.team", res.Team))
	}
}

// ephemeral answers a slash command or an interaction with a message only
// the user who sent it sees.
func ephemeral(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", ctJSON)
	_ = json.NewEncoder(w).Encode(map[string]any{"response_type": "ephemeral", "replace_original": false, "text": text})
}

func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

func (in *Ingress) serve(w http.ResponseWriter, r *http.Request, endpoint, contentType string, parse func([]byte) (*Result, error)) string {
	log := in.log.Hook(&requestFields{endpoint: endpoint, remote: r.RemoteAddr})
	body, release, outcome := in.readUnverified(w, r, log)
	if outcome != "" {
		return outcome
	}
	defer release()
	sv, err := slack.NewSecretsVerifier(r.Header, in.cfg.SigningSecret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		if errors.Is(err, slack.ErrExpiredTimestamp) {
			log.Info().Msg("rejected: request timestamp more than 5 minutes off")
			reply(w, http.StatusUnauthorized, "stale or future X-Slack-Request-Timestamp")
			return OutcomeStale
		}
		log.Info().Msg("rejected: bad slack signature")
		reply(w, http.StatusUnauthorized, "invalid slack signature")
		return OutcomeBadSignature
	}
	release() // signed by Slack: the gate bounds only unverified bodies
	if !hasMediaType(r.Header.Get("Content-Type"), contentType) {
		reply(w, http.StatusUnsupportedMediaType, "want Content-Type: "+contentType)
		return OutcomeBadMedia
	}
	res, err := parse(body)
	if err != nil {
		log.Info().Err(err).Msg("rejected: malformed payload")
		reply(w, http.StatusBadRequest, err.Error())
		return OutcomeBadRequest
	}
	annotateSpan(r.Context(), res)
	outcome, err = in.deliver(r.Context(), endpoint, res, r.Header.Get("X-Slack-Retry-Num"))
	switch {
	case err != nil:
		reply(w, http.StatusServiceUnavailable, "event not stored; retry later")
	case outcome == OutcomeChallenge:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, res.Challenge)
	case outcome == OutcomeRateLimited && endpoint == EndpointCommands:
		ephemeral(w, rateLimitedReply)
	case outcome == OutcomeRefused && endpoint == EndpointEvents:
		reply(w, http.StatusForbidden, "workspace or app not allowed")
	case outcome == OutcomeRefused:
		// A 4xx would show the user Slack's opaque "dispatch_failed":
		// tell them why instead (the answer is only shown to them).
		ephemeral(w, refusedReply)
	case res.Response != nil:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(res.Response)
	default:
		w.WriteHeader(http.StatusOK)
	}
	return outcome
}

// hasMediaType tells whether a Content-Type header names want. Slack
// sends exactly "application/json" or the form type, which is checked
// without parsing; anything else (parameters, other case) is parsed.
func hasMediaType(header, want string) bool {
	if header == want {
		return true
	}
	mt, _, err := mime.ParseMediaType(header)
	return err == nil && mt == want
}
