package reliability_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// No secret in any output. A simulated week with faults on, every logger at
// debug level, and everything the library hands back collected: if any
// token the server minted, or the app certificate, or any 16 characters of
// either, shows up anywhere, the test fails.

// window is the length of the substrings of secrets looked for.
const window = 16

// secretIndex finds any window-long substring of a set of secrets in text.
type secretIndex struct {
	windows map[string]string // substring → label of its secret
}

func newSecretIndex() *secretIndex { return &secretIndex{windows: make(map[string]string)} }

// add indexes every window-long substring of secret under label.
func (x *secretIndex) add(label, secret string) {
	for i := 0; i+window <= len(secret); i++ {
		x.windows[secret[i:i+window]] = label
	}
}

// find returns the first place in text where a window of a secret occurs.
func (x *secretIndex) find(text string) (label, context string, found bool) {
	for i := 0; i+window <= len(text); i++ {
		if l, ok := x.windows[text[i:i+window]]; ok {
			lo, hi := max(0, i-40), min(len(text), i+window+40)
			return l, text[lo:hi], true
		}
	}
	return "", "", false
}

// tokenTap is an http.RoundTripper that records every token in a response
// body: every JSON string that parses as an access token.
type tokenTap struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]bool
}

func (t *tokenTap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		t.collect(v)
	}
	return resp, nil
}

func (t *tokenTap) collect(v any) {
	switch v := v.(type) {
	case string:
		if _, err := accesstoken.Parse(v); err == nil {
			t.mu.Lock()
			t.seen[v] = true
			t.mu.Unlock()
		}
	case map[string]any:
		for _, e := range v {
			t.collect(e)
		}
	case []any:
		for _, e := range v {
			t.collect(e)
		}
	}
}

func (t *tokenTap) tokens() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for tok := range t.seen {
		out = append(out, tok)
	}
	return out
}

