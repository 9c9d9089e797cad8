package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

func orderReply(q schemas.ERPQuery) schemas.ERPReply {
	switch q.Model {
	case "sale.order":
		return schemas.ERPReply{BaseURL: "http://odoo.test", Records: []map[string]any{
			{"id": 42, "name": "S00042", "partner_id": []any{7, "Azure Interior"}, "state": "sale", "amount_total": 1799.0}}}
	case "res.users":
		return schemas.ERPReply{Records: []map[string]any{{"id": 6, "name": "Marc Mitchell"}}}
	}
	return schemas.ERPReply{Error: "model not allowed", Kind: "refused"}
}

func TestMentionAnswersInThreadWithToolCall(t *testing.T) {
	h := newHarness(t, testConfig())
	erp := startERPStub(t, h.b, orderReply)
	h.model.push(
		callTool(ToolSearchRead, map[string]any{"model": "sale.order", "domain": []any{[]any{"name", "=", "S00042"}}, "fields": []string{"name", "partner_id"}}),
		callTool(ToolSearchRead, map[string]any{"model": "sale.order", "domain": []any{[]any{"name", "=", "S00042"}}, "fields": []string{"name", "partner_id"}}),
		say("S00042 is confirmed for Azure Interior, total 1,799.00."),
	)
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "",
		schemas.SlackMessage{TS: "100.1", Text: "<@UMARIA> what is the status of S00042?"})

	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "no stream stop")
	outs := h.outputs("")
	if got := streamedText(t, outs); !strings.Contains(got, "Azure Interior") {
		t.Fatalf("answer %q lacks the ERP data", got)
	}
	for _, e := range outs {
		switch e.Type {
		case schemas.TypeOutStreamStart, schemas.TypeOutStreamAppend, schemas.TypeOutStreamStop:
			d, _ := schemas.DecodeData[schemas.OutStream](e)
			if d.ThreadTS != "100.1" || d.Ref == "" {
				t.Fatalf("%s not threaded with a ref: %+v", e.Type, d)
			}
		case schemas.TypeOutStatus:
			d, _ := schemas.DecodeData[schemas.OutStatus](e)
			if d.ThreadTS != "100.1" {
				t.Fatalf("status not threaded: %+v", d)
			}
		}
	}
	// Batched: 10-char flushes of a 56-char answer, not one per delta.
	if n := len(h.outputs(schemas.TypeOutStreamAppend)); n < 2 || n > 7 {
		t.Fatalf("got %d appends", n)
	}
	statuses := h.outputs(schemas.TypeOutStatus)
	last, _ := schemas.DecodeData[schemas.OutStatus](statuses[len(statuses)-1])
	if last.Status != "" {
		t.Fatalf("status not cleared at the end: %q", last.Status)
	}
	var sawLookup bool
	for _, s := range statuses {
		d, _ := schemas.DecodeData[schemas.OutStatus](s)
		sawLookup = sawLookup || d.Status == "is looking up sale.order…"
	}
	if !sawLookup {
		t.Fatal("no tool status while the lookup ran")
	}
	// The identical read in the second round came from the turn's cache.
	if q := erp.all(); len(q) != 1 || q[0].Method != "search_read" || q[0].Model != "sale.order" {
		t.Fatalf("ERP queries = %+v, want one search_read on sale.order", q)
	}
	stop := h.outputs(schemas.TypeOutStreamStop)[0]
	sd, _ := schemas.DecodeData[schemas.OutStream](stop)
	if !strings.Contains(fmt.Sprint(sd.Blocks), "<"+schemas.OdooRecordURL("http://odoo.test", "sale.order", 42)+"|S00042>") {
		t.Fatalf("stop has no record link: %+v", sd.Blocks)
	}
	// Memory holds the turn with the tool result summarized.
	th, found, err := h.p.Memory().Load(context.Background(), ThreadKey("T1", "C1", "100.1"))
	if err != nil || !found {
		t.Fatalf("memory: %v %v", found, err)
	}
	if len(th.Entries) != 4 || th.Entries[0].Role != RoleUser || th.Entries[3].Role != RoleAssistant ||
		!strings.Contains(th.Entries[1].Text, "Azure Interior") {
		t.Fatalf("memory entries = %+v", th.Entries)
	}
}

