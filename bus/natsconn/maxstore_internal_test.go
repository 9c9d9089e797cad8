package natsconn

import "testing"

func TestMaxStoreCoversTheStreamsReservations(t *testing.T) {
	need := reservedBytes() + bucketHeadroom
	if reservedBytes() <= 0 {
		t.Fatal("Maria's streams reserve nothing: the test below proves nothing")
	}
	got := maxStore(t.TempDir())
	free, ok := freeDisk(t.TempDir())
	switch {
	case !ok && got != need:
		t.Fatalf("free disk unknown: max store %d, want %d", got, need)
	case ok && free/4*3 >= need && got != 0:
		t.Fatalf("%d bytes free: max store %d, want the server's default (0)", free, got)
	case ok && free/4*3 < need && got != need:
		t.Fatalf("%d bytes free: max store %d, want %d", free, got, need)
	}
	if _, ok := freeDisk("/no/such/dir/below/root"); !ok {
		t.Fatal("freeDisk of a missing directory should use its nearest existing parent")
	}
}
