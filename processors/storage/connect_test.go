package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
)

// Slack Connect: a channel shared by two workspaces shows them the same
// file id. Each workspace stores its own copy, and a reader of one
// workspace reads only that workspace's.
func TestSharedChannelFileStoredPerWorkspace(t *testing.T) {
	h := start(t, nil)
	storedMsgs := bustest.Subscribe(t, h.b, "maria.stored.file.>")
	f := schemas.SlackFile{ID: "FCONNECT", Name: "terms.txt", Mimetype: "text/plain"}
	h.shareFile("EvA", "/files/FCONNECT/terms.txt", f, []byte("terms of the first workspace"))
	bustest.Eventually(t, 20*time.Second, func() bool { return len(storedMsgs()) == 1 }, "stored in %s", team)

	f.URLPrivateDownload = h.files.URL + "/files/FCONNECT/terms.txt"
	env, err := schemas.New("EvB", schemas.TypeSlackFile, "ingress", schemas.SlackFileShared{EventID: "EvB", TS: "1700000001.000200", File: f})
	if err != nil {
		t.Fatal(err)
	}
	env.Team, env.Channel, env.User, env.ThreadTS = "T2", channel, "U2", thread
	h.publishEnv(schemas.InSubject(schemas.KindFile, "T2", channel), env)
	bustest.Eventually(t, 20*time.Second, func() bool { return len(storedMsgs()) == 2 }, "stored in T2 as well")
	if n := h.files.hitCount("/files/FCONNECT/terms.txt"); n != 2 {
		t.Errorf("downloaded %d times, want once per workspace", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys := map[string]string{}
	for _, tm := range []string{team, "T2"} {
		rec, found, err := h.svc.Records().GetFile(ctx, tm, "FCONNECT")
		if err != nil || !found || rec.Team != tm {
			t.Fatalf("%s's record: %+v found=%v err=%v", tm, rec, found, err)
		}
		keys[tm] = rec.Key
		fc, err := h.svc.ReadFile(ctx, schemas.FileRead{Team: tm, FileID: "FCONNECT"})
		if err != nil || !fc.Found || fc.Text != "terms of the first workspace" {
			t.Errorf("%s reads %+v, %v", tm, fc, err)
		}
	}
	if keys[team] == keys["T2"] {
		t.Errorf("both workspaces' copies at %s", keys[team])
	}
	if fc, err := h.svc.ReadFile(ctx, schemas.FileRead{Team: "T3", FileID: "FCONNECT"}); err != nil || fc.Found {
		t.Errorf("a third workspace reads the file: %+v, %v", fc, err)
	}
}