func TestFollowUpInKnownThreadSeesEarlierTurn(t *testing.T) {
	h := newHarness(t, testConfig())
	startERPStub(t, h.b, orderReply)
	h.model.push(say("S00042 belongs to Azure Interior."), say("The customer is Azure Interior."))
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "",
		schemas.SlackMessage{TS: "100.1", Text: "<@UMARIA> status of S00042?"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "first answer")
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "ev2", "U1", "100.1",
		schemas.SlackMessage{TS: "100.5", ThreadTS: "100.1", ChannelType: "channel", Text: "and who is the customer?"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 2 }, "second answer")
	reqs := h.model.requests()
	var all []string
	for _, m := range reqs[1].Messages {
		all = append(all, m.Role+":"+m.Content)
	}
	joined := strings.Join(all, "\n")
	if !strings.Contains(joined, "user:status of S00042?") || !strings.Contains(joined, "assistant:S00042 belongs to Azure Interior.") {
		t.Fatalf("follow-up request lacks the earlier turn:\n%s", joined)
	}
}

func TestIgnoresWhatIsNotForMaria(t *testing.T) {
	h := newHarness(t, testConfig())
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "a", "U1", "", schemas.SlackMessage{TS: "1.1", ChannelType: "channel", Text: "lunch?"})
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "b", "U1", "", schemas.SlackMessage{TS: "1.2", ChannelType: "im", BotID: "B1", Text: "bot talk"})
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "c", "U1", "", schemas.SlackMessage{TS: "1.3", ChannelType: "channel", Mentioned: true, Text: "<@UMARIA> hi"})
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "d", "U1", "9.9", schemas.SlackMessage{TS: "1.4", ThreadTS: "9.9", ChannelType: "channel", Text: "unknown thread"})
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "e", "U1", "", schemas.SlackMessage{TS: "1.5", ChannelType: "im", Subtype: "message_changed", Text: "edit"})
	// A DM is for Maria: it proves the others were consumed before it.
	h.model.push(say("Hello!"))
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "f", "U1", "", schemas.SlackMessage{TS: "1.6", ChannelType: "im", Text: "hi Maria"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "DM answer")
	waitAcked(t, h.b, ConsumerName)
	if n := len(h.model.requests()); n != 1 {
		t.Fatalf("model called %d times, want 1 (the DM)", n)
	}
	d, _ := schemas.DecodeData[schemas.OutStream](h.outputs(schemas.TypeOutStreamStop)[0])
	if d.ThreadTS != "1.6" {
		t.Fatalf("DM answer thread = %q", d.ThreadTS)
	}
}

func waitAcked(t *testing.T, b *bus.Bus, consumer string) {
	t.Helper()
	bustest.Eventually(t, 5*time.Second, func() bool {
		c, err := b.JetStream().Consumer(context.Background(), schemas.StreamIn, consumer)
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}, "consumer %s not drained", consumer)
}

