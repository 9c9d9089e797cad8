package partition

import (
	"fmt"
	"testing"
)

// Every member gets its fair share, and a member leaving moves the
// partitions it owned and only a few others.
func TestOwnersShareFairlyAndMoveLittle(t *testing.T) {
	for _, tt := range []struct {
		members, partitions int
		maxMoved            int // partitions of staying members that may move when one leaves
	}{
		{2, 8, 0},
		{3, 8, 2},
		{4, 64, 8},
		{5, 8, 2},
	} {
		t.Run(fmt.Sprintf("%d members %d partitions", tt.members, tt.partitions), func(t *testing.T) {
			var live []string
			for i := range tt.members {
				live = append(live, fmt.Sprintf("R%04d", i*7919))
			}
			before := owners(live, tt.partitions)
			count := map[string]int{}
			for _, o := range before {
				count[o]++
			}
			share := (tt.partitions + tt.members - 1) / tt.members
			for _, m := range live {
				if c := count[m]; c == 0 || c > share {
					t.Errorf("member %s owns %d partitions, want 1..%d: %v", m, c, share, count)
				}
			}
			gone := live[0]
			after := owners(live[1:], tt.partitions)
			moved := 0
			for i := range after {
				if after[i] == gone || after[i] == "" {
					t.Fatalf("partition %d owned by %q after %s left", i, after[i], gone)
				}
				if before[i] != gone && after[i] != before[i] {
					moved++
				}
			}
			if moved > tt.maxMoved {
				t.Errorf("%d partitions of staying members moved, want at most %d", moved, tt.maxMoved)
			}
		})
	}
}
