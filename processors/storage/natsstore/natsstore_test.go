package natsstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/processors/storage/natsstore"
	"github.com/mariahq/maria/processors/storage/storetest"
)

func TestConformance(t *testing.T) {
	b := bustest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := natsstore.Open(ctx, b.JetStream(), natsstore.Config{Buckets: []string{"maria_docs", "maria_images"}, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, s, s, "maria_docs")
}
