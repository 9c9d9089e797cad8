package backup

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/storage/awsstore"
)

// S3Client builds the S3 client from the same variables the storage
// processor reads (awsstore.FromEnv and MARIA_S3_PATH_STYLE; without static
// credentials the SDK's chain: IRSA on EKS), so a CronJob needs nothing new.
func S3Client(ctx context.Context, env *config.Env) (*s3.Client, error) {
	cc := awsstore.FromEnv(env)
	pathStyle := env.Bool("MARIA_S3_PATH_STYLE", false)
	if err := env.Err(); err != nil {
		return nil, err
	}
	client, _, err := awsstore.Clients(ctx, cc, pathStyle)
	return client, err
}
