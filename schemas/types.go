package schemas

import (
	"fmt"
	"strings"
	"time"
)

// Event types. The suffix is the payload version: a breaking change to a
// payload gets a new type (".v2") published alongside the old one until every
// consumer moved; additive changes keep the version.
const (
	// From ingress (maria.in.<kind>.<team>.<channel>).
	TypeSlackMessage   = "slack.message.v1"
	TypeSlackMention   = "slack.mention.v1"
	TypeSlackCommand   = "slack.command.v1"
	TypeSlackAction    = "slack.action.v1"
	TypeSlackFile      = "slack.file.v1"
	TypeSlackReaction  = "slack.reaction.v1"
	TypeSlackAssistant = "slack.assistant.v1"
	// App Home (maria.in.home.<team>.<user>): the tab opened, a modal submitted.
	TypeSlackHome = "slack.home.v1"
	TypeSlackView = "slack.view.v1"

	// Commands for egress (maria.out.<team>.<channel>).
	TypeOutPost         = "out.post.v1"
	TypeOutUpdate       = "out.update.v1"
	TypeOutEphemeral    = "out.ephemeral.v1"
	TypeOutRespond      = "out.respond.v1"
	TypeOutStreamStart  = "out.stream.start.v1"
	TypeOutStreamAppend = "out.stream.append.v1"
	TypeOutStreamStop   = "out.stream.stop.v1"
	TypeOutStatus       = "out.status.v1"
	TypeOutPrompts      = "out.prompts.v1"
	TypeOutTitle        = "out.title.v1"
	TypeOutReact        = "out.react.v1"
	TypeOutUpload       = "out.upload.v1"
	// Views: the App Home tab (views.publish) and modals (views.open).
	TypeOutViewPublish = "out.view.publish.v1"
	TypeOutViewOpen    = "out.view.open.v1"

	// ERP.
	TypeERPCommand = "erp.command.v1"
	TypeERPResult  = "erp.result.v1"
	TypeERPQuery   = "erp.query.v1"
	TypeERPReply   = "erp.reply.v1"

	// Storage and delivery.
	TypeStoredFile = "stored.file.v1"
	TypeDelivered  = "delivered.v1"

	// Audit trail of ERP writes and confirmation clicks.
	TypeAudit = "audit.v1"

	// Thread history (request/reply on maria.history.query, plain JSON bodies).
	TypeHistoryQuery = "history.query.v1"
	TypeHistoryReply = "history.reply.v1"
)

// SlackFile describes a file attached to a Slack message.
type SlackFile struct {
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
	Title      string `json:"title,omitempty"`
	Mimetype   string `json:"mimetype,omitempty"`
	Filetype   string `json:"filetype,omitempty"`
	Size       int64  `json:"size,omitempty"`
	URLPrivate string `json:"url_private,omitempty"`
	// URLPrivateDownload is preferred for downloads when present.
	URLPrivateDownload string `json:"url_private_download,omitempty"`
}

// SlackMessage is a message or an app_mention (types slack.message.v1 and
// slack.mention.v1). Edits and deletions arrive as messages with Subtype
// "message_changed" / "message_deleted" and the affected ts in PreviousTS.
type SlackMessage struct {
	EventID     string      `json:"event_id,omitempty"`
	TS          string      `json:"ts"`
	ThreadTS    string      `json:"thread_ts,omitempty"`
	Text        string      `json:"text"`
	ChannelType string      `json:"channel_type,omitempty" jsonschema:"enum=,enum=im,enum=mpim,enum=channel,enum=group,enum=app_home"`
	Subtype     string      `json:"subtype,omitempty"`
	PreviousTS  string      `json:"previous_ts,omitempty"`
	BotID       string      `json:"bot_id,omitempty"`
	Files       []SlackFile `json:"files,omitempty"`
	// Mentioned is true when the text mentions the bot user.
	Mentioned bool `json:"mentioned,omitempty"`
}

// SlackCommand is a slash command (slack.command.v1).
type SlackCommand struct {
	Command     string `json:"command"`
	Text        string `json:"text"`
	ResponseURL string `json:"response_url,omitempty"`
	TriggerID   string `json:"trigger_id,omitempty"`
	UserName    string `json:"user_name,omitempty"`
	ChannelName string `json:"channel_name,omitempty"`
}

// SlackAction is one block_actions button click (slack.action.v1).
type SlackAction struct {
	ActionID    string `json:"action_id"`
	BlockID     string `json:"block_id,omitempty"`
	Value       string `json:"value,omitempty"`
	MessageTS   string `json:"message_ts,omitempty"`
	ResponseURL string `json:"response_url,omitempty"`
	TriggerID   string `json:"trigger_id,omitempty"`
	// ViewID is the Home tab or modal the button is in (kind home).
	ViewID string `json:"view_id,omitempty"`
}