func TestCreateProposesAndOnlyAskerConfirmsExactlyOnce(t *testing.T) {
	h := newHarness(t, testConfig())
	startERPStub(t, h.b, orderReply)
	h.model.push(
		callTool(ToolCreate, map[string]any{"model": "crm.lead", "values": map[string]any{"name": "Acme", "expected_revenue": 5000}}),
		say("I proposed the lead; confirm it with the button."),
	)
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "",
		schemas.SlackMessage{TS: "200.1", Text: "<@UMARIA> create a lead for Acme, 5k"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "answer")
	posts := h.outputs(schemas.TypeOutPost)
	if len(posts) != 1 {
		t.Fatalf("want one proposal post, got %d", len(posts))
	}
	post, _ := schemas.DecodeData[schemas.OutPost](posts[0])
	raw, _ := json.Marshal(post.Blocks)
	if post.ThreadTS != "200.1" || !strings.Contains(string(raw), ActionConfirm) || !strings.Contains(string(raw), ActionCancel) {
		t.Fatalf("proposal post = %+v", post)
	}
	var blocks []map[string]any
	_ = json.Unmarshal(raw, &blocks)
	propID := blocks[2]["elements"].([]any)[0].(map[string]any)["value"].(string)

	cmds := bustest.Subscribe(t, h.b, schemas.SubjectERPCommandAll)
	erpCount := func() uint64 {
		s, err := h.b.JetStream().Stream(context.Background(), schemas.StreamERP)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(schemas.SubjectERPCommandAll))
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	if erpCount() != 0 {
		t.Fatal("an ERP command before any confirmation")
	}
	click := func(id, user string) *schemas.Envelope {
		return h.inbound(schemas.KindAction, schemas.TypeSlackAction, id, user, "200.1",
			schemas.SlackAction{ActionID: ActionConfirm, Value: propID, MessageTS: "200.2"})
	}
	// The asker's own click is refused when ingress could not classify
	// them as a member at click time (the policy is judged at the click).
	h.inboundAs(schemas.UserKindUnknown, schemas.KindAction, schemas.TypeSlackAction, "click-unverified", "U1", "200.1",
		schemas.SlackAction{ActionID: ActionConfirm, Value: propID, MessageTS: "200.2"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutEphemeral)) == 1 }, "refusal for an unverified clicker")
	if erpCount() != 0 {
		t.Fatal("an unverified click wrote to the ERP")
	}
	click("click-other", "U2")
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutEphemeral)) == 2 }, "refusal for U2")
	if erpCount() != 0 {
		t.Fatal("another user's click wrote to the ERP")
	}
	first := click("click-1", "U1")
	click("click-2", "U1") // double click
	// Redelivery of the first click (same envelope, new NATS id).
	msg, _ := bus.EnvelopeMsg(context.Background(), schemas.InSubject(schemas.KindAction, "T1", "C1"), first)
	msg.Header.Set(schemas.HeaderMsgID, "redelivered-click-1")
	if _, err := h.b.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	waitAcked(t, h.b, ConsumerName)
	bustest.Eventually(t, 5*time.Second, func() bool { return erpCount() == 1 }, "one ERP command")
	if n := erpCount(); n != 1 {
		t.Fatalf("%d ERP commands stored, want exactly 1", n)
	}
	got := cmds()
	cmdEnv, _ := schemas.Decode(got[0].Data)
	cmd, _ := schemas.DecodeData[schemas.ERPCommand](cmdEnv)
	if cmd.Op != "create" || cmd.Model != "crm.lead" || cmd.ConfirmedBy != "U1" || cmd.ProposalID != propID || cmd.Values["name"] != "Acme" {
		t.Fatalf("command = %+v", cmd)
	}
	if cmdEnv.ThreadTS != "200.1" || cmdEnv.CausationID != first.ID {
		t.Fatalf("command envelope = %+v", cmdEnv)
	}
	p, err := h.p.Proposals().Get(context.Background(), propID)
	if err != nil || p.Status != ProposalConfirmed || p.DecidedEvent != first.ID {
		t.Fatalf("proposal = %+v, %v", p, err)
	}
	// The command names the winning click by its MARIA_IN sequence, for
	// the erp service to check.
	if c := cmd.Confirmation; c == nil || c.EventID != first.ID || c.StreamSeq == 0 || c.StreamSeq != p.DecidedSeq {
		t.Fatalf("confirmation = %+v, proposal decided at seq %d", cmd.Confirmation, p.DecidedSeq)
	}
	in, err := h.b.JetStream().Stream(context.Background(), schemas.StreamIn)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := in.GetMsg(context.Background(), cmd.Confirmation.StreamSeq); err != nil || !strings.Contains(string(raw.Data), first.ID) {
		t.Fatalf("MARIA_IN seq %d is not the click: %v", cmd.Confirmation.StreamSeq, err)
	}
	updates := h.outputs(schemas.TypeOutUpdate)
	if len(updates) == 0 {
		t.Fatal("proposal message not updated")
	}
	u, _ := schemas.DecodeData[schemas.OutUpdate](updates[0])
	if u.TS != "200.2" || !strings.Contains(u.Text, "Confirmed by <@U1>") || strings.Contains(string(updates[0].Data), ActionConfirm) {
		t.Fatalf("update = %+v", u)
	}

	// The ERP reports the outcome: Maria says so in the thread.
	resEnv, _ := cmdEnv.Child("result", schemas.TypeERPResult, "erp", schemas.ERPResult{CommandID: cmdEnv.ID, Op: "create", Model: "crm.lead",
		OK: true, IDs: []int64{12}, URL: schemas.OdooRecordURL("http://odoo.test", "crm.lead", 12), ProposalID: propID})
	if _, err := h.b.Publish(context.Background(), schemas.ERPResultSubject("crm.lead"), resEnv); err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 5*time.Second, func() bool {
		for _, e := range h.outputs(schemas.TypeOutPost) {
			d, _ := schemas.DecodeData[schemas.OutPost](e)
			if strings.Contains(d.Text, "Created crm.lead #12") && d.ThreadTS == "200.1" {
				return true
			}
		}
		return false
	}, "result not reported in the thread")
	bustest.Eventually(t, 5*time.Second, func() bool {
		p, err := h.p.Proposals().Get(context.Background(), propID)
		return err == nil && p.Status == ProposalDone
	}, "proposal not done")
}

