package kv_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/kv"
)

func TestOpenValidatesTheConfig(t *testing.T) {
	b := bustest.New(t, bustest.Options{NoStreams: true})
	ctx := context.Background()
	for _, c := range []struct {
		cfg  kv.Config
		want string
	}{
		{kv.Config{Bucket: "has.dot"}, "bucket name"},
		{kv.Config{Bucket: ""}, "bucket name"},
		{kv.Config{Bucket: "ok", TTL: -time.Second}, "negative TTL"},
		{kv.Config{Bucket: "ok", History: 65}, "history"},
		{kv.Config{Bucket: "ok", Replicas: 7}, "replicas"},
	} {
		if _, err := kv.Open(ctx, b.JetStream(), c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%+v) = %v, want an error about %s", c.cfg, err, c.want)
		}
	}
	bucket, err := kv.Open(ctx, b.JetStream(), kv.Config{Bucket: "test_open", Description: "test", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	st, err := bucket.Status(ctx)
	if err != nil || st.History() != 1 || st.TTL() != time.Hour {
		t.Fatalf("status = %+v, %v; want history 1 and TTL 1h", st, err)
	}
	if _, err := kv.Bind(ctx, b.JetStream(), "test_open"); err != nil {
		t.Fatalf("Bind to an existing bucket: %v", err)
	}
	if _, err := kv.Bind(ctx, b.JetStream(), "test_missing"); err == nil {
		t.Fatal("Bind created a bucket")
	}
}

type counter struct {
	N     int      `json:"n"`
	Names []string `json:"names"`
}

func TestStoreCreateGetPut(t *testing.T) {
	b := bustest.New(t, bustest.Options{NoStreams: true})
	ctx := context.Background()
	bucket, err := kv.Open(ctx, b.JetStream(), kv.Config{Bucket: "test_typed"})
	if err != nil {
		t.Fatal(err)
	}
	s := kv.Typed[counter](bucket)
	if _, found, err := s.Get(ctx, "c"); err != nil || found {
		t.Fatalf("Get of a missing key = found %v, %v", found, err)
	}
	rev, err := s.Create(ctx, "c", counter{N: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "c", counter{N: 9}); !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("second Create = %v, want ErrConflict", err)
	}
	e, found, err := s.Get(ctx, "c")
	if err != nil || !found || e.Value.N != 1 || e.Revision != rev || e.Created.IsZero() {
		t.Fatalf("Get = %+v, %v, %v", e, found, err)
	}
	if _, err := s.Put(ctx, "c", counter{N: 2}, rev); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "c", counter{N: 3}, rev); !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("Put on a stale revision = %v, want ErrConflict", err)
	}
	if _, err := bucket.Put(ctx, "bad", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "bad"); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("Get of a corrupt value = %v, want a decode error", err)
	}
}

// Concurrent Updates of one key all land: none is lost to another's write.
func TestStoreUpdateIsCompareAndSet(t *testing.T) {
	b := bustest.New(t, bustest.Options{NoStreams: true})
	ctx := context.Background()
	bucket, err := kv.Open(ctx, b.JetStream(), kv.Config{Bucket: "test_cas"})
	if err != nil {
		t.Fatal(err)
	}
	s := kv.Typed[counter](bucket)
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			_, err := s.Update(ctx, "n", func(cur counter, found bool) (counter, error) {
				cur.N++
				cur.Names = append(cur.Names, string(rune('a'+i)))
				return cur, nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	e, _, err := s.Get(ctx, "n")
	if err != nil || e.Value.N != writers || len(e.Value.Names) != writers {
		t.Fatalf("after %d concurrent updates: %+v, %v", writers, e.Value, err)
	}
	stop := errors.New("no")
	if _, err := s.Update(ctx, "n", func(counter, bool) (counter, error) { return counter{}, stop }); !errors.Is(err, stop) {
		t.Fatalf("Update with a failing change = %v, want its error", err)
	}
}

// ErrNoChange ends an Update without a write; ResetCorrupt reads a
// corrupt value as zero so an Update can overwrite it; Set and Delete are
// unconditional.
func TestStoreNoChangeCorruptSetDelete(t *testing.T) {
	b := bustest.New(t, bustest.Options{NoStreams: true})
	ctx := context.Background()
	bucket, err := kv.Open(ctx, b.JetStream(), kv.Config{Bucket: "test_typed_more"})
	if err != nil {
		t.Fatal(err)
	}
	s := kv.Typed[counter](bucket)
	rev, err := s.Set(ctx, "c", counter{N: 5})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Update(ctx, "c", func(cur counter, found bool) (counter, error) { return cur, kv.ErrNoChange })
	if err != nil || e.Revision != rev || e.Value.N != 5 {
		t.Fatalf("Update with no change = %+v, %v; want revision %d kept", e, err, rev)
	}
	if _, err := s.Set(ctx, "c", counter{N: 6}); err != nil {
		t.Fatalf("Set over an existing key: %v", err)
	}

	if _, err := bucket.Put(ctx, "bad", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	lenient := s.ResetCorrupt()
	got, found, err := lenient.Get(ctx, "bad")
	if err != nil || !found || got.Value.N != 0 || got.Revision == 0 {
		t.Fatalf("lenient Get of a corrupt value = %+v, %v, %v; want zero, found, with its revision", got, found, err)
	}
	if _, err := lenient.Update(ctx, "bad", func(cur counter, _ bool) (counter, error) { cur.N++; return cur, nil }); err != nil {
		t.Fatalf("Update over a corrupt value: %v", err)
	}
	if got, _, err := s.Get(ctx, "bad"); err != nil || got.Value.N != 1 {
		t.Fatalf("after overwriting the corrupt value: %+v, %v", got.Value, err)
	}

	if err := s.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "never-there"); err != nil {
		t.Fatalf("Delete of a missing key = %v, want nil", err)
	}
	if _, found, err := s.Get(ctx, "c"); err != nil || found {
		t.Fatalf("Get after Delete = found %v, %v", found, err)
	}
}