// SlackFileShared is a file shared with Maria (slack.file.v1).
type SlackFileShared struct {
	EventID string    `json:"event_id,omitempty"`
	TS      string    `json:"ts,omitempty"`
	File    SlackFile `json:"file"`
}

// SlackReaction is a reaction_added event (slack.reaction.v1).
type SlackReaction struct {
	EventID  string `json:"event_id,omitempty"`
	Reaction string `json:"reaction"`
	ItemTS   string `json:"item_ts"`
	ItemUser string `json:"item_user,omitempty"`
}

// SlackAssistant is an assistant pane event (slack.assistant.v1):
// assistant_thread_started or assistant_thread_context_changed.
type SlackAssistant struct {
	EventID string `json:"event_id,omitempty"`
	Event   string `json:"event" jsonschema:"enum=assistant_thread_started,enum=assistant_thread_context_changed"`
	// Context is the channel the user was looking at when opening the pane.
	ContextChannel string `json:"context_channel,omitempty"`
	ContextTeam    string `json:"context_team,omitempty"`
}

// OutPost posts a message (out.post.v1). Blocks is Slack Block Kit JSON.
type OutPost struct {
	Text     string `json:"text"`
	Blocks   []any  `json:"blocks,omitempty"`
	ThreadTS string `json:"thread_ts,omitempty"`
	// Ref names the message so later commands (update) can address it before
	// its Slack ts is known; egress resolves refs to ts.
	Ref string `json:"ref,omitempty"`
}

// OutUpdate edits a message (out.update.v1) addressed by TS or by Ref.
type OutUpdate struct {
	TS     string `json:"ts,omitempty"`
	Ref    string `json:"ref,omitempty"`
	Text   string `json:"text"`
	Blocks []any  `json:"blocks,omitempty"`
}

// OutEphemeral posts a message only User can see (out.ephemeral.v1).
type OutEphemeral struct {
	User     string `json:"user"`
	Text     string `json:"text"`
	Blocks   []any  `json:"blocks,omitempty"`
	ThreadTS string `json:"thread_ts,omitempty"`
}

// OutRespond answers through a slash command or action response_url (out.respond.v1).
type OutRespond struct {
	ResponseURL     string `json:"response_url"`
	Text            string `json:"text"`
	Blocks          []any  `json:"blocks,omitempty"`
	ResponseType    string `json:"response_type,omitempty" jsonschema:"enum=,enum=ephemeral,enum=in_channel"`
	ReplaceOriginal bool   `json:"replace_original,omitempty"`
}

// OutStream drives chat streaming: start (out.stream.start.v1), append
// (out.stream.append.v1) and stop (out.stream.stop.v1). Ref ties the three
// together; egress resolves it to the streamed message's ts.
type OutStream struct {
	Ref       string `json:"ref"`
	ThreadTS  string `json:"thread_ts,omitempty"`
	Markdown  string `json:"markdown_text,omitempty"`
	Blocks    []any  `json:"blocks,omitempty"`
	Recipient string `json:"recipient_user_id,omitempty"`
	TeamID    string `json:"recipient_team_id,omitempty"`
}

// OutStatus sets the assistant thread status line (out.status.v1); empty clears it.
type OutStatus struct {
	ThreadTS string `json:"thread_ts"`
	Status   string `json:"status"`
}

// OutPrompts sets assistant suggested prompts (out.prompts.v1).
type OutPrompts struct {
	ThreadTS string   `json:"thread_ts"`
	Title    string   `json:"title,omitempty"`
	Prompts  []Prompt `json:"prompts"`
}

// Prompt is one suggested prompt.
type Prompt struct {
	Title   string `json:"title"`
	Message string `json:"message"`
}

// OutTitle sets the assistant thread title (out.title.v1).
type OutTitle struct {
	ThreadTS string `json:"thread_ts"`
	Title    string `json:"title"`
}

// OutReact adds a reaction (out.react.v1).
type OutReact struct {
	TS   string `json:"ts"`
	Name string `json:"name"`
}

// OutUpload uploads a file through the external upload flow (out.upload.v1).
// Content is inline (base64 in JSON) and bounded by the stream's max message size.
type OutUpload struct {
	Filename string `json:"filename"`
	Title    string `json:"title,omitempty"`
	Content  []byte `json:"content"`
	ThreadTS string `json:"thread_ts,omitempty"`
	Comment  string `json:"initial_comment,omitempty"`
}

