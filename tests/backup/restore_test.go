// Package backup_test checks `maria backup` and `maria restore` on the
// demo's whole pipeline: state taken from a running Maria, the data dir
// wiped, restored, and Maria started again on it.
package backup_test

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/processors/ai"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/openaisim"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

// before is the state taken before the backup.
type before struct {
	thread  string
	offer   slacksim.Message // Maria's proposal, Confirm not clicked
	confirm demo.Button
	stored  schemas.StoredFile // a file stored before the backup
	pending *demo.Turn         // a file shared while storage was stopped
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func settle(t *testing.T, e *demo.Env, turn *demo.Turn, err error, done func([]demo.Seen) bool) []demo.Seen {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	seen, err := e.Settle(ctxT(t), turn.ID, done)
	if err != nil {
		t.Fatalf("turn %s: %v\n%s", turn.ID, err, e.Slack.Transcript())
	}
	return seen
}

// The acceptance test of issue 22: a conversation with memory, a pending
// proposal, a stored file and an unprocessed message are backed up by
// `maria backup` from a running demo; the data dir is wiped; `maria
// restore` recreates it; Maria starts again on it and all four are back:
// the pending file gets stored, the stored file reads back, a follow-up is
// answered from the restored memory, and Confirm writes the lead once.
func TestBackupWipeRestore(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	slack := slacksim.New("xoxb-backup-test")
	t.Cleanup(slack.Close)
	model := openaisim.New(openaisim.Rules())
	opts := demo.Options{DataDir: dataDir, Split: true, Slack: slack, OpenAI: model, SettleTimeout: time.Minute}

	e1, err := demo.Start(ctxT(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	b := converse(t, e1)
	backupDir := filepath.Join(t.TempDir(), "backup")
	out := run(t, []string{"NATS_URL=" + e1.NATSURL(), "NATS_CREDS=" + e1.NATSCreds()}, "backup", backupDir)
	if strings.TrimSpace(out) != backupDir {
		t.Fatalf("maria backup printed %q, want the directory", out)
	}
	e1.Close()

	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}
	run(t, []string{"MARIA_DATA_DIR=" + dataDir, "MARIA_NATS_LISTEN=-"}, "restore", backupDir)

	e2, err := demo.Start(ctxT(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e2.Close)
	checkRestored(t, e2, model, b)
}

// converse builds the state: an answered question (memory), a proposal
// left unconfirmed, a stored file, and a file shared while storage is
// stopped (a message its consumer has not processed).
func converse(t *testing.T, e *demo.Env) before {
	var b before
	q, err := e.Mention(ctxT(t), demo.ScriptChannel, demo.ScriptUser, demo.QuestionOrder, "")
	settle(t, e, q, err, demo.Answered)
	b.thread = q.ThreadTS
	lead, err := e.Reply(ctxT(t), demo.ScriptChannel, demo.ScriptUser, demo.QuestionLead, b.thread)
	settle(t, e, lead, err, demo.Answered)
	var ok bool
	if b.offer, b.confirm, ok = e.FindButton(demo.ScriptChannel, b.thread, ai.ActionConfirm); !ok {
		t.Fatalf("no proposal with Confirm\n%s", e.Slack.Transcript())
	}
	img, _, err := e.ShareFile(ctxT(t), demo.ScriptChannel, "channel", demo.ScriptUser, "", b.thread, demo.ImageName, "image/png", demo.DemoImage())
	seen := settle(t, e, img, err, demo.Stored)
	sf, err := schemas.DecodeData[schemas.StoredFile](demo.OfType(seen, schemas.TypeStoredFile)[0])
	if err != nil {
		t.Fatal(err)
	}
	b.stored = *sf

	if err := e.StopService("storage"); err != nil {
		t.Fatal(err)
	}
	b.pending, _, err = e.ShareFile(ctxT(t), demo.ScriptChannel, "channel", demo.ScriptUser, "", b.thread,
		"notes.txt", "text/plain", []byte("restored, not lost\n"))
	if err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 30*time.Second, func() bool { return lag(t, e, "storage-files") > 0 }, "the file waiting for storage")
	return b
}

// lag is a consumer's pending + unacknowledged count.
func lag(t *testing.T, e *demo.Env, consumer string) uint64 {
	st, err := ops.Streams(ctxT(t), e.Observer.JetStream(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		for _, c := range s.Consumers {
			if c.Name == consumer {
				return uint64(c.Lag)
			}
		}
	}
	return 0
}

func checkRestored(t *testing.T, e *demo.Env, model *openaisim.Sim, b before) {
	// The unprocessed message: storage, running again, stores the file.
	settle(t, e, b.pending, nil, demo.Stored)

	// The stored file reads back byte for byte.
	obj, err := e.Observer.JetStream().ObjectStore(ctxT(t), b.stored.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	data, err := obj.GetBytes(ctxT(t), b.stored.Key)
	if sum := sha256.Sum256(data); err != nil || b.stored.SHA256 != hexOf(sum[:]) {
		t.Fatalf("stored file %s/%s after restore: %d bytes, %v", b.stored.Bucket, b.stored.Key, len(data), err)
	}

	// Memory: a follow-up in the thread is answered with the earlier turn.
	asked := len(model.Requests())
	f, err := e.Reply(ctxT(t), demo.ScriptChannel, demo.ScriptUser, demo.QuestionFollowUp, b.thread)
	settle(t, e, f, err, demo.Answered)
	remembered := false
	for _, r := range model.Requests()[asked:] {
		for _, m := range r.Messages[:max(0, len(r.Messages)-1)] {
			remembered = remembered || strings.Contains(m.Text(), "S00042")
		}
	}
	if !remembered {
		t.Error("the follow-up's model request does not carry the earlier turn: thread memory was not restored")
	}

	// The pending proposal: Confirm writes exactly one lead.
	leads := e.Odoo.Count("crm.lead")
	c, err := e.Click(ctxT(t), demo.ScriptUser, b.offer, b.confirm)
	seen := settle(t, e, c, err, demo.ERPDone)
	for _, r := range demo.OfType(seen, schemas.TypeERPResult) {
		if res, err := schemas.DecodeData[schemas.ERPResult](r); err != nil || !res.OK {
			t.Errorf("ERP result after restore: %+v %v", res, err)
		}
	}
	if got := e.Odoo.Count("crm.lead"); got != leads+1 {
		t.Errorf("crm.lead %d → %d after Confirm on the restored proposal, want one more", leads, got)
	}
}
