package egress

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Reconciliation: when an earlier attempt may have reached Slack (its
// replica died mid-call, or the call timed out / got a 5xx), egress looks
// for the evidence before acting again. Every message egress posts carries
// metadata {event_type: maria_command, event_payload: {command_id}}.

const (
	reconcilePageSize = 200
	reconcileMaxPages = 10
	// reconcileSlack widens the search window for clock skew between us and Slack.
	reconcileSlack = 2 * time.Minute
)

func slackTS(t time.Time) string {
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}

// scan calls match on channel (or thread) messages newer than since until
// it returns true; it returns the matching message's ts.
func (e *Egress) scan(ctx context.Context, ch, thread string, since time.Time, match func(slack.Message) bool) (string, error) {
	oldest := ""
	if !since.IsZero() {
		oldest = slackTS(since.Add(-reconcileSlack))
	}
	cursor := ""
	for range reconcileMaxPages {
		var msgs []slack.Message
		var next string
		if thread != "" {
			err := call(ctx, "conversations.replies", ch, e.cfg.DryRun, func(ctx context.Context) error {
				var err error
				msgs, _, next, err = e.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
					ChannelID: ch, Timestamp: thread, Oldest: oldest, Inclusive: true, Limit: reconcilePageSize,
					IncludeAllMetadata: true, Cursor: cursor})
				return err
			})
			if err != nil {
				return "", err
			}
		} else {
			err := call(ctx, "conversations.history", ch, e.cfg.DryRun, func(ctx context.Context) error {
				r, err := e.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
					ChannelID: ch, Oldest: oldest, Inclusive: true, Limit: reconcilePageSize, IncludeAllMetadata: true, Cursor: cursor})
				if err == nil {
					msgs, next = r.Messages, r.ResponseMetaData.NextCursor
				}
				return err
			})
			if err != nil {
				return "", err
			}
		}
		for _, msg := range msgs {
			if match(msg) {
				return msg.Timestamp, nil
			}
		}
		if next == "" {
			return "", nil
		}
		cursor = next
	}
	return "", nil
}

// findByCommand finds the message a command posted, by its metadata.
func (e *Egress) findByCommand(ctx context.Context, ch, thread, cmdID string, since time.Time) (string, error) {
	return e.scan(ctx, ch, thread, since, func(m slack.Message) bool {
		if m.Metadata.EventType != MetadataEventType {
			return false
		}
		id, _ := m.Metadata.EventPayload["command_id"].(string)
		return id == cmdID
	})
}

// findStream finds the native stream an uncertain chat.startStream (begun
// at since) created in thread. chat.startStream accepts no metadata, so the
// stream is recognised as the one message only it can be: posted by this
// bot, without Maria's metadata (every post egress makes carries it, and
// chat.stopStream stamps it on every stream it ends) and without files, its
// text beginning with the start's markdown. Within a thread nothing else
// can match: commands of a thread run one at a time and in order on the one
// egress replica holding the pin, so while this start is unresolved no
// other stream begins there, and the earlier ones are stopped (stamped).
// The earliest match wins.
func (e *Egress) findStream(ctx context.Context, ch, thread, start string, since time.Time) (string, error) {
	return e.scan(ctx, ch, thread, since, func(m slack.Message) bool {
		return m.Timestamp != thread && m.BotID != "" && (e.botID == "" || m.BotID == e.botID) &&
			m.Metadata.EventType == "" && len(m.Files) == 0 && strings.HasPrefix(m.Text, start)
	})
}

// findByFile finds the message that shared fileID.
func (e *Egress) findByFile(ctx context.Context, ch, thread, fileID string, since time.Time) (string, error) {
	return e.scan(ctx, ch, thread, since, func(m slack.Message) bool {
		for _, f := range m.Files {
			if f.ID == fileID {
				return true
			}
		}
		return false
	})
}

// messageText returns the current text of the message ts.
func (e *Egress) messageText(ctx context.Context, ch, ts string) (string, bool, error) {
	var text string
	var found bool
	_, err := e.scan(ctx, ch, ts, time.Time{}, func(m slack.Message) bool {
		if m.Timestamp == ts {
			text, found = m.Text, true
			return true
		}
		return false
	})
	return text, found, err
}