// ERPCommand is a confirmed ERP write (erp.command.v1), executed exactly once.
type ERPCommand struct {
	Op     string         `json:"op" jsonschema:"enum=create,enum=write,enum=action"`
	Model  string         `json:"model"`
	IDs    []int64        `json:"ids,omitempty"`
	Values map[string]any `json:"values"`
	// Method is the business action an "action" command calls on IDs
	// (e.g. action_confirm), allow-listed by MARIA_ERP_ACTIONS.
	Method string `json:"method,omitempty"`
	// ProposalID is the proposal the user confirmed.
	ProposalID string `json:"proposal_id,omitempty"`
	// ConfirmedBy is the Slack user who clicked Confirm.
	ConfirmedBy string `json:"confirmed_by"`
	// Confirmation points at that click on MARIA_IN; the erp service
	// executes nothing without it (see README.md "ERP confirmation").
	Confirmation *ERPConfirmation `json:"confirmation,omitempty"`
}

// ERPResult is the outcome of an ERPCommand (erp.result.v1).
type ERPResult struct {
	CommandID string  `json:"command_id"`
	Op        string  `json:"op"`
	Model     string  `json:"model"`
	OK        bool    `json:"ok"`
	IDs       []int64 `json:"ids,omitempty"`
	URL       string  `json:"url,omitempty"`
	Error     string  `json:"error,omitempty"`
	// Kind classifies Error: "access", "not_connected" (the identity policy
	// needs the confirmer's own Odoo user), "validation", "unavailable",
	// "internal".
	Kind       string `json:"kind,omitempty"`
	ProposalID string `json:"proposal_id,omitempty"`
}

// ERPQuery is a read request on maria.erp.query (request/reply, erp.query.v1).
type ERPQuery struct {
	Method string   `json:"method" jsonschema:"enum=search_read,enum=read,enum=search_count,enum=fields_get,enum=name_search,enum=read_group"`
	Model  string   `json:"model"`
	Domain []any    `json:"domain,omitempty"`
	Fields []string `json:"fields,omitempty"`
	IDs    []int64  `json:"ids,omitempty"`
	Limit  int      `json:"limit,omitempty"`
	Offset int      `json:"offset,omitempty"`
	Order  string   `json:"order,omitempty"`
	// Name is the text for name_search.
	Name string `json:"name,omitempty"`
	// GroupBy ("partner_id", "date_order:month") and Aggregates
	// ("amount_total:sum", "__count") shape a read_group.
	GroupBy    []string `json:"groupby,omitempty"`
	Aggregates []string `json:"aggregates,omitempty"`
	// Company narrows the read to one of the asker's companies (its name
	// or id); empty: every company they may see.
	Company string `json:"company,omitempty"`
	// Team and User are the Slack workspace and user asking: the erp
	// service runs the read as that person's Odoo user when they have
	// connected one, else as MARIA_ERP_IDENTITY_POLICY says (README "Whose
	// Odoo user").
	Team string `json:"team,omitempty"`
	User string `json:"user,omitempty"`
}

// ERPReply answers an ERPQuery (erp.reply.v1). Exactly one of Records, Count,
// Fields or Error is meaningful.
type ERPReply struct {
	Records []map[string]any `json:"records,omitempty"`
	Count   *int64           `json:"count,omitempty"`
	Fields  map[string]any   `json:"fields,omitempty"`
	Error   string           `json:"error,omitempty"`
	// Kind classifies Error: "refused" (allow-list, bad domain), "access",
	// "not_connected" (the identity policy needs the asker's own Odoo
	// user), "validation", "unavailable", "internal".
	Kind   string `json:"kind,omitempty"`
	Cached bool   `json:"cached,omitempty"`
	// BaseURL lets readers build links to records (OdooRecordLink with
	// OdooMajor).
	BaseURL string `json:"base_url,omitempty"`
	// Groups are read_group's rows: each groupby spec and aggregate spec
	// → its value, "__count" → the group's size.
	Groups []map[string]any `json:"groups,omitempty"`
	// Companies name the companies the data was read in, when the asker
	// may see more than one.
	Companies []string `json:"companies,omitempty"`
	// OdooMajor is the Odoo version (17, 18, 19…), which decides the
	// record link format; 0 when unknown.
	OdooMajor int `json:"odoo_major,omitempty"`
}

// StoredFile announces a file stored in object storage (stored.file.v1).
type StoredFile struct {
	FileID      string `json:"file_id"`
	Name        string `json:"name,omitempty"`
	Backend     string `json:"backend" jsonschema:"enum=nats,enum=aws"`
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	TS          string `json:"ts,omitempty"`
}

// Delivered records that egress executed a command (delivered.v1).
type Delivered struct {
	CommandID   string `json:"command_id"`
	CommandType string `json:"command_type"`
	TS          string `json:"ts,omitempty"`
	Ref         string `json:"ref,omitempty"`
	Text        string `json:"text,omitempty"`
}

