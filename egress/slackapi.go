package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// API is the part of slack-go's *slack.Client egress uses; tests and the
// dry-run mode substitute it.
type API interface {
	AuthTestContext(ctx context.Context) (*slack.AuthTestResponse, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	StartStreamContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	AppendStreamContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, error)
	StopStreamContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, error)
	SetAssistantThreadsStatusContext(ctx context.Context, params slack.AssistantThreadsSetStatusParameters) error
	SetAssistantThreadsSuggestedPromptsContext(ctx context.Context, params slack.AssistantThreadsSetSuggestedPromptsParameters) error
	SetAssistantThreadsTitleContext(ctx context.Context, params slack.AssistantThreadsSetTitleParameters) error
	AddReactionContext(ctx context.Context, name string, item slack.ItemRef) error
	GetUploadURLExternalContext(ctx context.Context, params slack.GetUploadURLExternalParameters) (*slack.GetUploadURLExternalResponse, error)
	UploadToURL(ctx context.Context, params slack.UploadToURLParameters) error
	CompleteUploadExternalContext(ctx context.Context, params slack.CompleteUploadExternalParameters) (*slack.CompleteUploadExternalResponse, error)
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
}

var _ API = (*slack.Client)(nil)

// NewSlackClient builds the real client: SLACK_API_URL honoured, slack-go's
// own retries off (a 429 is scheduled by egress, never slept on), and a
// per-call timeout.
func NewSlackClient(cfg Config) *slack.Client {
	hc := &http.Client{Timeout: cfg.CallTimeout}
	return slack.New(cfg.Token, slack.OptionAPIURL(cfg.APIURL), slack.OptionHTTPClient(hc))
}

// errKind classifies a Slack call failure.
type errKind int

const (
	// kindPermanent: Slack refused the request; retrying the same command cannot help.
	kindPermanent errKind = iota
	// kindRateLimited: 429; retry after RetryAfter, the effect did not happen.
	kindRateLimited
	// kindTransient: Slack said try again later; the effect did not happen.
	kindTransient
	// kindAmbiguous: 5xx, timeout or network failure; the effect may have happened.
	kindAmbiguous
)

// slackErr is a classified Slack failure.
type slackErr struct {
	Method     string
	Kind       errKind
	Code       string // Slack error code or HTTP status
	RetryAfter time.Duration
	Err        error
}

func (e *slackErr) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("slack %s: %s", e.Method, e.Code)
	}
	return fmt.Sprintf("slack %s: %v", e.Method, e.Err)
}
func (e *slackErr) Unwrap() error { return e.Err }

// transientCodes are ok:false answers that mean "try again later".
var transientCodes = map[string]bool{
	"internal_error": true, "fatal_error": true, "service_unavailable": true, "request_timeout": true,
	"team_added_to_org": true, "ratelimited": true, "rate_limited": true,
}

// classify turns a slack-go error into a slackErr. Unknown ok:false codes
// are permanent: Slack processed and rejected the request.
func classify(method string, err error) *slackErr {
	if err == nil {
		return nil
	}
	var se *slackErr
	if errors.As(err, &se) {
		return se
	}
	out := &slackErr{Method: method, Err: err}
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var api slack.SlackErrorResponse
	var nerr net.Error
	var uerr *url.Error
	switch {
	case errors.As(err, &rl):
		out.Kind, out.Code, out.RetryAfter = kindRateLimited, "rate_limited", max(rl.RetryAfter, time.Second)
	case errors.As(err, &sc):
		out.Code = fmt.Sprintf("http_%d", sc.Code)
		switch {
		case sc.Code == http.StatusTooManyRequests:
			out.Kind, out.RetryAfter = kindRateLimited, time.Second
		case sc.Code >= 500:
			out.Kind = kindAmbiguous
		case sc.Code == http.StatusRequestTimeout:
			out.Kind = kindAmbiguous
		default:
			out.Kind = kindPermanent
		}
	case errors.As(err, &api):
		out.Code = api.Err
		switch {
		case transientCodes[api.Err]:
			out.Kind = kindTransient
		default:
			out.Kind = kindPermanent
		}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.As(err, &nerr), errors.As(err, &uerr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		out.Kind = kindAmbiguous
	default:
		// Undecodable answers and the like: we cannot tell whether Slack acted.
		out.Kind = kindAmbiguous
	}
	return out
}

// code returns the Slack error code of err, if it is an ok:false answer.
func code(err error) string {
	var se *slackErr
	if errors.As(err, &se) {
		return se.Code
	}
	var api slack.SlackErrorResponse
	if errors.As(err, &api) {
		return api.Err
	}
	return ""
}

// call runs one Slack call with metrics, classification and a client span
// "slack <method>" (channel id, outcome, Slack error code, retry-after on a
// 429) — never the token or message text.
func call(ctx context.Context, method, channel string, dry bool, f func(ctx context.Context) error) error {
	ctx, span := telemetry.StartSpan(ctx, "slack "+method, slackCallAttrs(method, channel)...)
	start := time.Now()
	err := f(ctx)
	metricSlackSeconds.WithLabelValues(method).Observe(time.Since(start).Seconds())
	if err == nil {
		outcome := "ok"
		if dry {
			outcome = "dry_run"
		}
		metricSlackCalls.WithLabelValues(method, outcome).Inc()
		endSlackSpan(span, outcome, nil)
		return nil
	}
	se := classify(method, err)
	outcome := "slack_error"
	switch se.Kind {
	case kindRateLimited:
		outcome = "rate_limited"
		metricRateLimited.WithLabelValues(method).Inc()
	case kindAmbiguous:
		outcome = "server_error"
		if !strings.HasPrefix(se.Code, "http_") {
			outcome = "network_error"
		}
	}
	metricSlackCalls.WithLabelValues(method, outcome).Inc()
	endSlackSpan(span, outcome, se)
	return se
}

func slackCallAttrs(method, channel string) []attribute.KeyValue {
	attrs := []attribute.KeyValue{attribute.String("rpc.system", "slack"), attribute.String("rpc.method", method)}
	if channel != "" {
		attrs = append(attrs, attribute.String("maria.slack.channel", channel))
	}
	return attrs
}

func endSlackSpan(span trace.Span, outcome string, se *slackErr) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("maria.outcome", outcome))
	if se == nil {
		telemetry.EndSpan(span, nil)
		return
	}
	if se.Code != "" {
		span.SetAttributes(attribute.String("maria.slack.error", se.Code))
	}
	if se.Kind == kindRateLimited {
		span.SetAttributes(attribute.Float64("maria.slack.retry_after_seconds", se.RetryAfter.Seconds()))
	}
	telemetry.EndSpan(span, spanError(se))
}

