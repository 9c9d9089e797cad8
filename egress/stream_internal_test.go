package egress

import "testing"

func TestAppendedJudgesByLengthNotSuffix(t *testing.T) {
	for _, tc := range []struct {
		name, text, chunk string
		before            int
		want              bool
	}{
		{"acted", "Yes. Yes. ", "Yes. ", 5, true},
		{"not acted, text already ends with the chunk", "Yes. ", "Yes. ", 5, false},
		{"not acted", "The order ", "ships", 10, false},
		{"acted, unknown length (old ref)", "The order ships", "ships", 0, true},
		{"other text after it", "The order ships!", "ships", 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := appended(tc.text, tc.chunk, tc.before); got != tc.want {
				t.Fatalf("appended(%q, %q, %d) = %v, want %v", tc.text, tc.chunk, tc.before, got, tc.want)
			}
		})
	}
}