func TestCancelByAsker(t *testing.T) {
	h := newHarness(t, testConfig())
	h.model.push(
		callTool(ToolWrite, map[string]any{"model": "sale.order", "ids": []int{42}, "values": map[string]any{"note": "rush"}}),
		say("Proposed."),
	)
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "", schemas.SlackMessage{TS: "300.1", Text: "<@UMARIA> mark S00042 rush"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutPost)) == 1 }, "proposal")
	post, _ := schemas.DecodeData[schemas.OutPost](h.outputs(schemas.TypeOutPost)[0])
	if !strings.Contains(post.Blocks[0].(map[string]any)["text"].(map[string]any)["text"].(string), "update `sale.order` #42") {
		t.Fatalf("proposal text: %+v", post.Blocks[0])
	}
	propID := post.Blocks[2].(map[string]any)["elements"].([]any)[1].(map[string]any)["value"].(string)
	audits := bustest.Subscribe(t, h.b, schemas.SubjectAuditAll)
	h.inbound(schemas.KindAction, schemas.TypeSlackAction, "cancel-1", "U1", "300.1", schemas.SlackAction{ActionID: ActionCancel, Value: propID})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutUpdate)) == 1 }, "cancel update")
	p, _ := h.p.Proposals().Get(context.Background(), propID)
	if p.Status != ProposalCancelled {
		t.Fatalf("status %s", p.Status)
	}
	bustest.Eventually(t, 5*time.Second, func() bool { return len(audits()) == 1 }, "audit")
	a, _ := schemas.Decode(audits()[0].Data)
	ad, _ := schemas.DecodeData[schemas.Audit](a)
	if a.Type != schemas.TypeAudit || ad.Action != "cancel" || ad.Actor != "U1" || ad.Model != "sale.order" {
		t.Fatalf("audit = %+v", ad)
	}
}

func TestBudgetExceededRepliesWithoutCallingTheModel(t *testing.T) {
	cfg := testConfig()
	cfg.UserDailyTokens = 100
	h := newHarness(t, cfg)
	if err := h.p.Budgets().Add(context.Background(), "T1", "U1", 150); err != nil {
		t.Fatal(err)
	}
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "", schemas.SlackMessage{TS: "1.1", Text: "<@UMARIA> hi"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutPost)) == 1 }, "budget reply")
	d, _ := schemas.DecodeData[schemas.OutPost](h.outputs(schemas.TypeOutPost)[0])
	if !strings.Contains(d.Text, "allowance") || d.ThreadTS != "1.1" {
		t.Fatalf("reply = %+v", d)
	}
	if n := len(h.model.requests()); n != 0 {
		t.Fatalf("model called %d times", n)
	}
}

func TestUsageCountsAgainstBudgets(t *testing.T) {
	h := newHarness(t, testConfig())
	h.model.push(say("Hi."))
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "ev1", "U9", "", schemas.SlackMessage{TS: "1.1", ChannelType: "im", Text: "hi"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "answer")
	bustest.Eventually(t, 5*time.Second, func() bool {
		u, tm, err := h.p.Budgets().Used(context.Background(), "T1", "U9")
		return err == nil && u == 120 && tm == 120
	}, "usage not counted")
}

func TestAIFailureApologizesAndAcks(t *testing.T) {
	h := newHarness(t, testConfig())
	h.model.push(fail(FailQuota))
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "", schemas.SlackMessage{TS: "1.1", Text: "<@UMARIA> hi"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "apology")
	if got := streamedText(t, h.outputs("")); !strings.Contains(got, "can't reach the AI service") {
		t.Fatalf("apology = %q", got)
	}
	waitAcked(t, h.b, ConsumerName)
	if n := len(h.model.requests()); n != 1 {
		t.Fatalf("model called %d times", n)
	}
}

func TestContextLengthTrimsMemoryAndRetriesOnce(t *testing.T) {
	cfg := testConfig()
	h := newHarness(t, cfg)
	key := ThreadKey("T1", "C1", "5.1")
	var entries []Entry
	for i := 0; i < 30; i++ {
		entries = append(entries, Entry{ID: string(rune('a' + i)), Role: RoleUser, Text: strings.Repeat("word ", 40)})
	}
	if err := h.p.Memory().Append(context.Background(), key, 0, entries...); err != nil {
		t.Fatal(err)
	}
	h.model.push(fail(FailContextLength), say("Short answer."))
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "ev1", "U1", "5.1", schemas.SlackMessage{TS: "5.9", ThreadTS: "5.1", ChannelType: "channel", Text: "again?"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "answer")
	reqs := h.model.requests()
	if len(reqs) != 2 || len(reqs[1].Messages) >= len(reqs[0].Messages) {
		t.Fatalf("requests: %d, messages %d then %d", len(reqs), len(reqs[0].Messages), len(reqs[len(reqs)-1].Messages))
	}
	if got := streamedText(t, h.outputs("")); got != "Short answer." {
		t.Fatalf("answer %q", got)
	}
}

