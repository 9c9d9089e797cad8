package identity_test

import (
	"testing"

	"github.com/mariahq/maria/processors/erp/identity"
	"github.com/mariahq/maria/processors/erp/identity/identitytest"
	"github.com/mariahq/maria/processors/storage/awstest"
)

// TestDynamoConformance runs the backend suite against dynalite with the
// table Terraform creates.
func TestDynamoConformance(t *testing.T) {
	identitytest.Run(t, &identity.Dynamo{DDB: awstest.Table(t, "maria"), Table: "maria"})
}
