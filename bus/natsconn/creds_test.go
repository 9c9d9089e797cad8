package natsconn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
)

// NATS_CREDS accepts a JWT .creds file and an nkey seed file, detected from
// the content, and rejects anything else at start with an error naming it.
func TestCredsOptionDetectsTheFileKind(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	acct, _ := nkeys.CreateAccount()
	acctSeed, _ := acct.Seed()
	jwt := "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln"
	creds := "-----BEGIN NATS USER JWT-----\n" + jwt + "\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n" + string(seed) + "\n------END USER NKEY SEED------\n"
	for _, tc := range []struct {
		name, content, wantErr string
	}{
		{"jwt creds", creds, ""},
		{"nkey seed", string(seed) + "\n", ""},
		{"commented nkey seed", "# maria identity\n" + string(seed) + "\n", ""},
		{"creds without seed", "-----BEGIN NATS USER JWT-----\n" + jwt + "\n------END NATS USER JWT------\n", "no valid user seed"},
		{"account seed", string(acctSeed) + "\n", "neither a NATS .creds file"},
		{"garbage", "password=hunter2\n", "neither a NATS .creds file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "creds")
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := credsOption(p)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("credsOption: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "NATS_CREDS="+p) {
				t.Fatalf("err = %v, want one naming NATS_CREDS=%s and saying %q", err, p, tc.wantErr)
			}
			if strings.Contains(err.Error(), string(seed)) || strings.Contains(err.Error(), string(acctSeed)) {
				t.Fatal("the error carries the seed")
			}
		})
	}
}
