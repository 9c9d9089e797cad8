package settings_test

import (
	"context"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/processors/settings"
	"github.com/mariahq/maria/processors/settings/settingstest"
	"github.com/mariahq/maria/processors/storage/awstest"
)

func TestNATSStoreConformance(t *testing.T) {
	b := bustest.New(t)
	s, err := settings.OpenNATS(context.Background(), b.JetStream(), 1)
	if err != nil {
		t.Fatal(err)
	}
	settingstest.Run(t, s)
}

func TestDynamoStoreConformance(t *testing.T) {
	settingstest.Run(t, &settings.DynamoStore{DDB: awstest.Table(t, "maria"), Table: "maria"})
}

// A save in one replica reaches another replica's cache through the KV
// watch, long before the cache's TTL.
func TestCacheForgetsOnWatch(t *testing.T) {
	b := bustest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := settings.OpenNATS(ctx, b.JetStream(), 1)
	if err != nil {
		t.Fatal(err)
	}
	d := settings.Defaults{AssistantTitle: "Default", ERPReadChannels: []string{"dm"}, ERPWriteChannels: []string{"dm"}}
	c := settings.NewCache(s, d, time.Hour, bustest.Logger(t))
	go func() { _ = c.Run(ctx) }()
	got, err := c.Effective(ctx, "T1")
	if err != nil || got.AssistantTitle != "Default" || got.ERPReadChannels[0] != "dm" {
		t.Fatalf("defaults before any save: %+v %v", got, err)
	}
	// The watch starts asynchronously: keep saving until it has seen one.
	rev := uint64(0)
	bustest.Eventually(t, 10*time.Second, func() bool {
		next, err := s.Put(ctx, settings.Settings{TeamID: "T1", AssistantTitle: "Saved", ERPReadChannels: []string{}}, rev)
		if err != nil {
			t.Fatal(err)
		}
		rev = next
		got, err := c.Effective(ctx, "T1")
		return err == nil && got.AssistantTitle == "Saved"
	}, "the cache never saw the saved settings")
	got, _ = c.Effective(ctx, "T1")
	if len(got.ERPReadChannels) != 0 || got.ERPWriteChannels[0] != "dm" {
		t.Fatalf("saved empty read list must stay empty, unset write list default: %+v", got)
	}
}

func TestValidate(t *testing.T) {
	long := string(make([]rune, settings.MaxTitle+1))
	for _, tc := range []struct {
		name string
		s    settings.Settings
		ok   bool
	}{
		{"fine", settings.Settings{TeamID: "T1", AssistantTitle: "Maria"}, true},
		{"no team", settings.Settings{AssistantTitle: "Maria"}, false},
		{"no title", settings.Settings{TeamID: "T1"}, false},
		{"long title", settings.Settings{TeamID: "T1", AssistantTitle: long}, false},
		{"prompt without message", settings.Settings{TeamID: "T1", AssistantTitle: "M", SuggestedPrompts: []settings.Prompt{{Title: "x"}}}, false},
		{"five prompts", settings.Settings{TeamID: "T1", AssistantTitle: "M", SuggestedPrompts: make([]settings.Prompt, 5)}, false},
	} {
		if err := tc.s.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}
