package install

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cookieName holds the state of an install in progress.
const cookieName = "maria_oauth_state"

// The state of an install is a random nonce sent to Slack and, in the
// browser that started the install, a cookie "nonce.expiry.mac" signed
// with the state secret. The redirect is accepted only from that browser
// (the cookie), before the expiry, with the same nonce, once: a state
// forged, replayed, expired or brought by another browser is refused
// (CSRF: nobody can make a victim's browser finish an install they began).

var (
	errNoState      = errors.New("this install was not started in this browser (no state cookie): start again from the install page")
	errBadState     = errors.New("the install state does not match this browser's: start again from the install page")
	errExpiredState = errors.New("the install took too long (state expired): start again from the install page")
	errUsedState    = errors.New("this install link was already used: start again from the install page")
)

type states struct {
	key []byte
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	used map[string]time.Time // nonce → expiry, so a replay within it fails
}

func (s *states) mac(nonce string, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(nonce + "." + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// issue returns a new state and sets its cookie on w.
func (s *states) issue(w http.ResponseWriter, r *http.Request) (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	nonce := base64.RawURLEncoding.EncodeToString(b)
	exp := s.now().Add(s.ttl).Unix()
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: nonce + "." + strconv.FormatInt(exp, 10) + "." + s.mac(nonce, exp),
		Path: "/slack/", MaxAge: int(s.ttl / time.Second), HttpOnly: true, Secure: secure(r),
		// Lax, not Strict: the redirect back from slack.com is a cross-site
		// top-level navigation, which Strict would strip the cookie from.
		SameSite: http.SameSiteLaxMode,
	})
	return nonce, nil
}

// check verifies state against r's cookie, consumes it, and clears the
// cookie on w.
func (s *states) check(w http.ResponseWriter, r *http.Request, state string) error {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return errNoState
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/slack/", MaxAge: -1, HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode})
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return errBadState
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || subtle.ConstantTimeCompare([]byte(parts[2]), []byte(s.mac(parts[0], exp))) != 1 ||
		subtle.ConstantTimeCompare([]byte(parts[0]), []byte(state)) != 1 {
		return errBadState
	}
	now := s.now()
	if now.Unix() > exp {
		return errExpiredState
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, e := range s.used {
		if now.After(e) {
			delete(s.used, n)
		}
	}
	if _, dup := s.used[state]; dup {
		return errUsedState
	}
	s.used[state] = time.Unix(exp, 0)
	return nil
}

// secure: the cookie is Secure when the browser reached us over TLS
// (directly or through a proxy that says so).
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