// spanError is what a failed call's span records: the method and the Slack
// code, or the transport error without its URL (an upload URL is a
// capability).
func spanError(se *slackErr) error {
	if se.Code != "" {
		return errors.New(se.Error())
	}
	var uerr *url.Error
	if errors.As(se.Err, &uerr) {
		return fmt.Errorf("slack %s: %s: %v", se.Method, uerr.Op, uerr.Err)
	}
	return se
}

// DryRun is an API that calls nothing: it logs each call and writes one line
// per call to Out, and answers like Slack would (with made-up timestamps).
type DryRun struct {
	Log zerolog.Logger
	Out io.Writer

	mu  sync.Mutex
	seq atomic.Int64
}

var _ API = (*DryRun)(nil)

func (d *DryRun) ts() string {
	now := time.Now().UnixMicro()
	for {
		last := d.seq.Load()
		if now <= last {
			now = last + 1
		}
		if d.seq.CompareAndSwap(last, now) {
			return fmt.Sprintf("%d.%06d", now/1000000, now%1000000)
		}
	}
}

func (d *DryRun) emit(method, channel string, fields map[string]string) {
	ev := d.Log.Info().Str("slack_method", method).Str("channel", channel).Bool("dry_run", true)
	var b strings.Builder
	fmt.Fprintf(&b, "[dry-run] %s channel=%s", method, channel)
	for _, k := range []string{"thread_ts", "ts", "user", "name", "status", "title", "filename", "text", "markdown_text", "blocks", "metadata", "response_url"} {
		if v, ok := fields[k]; ok && v != "" {
			ev = ev.Str(k, v)
			fmt.Fprintf(&b, " %s=%q", k, v)
		}
	}
	ev.Msg("dry run: not calling Slack")
	if d.Out != nil {
		d.mu.Lock()
		fmt.Fprintln(d.Out, b.String())
		d.mu.Unlock()
	}
}

func msgFields(channel string, opts []slack.MsgOption) map[string]string {
	endpoint, values, err := slack.UnsafeApplyMsgOptions("", channel, "", opts...)
	out := map[string]string{}
	if err != nil {
		out["text"] = "<unrenderable options: " + err.Error() + ">"
		return out
	}
	for k := range values {
		if k != "token" && k != "channel" {
			out[k] = values.Get(k)
		}
	}
	if strings.Contains(endpoint, "://") { // response_url mode
		out["response_url"] = "(set)"
	}
	return out
}

// AuthTestContext pretends the token is valid.
func (d *DryRun) AuthTestContext(context.Context) (*slack.AuthTestResponse, error) {
	return &slack.AuthTestResponse{Team: "dry-run", User: "maria", TeamID: "TDRYRUN", UserID: "UDRYRUN", BotID: "BDRYRUN"}, nil
}

// PostMessageContext logs a post.
func (d *DryRun) PostMessageContext(_ context.Context, ch string, o ...slack.MsgOption) (string, string, error) {
	d.emit("chat.postMessage", ch, msgFields(ch, o))
	return ch, d.ts(), nil
}

