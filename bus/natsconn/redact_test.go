package natsconn

import "testing"

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://user:s3cret@host:4222": "nats://user:xxxxx@host:4222",
		"https://odoo.example.com":     "https://odoo.example.com",
		"ftp://admin:s3cret@odoo":      "ftp://admin:xxxxx@odoo",
		"http://a:b%zz@host":           "http://xxxxx@host",
		"user:s3cret@host":             "xxxxx@host",
		"nats://a:s3cret@h1,nats://h2": "nats://a:s3cret@h1,nats://h2", // lists go through redactURL
	} {
		if in == "nats://a:s3cret@h1,nats://h2" {
			if got := redactURL(in); got != "nats://a:xxxxx@h1,nats://h2" {
				t.Errorf("redactURL(%q) = %q", in, got)
			}
			continue
		}
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
