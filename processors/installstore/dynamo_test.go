package installstore_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mariahq/maria/bus/installs/installstest"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/processors/installstore"
	"github.com/mariahq/maria/processors/storage/awstest"
)

// The DynamoDB store passes the same suite as the NATS KV one, against
// dynalite, in the table layout Terraform creates (awsstore.CreateTable).
func TestDynamoConformance(t *testing.T) {
	ddb := awstest.Table(t, "maria")
	key := make([]byte, sealed.KeySize)
	_, _ = rand.Read(key)
	w, err := sealed.NewLocal("test", key)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sealed.NewKeyring(w)
	if err != nil {
		t.Fatal(err)
	}
	s := &installstore.DynamoStore{DDB: ddb, Table: "maria", Ring: ring}
	installstest.Run(t, s, func(ctx context.Context, key string) ([]byte, error) {
		// What an operator with read access to the table sees: the whole item.
		out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("maria"), Key: installstore.ItemKey(key), ConsistentRead: aws.Bool(true)})
		if err != nil || len(out.Item) == 0 {
			return nil, err
		}
		var b []byte
		for name, v := range out.Item {
			b = append(b, name...)
			switch v := v.(type) {
			case *ddbtypes.AttributeValueMemberS:
				b = append(b, v.Value...)
			case *ddbtypes.AttributeValueMemberN:
				b = append(b, v.Value...)
			}
		}
		return b, nil
	})
}