// debugLogger returns a JSON logger at debug level writing to buf.
func debugLogger(buf io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// describeEvent renders every field of ev, the error's text included.
func describeEvent(ev renewal.Event) string {
	s := fmt.Sprintf("%+v", ev)
	if ev.Err != nil {
		s += " " + ev.Err.Error() + fmt.Sprintf(" %#v", ev.Err)
	}
	return s
}

// weekFaults is what the week throws at the system, per hour of the week.
func weekFaults(srv *mock.TokenServer, sdks []*mock.Signaling, renewNow func()) map[int]func() {
	const day = 24
	return map[int]func(){
		1*day + 5: func() { srv.Outage(true) },
		1*day + 7: func() { srv.Outage(false) },
		2*day + 1: func() {
			srv.WrongUserNext(2)
			srv.WrongAppNext(2)
			srv.WrongChannelNext(2)
			srv.ExpiredNext(2)
			for _, b := range []mock.BodyFault{mock.BodyHTML, mock.BodyEmpty, mock.BodyHuge, mock.BodyGarbage} {
				srv.BodyNext(1, b)
			}
			srv.ResetNext(2)
			srv.RateLimitNext(3, 30*time.Second)
			srv.FailNext(3, http.StatusInternalServerError)
			srv.FailNext(1, http.StatusUnauthorized)
		},
		3*day + 2: func() {
			for _, s := range sdks {
				s.FailNext(mock.CallRenew, 2, signaling.CodeInvalidToken)
				s.FailNext(mock.CallRenewStream, 2, signaling.CodeTokenExpired)
				s.PanicNext(mock.CallRenew, 1)
				s.HangNext(mock.CallRenewStream, 1)
			}
		},
		4*day + 3: func() {
			sdks[0].ExpireNow("")
			sdks[1].ExpireNow("lobby")
			sdks[1].Kick(signaling.ReasonSameUIDLogin)
		},
		4*day + 4: renewNow,
		5*day + 6: func() {
			for _, s := range sdks {
				s.FailNext(mock.CallLogin, 2, signaling.CodeLoginTimeout)
				s.ExpireNow("")
			}
		},
		5*day + 9:  func() { srv.SetLatency(20 * time.Second) },
		5*day + 10: func() { srv.SetLatency(0) },
	}
}

// TestNoSecretsInAWeek runs a hand-wired week (the rig, so a transport tap
// sees every minted token and the fetcher logs too) and searches every
// output for the tokens and the certificate.
func TestNoSecretsInAWeek(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs mock.LogBuffer
		tap := &tokenTap{seen: make(map[string]bool)}
		var mu sync.Mutex
		var out []string // everything the library handed back, rendered
		given := make(map[string]bool)
		r := newRig(t, rigConfig{
			seed: 7, users: []string{"alice", "bob"}, channels: []string{"lobby", "game"},
			logger:    debugLogger(&logs),
			transport: func(rt http.RoundTripper) http.RoundTripper { tap.next = rt; return tap },
			onEvent: func(ev renewal.Event) {
				mu.Lock()
				out = append(out, describeEvent(ev))
				mu.Unlock()
			},
			onToken: func(tok string) {
				mu.Lock()
				given[tok] = true
				mu.Unlock()
			},
		})
		r.start()
		sdks := []*mock.Signaling{r.sess[0].sdk, r.sess[1].sdk}
		faults := weekFaults(r.srv, sdks, func() { r.sess[1].client.RenewNow("") })
		for hour := 0; hour < 7*24; hour++ {
			if f := faults[hour]; f != nil {
				f()
			}
			r.sleep(time.Hour)
		}
		if !r.healthy() {
			t.Errorf("unhealthy after the week")
		}
		wantFaultsSeen(t, func(k renewal.EventKind) int { return r.count(k, 0) })
		for _, s := range r.sess {
			for _, k := range s.client.State() {
				out = append(out, fmt.Sprintf("%+v", k))
				if k.LastErr != nil {
					out = append(out, k.LastErr.Error())
				}
			}
			for _, e := range s.sdk.Timeline() {
				out = append(out, e.String(), fmt.Sprintf("%+v", e))
			}
			out = append(out, fmt.Sprintf("%+v", s.sdk.Stats()))
		}
		out = append(out, fmt.Sprintf("%+v %+v %+v", r.eng.Stats(), r.eng.Activity(), r.srv.Stats()))
		r.close()
		for _, err := range r.errs {
			out = append(out, err.Error(), fmt.Sprintf("%+v", err))
		}
		out = append(out, logs.String())

		minted := tap.tokens()
		idx := newSecretIndex()
		cert := r.srv.Certificate()
		idx.add("the app certificate", cert)
		idx.add("the app certificate (upper case)", strings.ToUpper(cert))
		for i, tok := range minted {
			idx.add(fmt.Sprintf("minted token #%d", i), tok)
		}
		for tok := range given {
			if !tap.seen[tok] {
				t.Errorf("the SDK was given a token the tap never saw: %s", tok[:6])
			}
		}
		text := strings.Join(out, "\n")
		checkNoSecrets(t, idx, text, minted, len(given))
	})
}

// wantFaultsSeen checks that the week's faults reached the engine, so their
// error paths were exercised (and logged).
func wantFaultsSeen(t *testing.T, count func(renewal.EventKind) int) {
	t.Helper()
	for _, k := range []renewal.EventKind{renewal.EventFetchFailed, renewal.EventRenewFailed, renewal.EventHookPanic,
		renewal.EventHookTimeout, renewal.EventKicked, renewal.EventExpired, renewal.EventRelogin, renewal.EventRejoined} {
		if count(k) == 0 {
			t.Errorf("no %s event during the week", k)
		}
	}
}