// UpdateMessageContext logs an update.
func (d *DryRun) UpdateMessageContext(_ context.Context, ch, ts string, o ...slack.MsgOption) (string, string, string, error) {
	f := msgFields(ch, o)
	f["ts"] = ts
	d.emit("chat.update", ch, f)
	return ch, ts, f["text"], nil
}

// PostEphemeralContext logs an ephemeral post.
func (d *DryRun) PostEphemeralContext(_ context.Context, ch, user string, o ...slack.MsgOption) (string, error) {
	f := msgFields(ch, o)
	f["user"] = user
	d.emit("chat.postEphemeral", ch, f)
	return d.ts(), nil
}

// StartStreamContext logs a stream start.
func (d *DryRun) StartStreamContext(_ context.Context, ch string, o ...slack.MsgOption) (string, string, error) {
	d.emit("chat.startStream", ch, msgFields(ch, o))
	return ch, d.ts(), nil
}

// AppendStreamContext logs an append.
func (d *DryRun) AppendStreamContext(_ context.Context, ch, ts string, o ...slack.MsgOption) (string, string, error) {
	f := msgFields(ch, o)
	f["ts"] = ts
	d.emit("chat.appendStream", ch, f)
	return ch, ts, nil
}

// StopStreamContext logs a stop.
func (d *DryRun) StopStreamContext(_ context.Context, ch, ts string, o ...slack.MsgOption) (string, string, error) {
	f := msgFields(ch, o)
	f["ts"] = ts
	d.emit("chat.stopStream", ch, f)
	return ch, ts, nil
}

// SetAssistantThreadsStatusContext logs a status.
func (d *DryRun) SetAssistantThreadsStatusContext(_ context.Context, p slack.AssistantThreadsSetStatusParameters) error {
	d.emit("assistant.threads.setStatus", p.ChannelID, map[string]string{"thread_ts": p.ThreadTS, "status": p.Status})
	return nil
}

// SetAssistantThreadsSuggestedPromptsContext logs prompts.
func (d *DryRun) SetAssistantThreadsSuggestedPromptsContext(_ context.Context, p slack.AssistantThreadsSetSuggestedPromptsParameters) error {
	titles := make([]string, len(p.Prompts))
	for i, x := range p.Prompts {
		titles[i] = x.Title
	}
	d.emit("assistant.threads.setSuggestedPrompts", p.ChannelID, map[string]string{"thread_ts": p.ThreadTS, "title": p.Title, "text": strings.Join(titles, " | ")})
	return nil
}

// SetAssistantThreadsTitleContext logs a title.
func (d *DryRun) SetAssistantThreadsTitleContext(_ context.Context, p slack.AssistantThreadsSetTitleParameters) error {
	d.emit("assistant.threads.setTitle", p.ChannelID, map[string]string{"thread_ts": p.ThreadTS, "title": p.Title})
	return nil
}

// AddReactionContext logs a reaction.
func (d *DryRun) AddReactionContext(_ context.Context, name string, item slack.ItemRef) error {
	d.emit("reactions.add", item.Channel, map[string]string{"ts": item.Timestamp, "name": name})
	return nil
}

// GetUploadURLExternalContext pretends to reserve an upload.
func (d *DryRun) GetUploadURLExternalContext(_ context.Context, p slack.GetUploadURLExternalParameters) (*slack.GetUploadURLExternalResponse, error) {
	d.emit("files.getUploadURLExternal", "", map[string]string{"filename": p.FileName, "text": fmt.Sprintf("%d bytes", p.FileSize)})
	return &slack.GetUploadURLExternalResponse{UploadURL: "dry-run://upload", FileID: "FDRY" + strings.ReplaceAll(d.ts(), ".", "")}, nil
}

// UploadToURL does nothing.
func (d *DryRun) UploadToURL(context.Context, slack.UploadToURLParameters) error { return nil }

// CompleteUploadExternalContext logs the share.
func (d *DryRun) CompleteUploadExternalContext(_ context.Context, p slack.CompleteUploadExternalParameters) (*slack.CompleteUploadExternalResponse, error) {
	d.emit("files.completeUploadExternal", p.Channel, map[string]string{"thread_ts": p.ThreadTimestamp, "text": p.InitialComment})
	return &slack.CompleteUploadExternalResponse{Files: p.Files}, nil
}

// GetConversationHistoryContext returns nothing (nothing was ever posted).
func (d *DryRun) GetConversationHistoryContext(context.Context, *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error) {
	return &slack.GetConversationHistoryResponse{}, nil
}

// GetConversationRepliesContext returns nothing.
func (d *DryRun) GetConversationRepliesContext(context.Context, *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error) {
	return nil, false, "", nil
}
