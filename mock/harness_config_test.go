package mock

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/tokenclient"
)

func TestNewHarnessRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  HarnessConfig
	}{
		{"negative sessions", HarnessConfig{Sessions: -1}},
		{"negative workers", HarnessConfig{Workers: -1}},
		{"negative resolution", HarnessConfig{Resolution: -time.Second}},
		{"negative TTL", HarnessConfig{TTL: -time.Hour}},
		{"negative first user", HarnessConfig{FirstUser: -1}},
		{"lead below the SDK warning", HarnessConfig{Policy: renewal.Policy{MinLead: 10 * time.Second}}},
		{"TTL over 24 h", HarnessConfig{TTL: 48 * time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := NewHarness(tc.cfg)
			if !errors.Is(err, ErrHarnessConfig) || h != nil {
				t.Fatalf("NewHarness = %v, %v; want ErrHarnessConfig", h, err)
			}
		})
	}
	_, err := NewHarness(HarnessConfig{Policy: renewal.Policy{MinLead: time.Second}})
	if !errors.Is(err, tokenclient.ErrInvalidConfig) {
		t.Errorf("a bad policy should keep the client's error in the chain: %v", err)
	}
}

func TestHarnessUserIDs(t *testing.T) {
	for _, tc := range []struct {
		cfg  HarnessConfig
		want []string
	}{
		{HarnessConfig{}, []string{"bot"}},
		{HarnessConfig{UserID: "agent"}, []string{"agent"}},
		{HarnessConfig{Sessions: 3}, []string{"bot-1", "bot-2", "bot-3"}},
		{HarnessConfig{Sessions: 2, FirstUser: 101}, []string{"bot-101", "bot-102"}},
		{HarnessConfig{FirstUser: 7, UserID: "u"}, []string{"u-7"}},
	} {
		h, err := NewHarness(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range h.Sessions() {
			got = append(got, s.UserID)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%+v: users %q, want %q", tc.cfg, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] || h.Session(i).SDK.UserID() != tc.want[i] {
				t.Errorf("%+v: users %q, want %q", tc.cfg, got, tc.want)
			}
		}
		if err := h.Close(context.Background()); err != nil {
			t.Errorf("Close before Start: %v", err)
		}
	}
}

// countingTransport counts requests and fails every third one with 503 by
// injecting a fault into the server just before forwarding.
type countingTransport struct {
	next http.RoundTripper
	srv  *TokenServer
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.n.Add(1)%3 == 0 {
		c.srv.FailNext(1, http.StatusServiceUnavailable)
	}
	return c.next.RoundTrip(r)
}

func TestHarnessWrapTransport(t *testing.T) {
	ct := &countingTransport{}
	h, err := NewHarness(HarnessConfig{Seed: 11, Channels: []string{"lobby"},
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper { ct.next = rt; return ct }})
	if err != nil {
		t.Fatal(err)
	}
	ct.srv = h.Server
	defer h.Close(context.Background())
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.Advance(12 * time.Hour)
	if err := h.Check(); err != nil {
		t.Fatal(err)
	}
	s := h.Summary()
	if int(ct.n.Load()) != s.Fetches || s.Fetches == 0 {
		t.Errorf("the wrapper saw %d requests, the server %d", ct.n.Load(), s.Fetches)
	}
	if want := s.Fetches / 3; s.FetchFailures != want {
		t.Errorf("%d fetch failures, want every third of %d = %d", s.FetchFailures, s.Fetches, want)
	}
}

func TestSummaryAdd(t *testing.T) {
	a := Summary{Sessions: 2, Channels: 1, SimulatedSeconds: 60, Fetches: 10, FetchFailures: 1, Renewals: 7,
		Relogins: 1, Rejoins: 2, Expiries: 3, WillExpireSignals: 4, FailedSignals: 5, ExpiredTokenUses: 6,
		RejectedTokens: 7, Events: 8, LoggedOutSeconds: 9, MaxLoggedOutSeconds: 5}
	b := Summary{Sessions: 3, Channels: 2, SimulatedSeconds: 30, Fetches: 1, FetchFailures: 1, Renewals: 1,
		Relogins: 1, Rejoins: 1, Expiries: 1, WillExpireSignals: 1, FailedSignals: 1, ExpiredTokenUses: 1,
		RejectedTokens: 1, Events: 1, LoggedOutSeconds: 1, MaxLoggedOutSeconds: 8}
	want := Summary{Sessions: 5, Channels: 2, SimulatedSeconds: 60, Fetches: 11, FetchFailures: 2, Renewals: 8,
		Relogins: 2, Rejoins: 3, Expiries: 4, WillExpireSignals: 5, FailedSignals: 6, ExpiredTokenUses: 7,
		RejectedTokens: 8, Events: 9, LoggedOutSeconds: 10, MaxLoggedOutSeconds: 8}
	if got := a.Add(b); got != want {
		t.Errorf("a.Add(b)\n got %+v\nwant %+v", got, want)
	}
	if got := b.Add(a); got != want {
		t.Errorf("b.Add(a)\n got %+v\nwant %+v", got, want)
	}
	if got := (Summary{}).Add(a); got != a {
		t.Errorf("zero.Add(a) = %+v, want a", got)
	}
}

func TestRoundUp(t *testing.T) {
	o := DefaultHarnessStart
	for _, tc := range []struct{ in, want time.Duration }{
		{0, 0}, {time.Nanosecond, time.Minute}, {time.Minute, time.Minute}, {61 * time.Second, 2 * time.Minute},
	} {
		if got := roundUp(o.Add(tc.in), o, time.Minute).Sub(o); got != tc.want {
			t.Errorf("roundUp(+%v) = +%v, want +%v", tc.in, got, tc.want)
		}
	}
}

// TestHarnessLoggerReachesFetcher checks that HarnessConfig.Logger gets the
// fetcher's log lines too, not only the engine's and the fakes', and that
// none of them carries a whole token.
func TestHarnessLoggerReachesFetcher(t *testing.T) {
	var buf LogBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := NewHarness(HarnessConfig{Seed: 5, Channels: []string{"lobby"}, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.Advance(2 * time.Hour)
	out := buf.String()
	if !strings.Contains(out, "fetcher: token fetched") {
		t.Fatalf("no fetcher log line in %d bytes of harness log", len(out))
	}
	if m := regexp.MustCompile(`00[67][A-Za-z0-9+/=]{40,}`).FindString(out); m != "" {
		t.Fatalf("the log holds a token-like run of %d characters", len(m))
	}
}
