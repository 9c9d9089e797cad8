package identity_test

import (
	"context"
	"testing"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/processors/erp/identity"
	"github.com/mariahq/maria/processors/erp/identity/identitytest"
)

func TestNATSKVConformance(t *testing.T) {
	b := bustest.New(t)
	raw, err := identity.OpenNATSKV(context.Background(), b.JetStream(), 1)
	if err != nil {
		t.Fatal(err)
	}
	identitytest.Run(t, raw)
}