// Audit records an ERP write, a confirmation click, an ERP read
// (erp_query: the query in Detail, never the records read) or a change of
// a workspace's settings (settings: what changed in Detail) (audit.v1).
type Audit struct {
	Action  string `json:"action" jsonschema:"enum=confirm,enum=cancel,enum=erp_write,enum=erp_query,enum=settings"`
	Actor   string `json:"actor"`
	Model   string `json:"model,omitempty"`
	Op      string `json:"op,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	// For ERP calls: the Slack user it was made for, the Odoo user it ran
	// as (login) and the identity policy that allowed it ("personal" for a
	// connected user's own account).
	SlackUser string `json:"slack_user,omitempty"`
	RunAs     string `json:"run_as,omitempty"`
	Policy    string `json:"policy,omitempty"`
}

// HistoryQuery asks the storage processor for a thread's history
// (request/reply on maria.history.query, history.query.v1; the body is this
// JSON, not an envelope). Limit defaults to 50 turns, at most 500: the
// newest turns are returned, oldest first.
type HistoryQuery struct {
	Team     string `json:"team,omitempty"`
	Channel  string `json:"channel" jsonschema:"minLength=1"`
	ThreadTS string `json:"thread_ts" jsonschema:"minLength=1"`
	Limit    int    `json:"limit,omitempty" jsonschema:"minimum=0,maximum=500"`
}

// HistoryTurn is one message of a thread as it reads now (edits applied,
// streamed chunks joined, deleted messages left out).
type HistoryTurn struct {
	TS   string    `json:"ts"`
	User string    `json:"user,omitempty"`
	Role string    `json:"role" jsonschema:"enum=user,enum=assistant"`
	Text string    `json:"text"`
	Time time.Time `json:"time"`
}

// HistoryReply answers a HistoryQuery (history.reply.v1). Error is set, and
// Turns empty, when the query was invalid or the store unavailable.
type HistoryReply struct {
	Turns []HistoryTurn `json:"turns"`
	Error string        `json:"error,omitempty"`
}

// PayloadTypes maps every event type to a zero value of its payload, so
// tooling (JSON Schema generation, decoders in `maria tail`) can enumerate them.
func PayloadTypes() map[string]any {
	return map[string]any{
		TypeSlackMessage:    SlackMessage{},
		TypeSlackMention:    SlackMessage{},
		TypeSlackCommand:    SlackCommand{},
		TypeSlackAction:     SlackAction{},
		TypeSlackFile:       SlackFileShared{},
		TypeSlackReaction:   SlackReaction{},
		TypeSlackAssistant:  SlackAssistant{},
		TypeSlackHome:       SlackHome{},
		TypeSlackView:       SlackView{},
		TypeOutViewPublish:  OutViewPublish{},
		TypeOutViewOpen:     OutViewOpen{},
		TypeOutPost:         OutPost{},
		TypeOutUpdate:       OutUpdate{},
		TypeOutEphemeral:    OutEphemeral{},
		TypeOutRespond:      OutRespond{},
		TypeOutStreamStart:  OutStream{},
		TypeOutStreamAppend: OutStream{},
		TypeOutStreamStop:   OutStream{},
		TypeOutStatus:       OutStatus{},
		TypeOutPrompts:      OutPrompts{},
		TypeOutTitle:        OutTitle{},
		TypeOutReact:        OutReact{},
		TypeOutUpload:       OutUpload{},
		TypeERPCommand:      ERPCommand{},
		TypeERPResult:       ERPResult{},
		TypeERPQuery:        ERPQuery{},
		TypeERPReply:        ERPReply{},
		TypeStoredFile:      StoredFile{},
		TypeDelivered:       Delivered{},
		TypeAudit:           Audit{},
		TypeHistoryQuery:    HistoryQuery{},
		TypeHistoryReply:    HistoryReply{},
		TypeFileRead:        FileRead{},
		TypeFileContent:     FileContent{},
	}
}

// OdooRecordURL is the link to one Odoo record in Odoo 17's format,
// <base>/web#id=<id>&model=<model>&view_type=form, which later versions
// still redirect: use it when the version is unknown.
func OdooRecordURL(base, model string, id int64) string {
	return OdooRecordLink(base, model, id, 0)
}

// OdooRecordLink is the link to one record in the web client of Odoo
// major: /odoo/<model>/<id> from Odoo 18 (a model without a dot as
// m-<model>, as the client's router writes it), /web#… before.
func OdooRecordLink(base, model string, id int64, major int) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	if major >= 18 {
		path := model
		if !strings.Contains(model, ".") {
			path = "m-" + model
		}
		return fmt.Sprintf("%s/odoo/%s/%d", base, path, id)
	}
	return fmt.Sprintf("%s/web#id=%d&model=%s&view_type=form", base, id, model)
}
