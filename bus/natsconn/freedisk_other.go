//go:build !unix

package natsconn

// freeDisk is unknown here: the embedded server then allows what Maria's
// streams reserve plus headroom (maxStore).
func freeDisk(string) (int64, bool) { return 0, false }
