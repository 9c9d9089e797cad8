package smoke

import (
	"strings"
	"testing"
)

func TestValidateReportsEveryProblemOnOneLine(t *testing.T) {
	full := Config{IngressURL: "https://maria.example.com", Channel: "C1", User: "U1", SigningSecret: "s", BotToken: "xoxb-1"}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string // substrings; none: valid
	}{
		{"complete", func(*Config) {}, nil},
		{"nothing", func(c *Config) { *c = Config{} },
			[]string{"--ingress-url is required", "--channel is required", "--user is required", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"}},
		{"not http", func(c *Config) { c.IngressURL = "ftp://maria.example.com" }, []string{`--ingress-url "ftp://maria.example.com": want an http(s) URL`}},
		{"no host", func(c *Config) { c.IngressURL = "https://" }, []string{"want an http(s) URL"}},
		{"no secret", func(c *Config) { c.SigningSecret = "" }, []string{"SLACK_SIGNING_SECRET is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := full
			tc.edit(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid config accepted")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("reason spans lines: %q", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
}

func TestDefaultsTrimTheEventsPath(t *testing.T) {
	for in, want := range map[string]string{
		"https://maria.example.com":               "https://maria.example.com",
		"https://maria.example.com/":              "https://maria.example.com",
		"https://maria.example.com/slack/events":  "https://maria.example.com",
		"https://maria.example.com/slack/events/": "https://maria.example.com",
		"http://127.0.0.1:3000/base":              "http://127.0.0.1:3000/base",
	} {
		c := Config{IngressURL: in}.withDefaults()
		if c.IngressURL != want {
			t.Errorf("%s → %s, want %s", in, c.IngressURL, want)
		}
		if c.Text != DefaultText || c.Timeout <= 0 || c.PollEvery <= 0 || c.HTTP == nil || c.APIURL == "" {
			t.Errorf("defaults not applied: %+v", c)
		}
	}
}
