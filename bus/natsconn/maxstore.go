package natsconn

import "github.com/mariahq/maria/schemas"

// bucketHeadroom is file storage the embedded server allows beyond what
// Maria's streams reserve: KV buckets and object stores (stored files) set
// no MaxBytes and so reserve nothing, but they use disk all the same.
const bucketHeadroom = 8 << 30

// reservedBytes is what Maria's streams reserve on the server: JetStream
// refuses a stream whose MaxBytes does not fit in what is left of the
// server's max store.
func reservedBytes() int64 {
	var n int64
	for _, s := range schemas.Streams {
		n += max(0, s.MaxBytes)
	}
	return n
}

// maxStore is the embedded server's JetStream max store for a store
// directory: nats-server's own default (three quarters of the free disk)
// unless that is too small for the streams' reservations, in which case
// exactly what they reserve plus headroom. Without it a machine with less
// than ~52 GiB free (a laptop, a CI runner, several test servers at once)
// could not declare Maria's streams ("insufficient storage resources");
// the streams' own limits and ages still bound what is kept. Zero keeps
// the server's default.
func maxStore(storeDir string) int64 {
	need := reservedBytes() + bucketHeadroom
	free, ok := freeDisk(storeDir)
	if ok && free/4*3 >= need {
		return 0
	}
	return need
}
