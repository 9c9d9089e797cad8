package installs_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/installs"
	"github.com/mariahq/maria/bus/installs/installstest"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/nats-io/nats.go/jetstream"
)

func testRing(t testing.TB) *sealed.Keyring {
	t.Helper()
	key := make([]byte, sealed.KeySize)
	_, _ = rand.Read(key)
	w, err := sealed.NewLocal("test", key)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sealed.NewKeyring(w)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestKVConformance(t *testing.T) {
	b := bustest.New(t, bustest.Options{NoStreams: true})
	ctx := context.Background()
	s, err := installs.OpenKV(ctx, b.JetStream(), 1, testRing(t))
	if err != nil {
		t.Fatal(err)
	}
	bucket, err := b.JetStream().KeyValue(ctx, installs.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	installstest.Run(t, s, func(ctx context.Context, key string) ([]byte, error) {
		e, err := bucket.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return e.Value(), nil
	})
}
