package slacksim

import (
	"net/http"
	"net/url"
	"testing"
)

func TestFailEvery(t *testing.T) {
	for _, tc := range []struct {
		name        string
		afterActing bool
		wantPosted  int
	}{
		{"before acting: the failed calls post nothing", false, 2},
		{"after acting: every call posts, every 2nd answers 500", true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New("xoxb-t")
			defer s.Close()
			s.FailEvery("chat.postMessage", 2, http.StatusInternalServerError, tc.afterActing)
			var statuses []int
			for range 4 {
				resp, err := http.PostForm(s.URL()+"chat.postMessage", url.Values{"token": {"xoxb-t"}, "channel": {"C1"}, "text": {"hi"}})
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				statuses = append(statuses, resp.StatusCode)
			}
			want := []int{200, 500, 200, 500}
			for i := range want {
				if statuses[i] != want[i] {
					t.Fatalf("statuses %v, want %v", statuses, want)
				}
			}
			if got := len(s.BotMessages("C1")); got != tc.wantPosted {
				t.Fatalf("%d messages posted, want %d", got, tc.wantPosted)
			}
			s.FailEvery("chat.postMessage", 0, 0, false)
			resp, err := http.PostForm(s.URL()+"chat.postMessage", url.Values{"token": {"xoxb-t"}, "channel": {"C1"}, "text": {"hi"}})
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("after clearing: %d", resp.StatusCode)
			}
		})
	}
}
