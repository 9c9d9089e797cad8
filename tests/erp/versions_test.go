package erp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/erp"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/odoosim"
)

// versions: every test here runs against the simulator as Odoo 17, 18
// and 19, the protocol auto-detected.
var versions = []struct {
	major int
	proto string
}{{17, "xmlrpc"}, {18, "xmlrpc"}, {19, "json2"}}

func TestVersionDetectionPerOdoo(t *testing.T) {
	for _, v := range versions {
		t.Run(fmt.Sprint(v.major), func(t *testing.T) {
			sim := odoosim.New(t, odoosim.Version(v.major))
			s := setupOn(t, sim, nil)
			st, err := s.svc.CheckOdoo(context.Background())
			if err != nil || st.Server.Major != v.major || st.Protocol != v.proto {
				t.Fatalf("check = %+v, %v; want %d over %s", st, err, v.major, v.proto)
			}
			rep := s.query(schemas.ERPQuery{Method: "search_read", Model: "sale.order", Domain: []any{[]any{"name", "=", "S00042"}}, Fields: []string{"name"}})
			if rep.Error != "" || len(rep.Records) != 1 {
				t.Fatalf("read: %+v", rep)
			}
			if v.proto == "json2" && sim.Calls("sale.order.search_read") != 1 {
				t.Fatal("Odoo 19 must be read over JSON-2")
			}
		})
	}
}

// startUnready runs the service from the environment without waiting for
// readiness, as `maria run` would start it.
func startUnready(t *testing.T, sim *odoosim.Server, password string) *erp.Service {
	t.Helper()
	env := config.NewEnvFrom(map[string]string{"ODOO_URL": sim.URL, "ODOO_DB": sim.DB, "ODOO_USERNAME": sim.User, "ODOO_PASSWORD": password,
		"MARIA_ODOO_TIMEOUT": "2s", "MARIA_ERP_CLAIM_STALE": "6s"})
	cfg := erp.LoadConfig(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	client, err := erp.NewOdooClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	svc := erp.New(cfg, client, bustest.Logger(t))
	b := bustest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, b) }()
	t.Cleanup(func() { cancel(); <-done })
	return svc
}

func TestReadinessWaitsForOdoo(t *testing.T) {
	for _, v := range versions {
		t.Run(fmt.Sprint(v.major), func(t *testing.T) {
			sim := odoosim.New(t, odoosim.Version(v.major))
			sim.Down(true)
			svc := startUnready(t, sim, sim.Password)
			bustest.Eventually(t, 5*time.Second, func() bool {
				err := svc.Ready(context.Background())
				return err != nil && strings.Contains(err.Error(), "unreachable")
			}, "an unreachable Odoo must keep erp unready, saying so")
			sim.Down(false)
			// The check retries with a backoff (500ms, growing): it finds
			// Odoo back within seconds here.
			bustest.Eventually(t, 40*time.Second, func() bool { return svc.Ready(context.Background()) == nil }, "erp did not turn ready after Odoo came back")
		})
	}
}

func TestReadinessRefusesBadCredentials(t *testing.T) {
	for _, v := range versions {
		t.Run(fmt.Sprint(v.major), func(t *testing.T) {
			sim := odoosim.New(t, odoosim.Version(v.major))
			svc := startUnready(t, sim, "not-the-key")
			bustest.Eventually(t, 5*time.Second, func() bool {
				err := svc.Ready(context.Background())
				return err != nil && strings.Contains(err.Error(), "refused the credentials") && !strings.Contains(err.Error(), "not-the-key")
			}, "bad credentials must keep erp unready, saying so without the key")
		})
	}
}