// checkNoSecrets fails if text contains a window of a secret, after making
// sure the search is meaningful: many tokens, many log lines, and the
// detector finds a planted fragment.
func checkNoSecrets(t *testing.T, idx *secretIndex, text string, minted []string, used int) {
	t.Helper()
	if len(minted) < 200 || used < 100 {
		t.Fatalf("only %d tokens minted, %d used: the week did not run", len(minted), used)
	}
	if n := strings.Count(text, "\n"); n < 5000 {
		t.Fatalf("only %d lines of output: the loggers did not run at debug level", n)
	}
	if !strings.Contains(text, "007eJx") {
		t.Fatal("no redacted token prefix in the output: the search would not see tokens")
	}
	planted := text[:len(text)/2] + minted[0][40:40+window] + text[len(text)/2:]
	if _, _, ok := idx.find(planted); !ok {
		t.Fatal("the detector misses a planted token fragment")
	}
	if label, ctx, ok := idx.find(text); ok {
		t.Fatalf("%s leaked: …%s…", label, ctx)
	}
	t.Logf("searched %d KiB of output (%d lines) for %d tokens and the certificate: clean",
		len(text)>>10, strings.Count(text, "\n"), len(minted))
}

// tokenLike matches anything that looks like an AccessToken2 or 006 token
// of window characters or more.
var tokenLike = regexp.MustCompile(`00[67][A-Za-z0-9+/=_-]{13,}`)

// TestNoSecretsInAHarnessWeek runs a week on the mock Harness with faults
// and every logger it has at debug level, and searches the logs, events,
// errors, timelines and summary for the certificate and for anything shaped
// like a token. (The Harness builds its fetcher itself, so minted tokens
// cannot be tapped here; TestNoSecretsInAWeek does that.)
func TestNoSecretsInAHarnessWeek(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs mock.LogBuffer
		var out []string
		var mu sync.Mutex
		cfg := mock.HarnessConfig{Seed: 3, Sessions: 2, UserID: "bot", Channels: []string{"lobby", "game"},
			TTL: time.Hour, Logger: debugLogger(&logs),
			OnEvent: func(ev renewal.Event) {
				mu.Lock()
				out = append(out, describeEvent(ev))
				mu.Unlock()
			}}
		w := newWorld(t, cfg)
		h := w.h
		sdks := []*mock.Signaling{h.Session(0).SDK, h.Session(1).SDK}
		faults := weekFaults(h.Server, sdks, func() { h.Session(1).Client.RenewNow("") })
		for hour := 0; hour < 7*24; hour++ {
			if f := faults[hour]; f != nil {
				f()
			}
			h.Advance(time.Hour)
		}
		wantFaultsSeen(t, func(k renewal.EventKind) int { return w.count(k, 0) })
		if err := h.Check(); err != nil {
			t.Errorf("unhealthy after the week: %v", err)
			out = append(out, err.Error())
		}
		for _, e := range h.Timeline() {
			out = append(out, e.String())
		}
		sum, err := json.Marshal(h.Summary())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(sum), fmt.Sprintf("%+v", h.Summary()))
		for _, s := range h.Sessions() {
			out = append(out, fmt.Sprintf("%+v", s.Client.State()))
		}
		w.close()
		out = append(out, logs.String())
		text := strings.Join(out, "\n")

		idx := newSecretIndex()
		idx.add("the app certificate", h.Server.Certificate())
		idx.add("the app certificate (upper case)", strings.ToUpper(h.Server.Certificate()))
		if label, ctx, ok := idx.find(text); ok {
			t.Errorf("%s leaked: …%s…", label, ctx)
		}
		if m := tokenLike.FindString(text); m != "" {
			t.Errorf("something shaped like a token in the output: %s…", m[:window])
		}
		if s := h.Summary(); s.Fetches < 200 || strings.Count(text, "\n") < 5000 || !strings.Contains(text, "007eJx") {
			t.Fatalf("the week did not run as planned: %d fetches, %d lines", s.Fetches, strings.Count(text, "\n"))
		}
	})
}