func TestSlashCommandPostsInChannel(t *testing.T) {
	h := newHarness(t, testConfig())
	h.model.push(say("42 orders."))
	h.inbound(schemas.KindCommand, schemas.TypeSlackCommand, "cmd1", "U1", "", schemas.SlackCommand{Command: "/maria", Text: "how many orders?"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutPost)) == 1 }, "post")
	d, _ := schemas.DecodeData[schemas.OutPost](h.outputs(schemas.TypeOutPost)[0])
	if d.ThreadTS != "" || !strings.Contains(d.Text, "how many orders?") || !strings.Contains(d.Text, "42 orders.") {
		t.Fatalf("post = %+v", d)
	}
	if n := len(h.outputs(schemas.TypeOutStreamStart)) + len(h.outputs(schemas.TypeOutStatus)); n != 0 {
		t.Fatalf("%d stream/status commands for a slash command", n)
	}
}

func TestAssistantThreadStarted(t *testing.T) {
	h := newHarness(t, testConfig())
	h.inbound(schemas.KindAssistant, schemas.TypeSlackAssistant, "as1", "U1", "7.1",
		schemas.SlackAssistant{Event: "assistant_thread_started", ContextChannel: "C42"})
	bustest.Eventually(t, 5*time.Second, func() bool {
		return len(h.outputs(schemas.TypeOutPrompts)) == 1 && len(h.outputs(schemas.TypeOutTitle)) == 1
	}, "prompts and title")
	th, found, err := h.p.Memory().Load(context.Background(), ThreadKey("T1", "C1", "7.1"))
	if err != nil || !found || th.Context != "C42" {
		t.Fatalf("context = %+v %v %v", th, found, err)
	}
	h.model.push(say("ok"))
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "m1", "U1", "7.1", schemas.SlackMessage{TS: "7.2", ThreadTS: "7.1", ChannelType: "im", Text: "hi"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.model.requests()) == 1 }, "question")
	if !strings.Contains(h.model.requests()[0].Messages[1].Content, "<#C42>") {
		t.Fatalf("context not given to the model: %+v", h.model.requests()[0].Messages[1])
	}
}

// An edit or a deletion of a remembered question revises memory: the next
// follow-up sees the edited words, then nothing of the deleted message.
func TestEditsAndDeletionsReviseMemory(t *testing.T) {
	h := newHarness(t, testConfig())
	h.model.push(say("Noted."), say("Still noted."), say("Fine."))
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "",
		schemas.SlackMessage{TS: "300.1", Text: "<@UMARIA> my budget is 5k"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "first answer")

	history := func(i int) string {
		var all []string
		for _, m := range h.model.requests()[i].Messages {
			all = append(all, m.Role+":"+m.Content)
		}
		return strings.Join(all, "\n")
	}
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "ev2", "U1", "300.1",
		schemas.SlackMessage{TS: "300.2", ChannelType: "channel", Subtype: "message_changed", PreviousTS: "300.1", Text: "<@UMARIA> my budget is 7k"})
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "ev3", "U1", "300.1",
		schemas.SlackMessage{TS: "300.3", ThreadTS: "300.1", ChannelType: "channel", Text: "what did I say?"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 2 }, "second answer")
	if got := history(1); !strings.Contains(got, "user:my budget is 7k") || strings.Contains(got, "5k") {
		t.Fatalf("after the edit the model saw:\n%s", got)
	}

	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "ev4", "U1", "300.1",
		schemas.SlackMessage{TS: "300.4", ChannelType: "channel", Subtype: "message_deleted", PreviousTS: "300.1"})
	h.inbound(schemas.KindMessage, schemas.TypeSlackMessage, "ev5", "U1", "300.1",
		schemas.SlackMessage{TS: "300.5", ThreadTS: "300.1", ChannelType: "channel", Text: "and now?"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 3 }, "third answer")
	if got := history(2); strings.Contains(got, "budget is") {
		t.Fatalf("after the deletion the model still saw it:\n%s", got)
	}
	if got := history(2); !strings.Contains(got, "user:what did I say?") {
		t.Fatalf("the deletion removed more than the deleted message:\n%s", got)
	}
}
