package awstest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/mariahq/maria/processors/storage/awsstore"
)

// Table starts dynalite and creates the table name in the layout Terraform
// creates (awsstore.CreateTable), returning a client for it.
func Table(t testing.TB, name string) *dynamodb.Client {
	t.Helper()
	srv := DynamoDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, ddb, err := awsstore.Clients(ctx, awsstore.ClientConfig{Region: Region, DynamoDBEndpoint: srv.Endpoint,
		AccessKeyID: AccessKey, SecretAccessKey: SecretKey}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := awsstore.CreateTable(ctx, ddb, name); err != nil {
		t.Fatal(err)
	}
	return ddb
}
