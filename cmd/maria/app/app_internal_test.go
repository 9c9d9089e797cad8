package app

import "testing"

func TestWatchDeadLetters(t *testing.T) {
	for _, tt := range []struct {
		services []string
		want     bool
	}{
		{[]string{"ingress"}, false},
		{[]string{"ingress", "egress"}, true},
		{[]string{"ai"}, true},
		{nil, false},
	} {
		if got := watchDeadLetters(tt.services); got != tt.want {
			t.Errorf("watchDeadLetters(%v) = %v, want %v", tt.services, got, tt.want)
		}
	}
}
