package mock

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/renewal"
)

// TestHarnessLatency: a slow token server during Start and during Advance.
// Simulated time moves exactly by the latency of each sequential fetch, a
// latency over the fetch timeout makes fetches fail, and clearing it lets
// the session recover.
func TestHarnessLatency(t *testing.T) {
	within(t, harnessTestLimit, func() {
		h, err := NewHarness(HarnessConfig{Seed: 4, Channels: []string{"lobby", "game"}, TTL: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close(context.Background())
		h.Server.SetLatency(3 * time.Second)
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		// One worker: fetches run one after another, 3 s each: the login,
		// the two joins, and any first renewal drawn into those seconds (the
		// spread puts it anywhere from 1 s after receipt).
		if n := h.Server.Requests(); n < 3 || h.Elapsed() != time.Duration(n)*3*time.Second {
			t.Errorf("Start took %v for %d fetches, want 3 s per fetch and at least the login and two joins", h.Elapsed(), n)
		}
		h.Advance(30 * time.Minute)
		if err := h.Check(); err != nil {
			t.Fatalf("with 3 s latency: %v", err)
		}
		if s := h.Summary(); s.FetchFailures != 0 || s.Renewals < 9 {
			t.Errorf("with 3 s latency: %+v", s)
		}

		h.Server.SetLatency(20 * time.Second) // over the 15 s fetch timeout
		h.Advance(20 * time.Minute)
		if h.Summary().FetchFailures == 0 || h.Check() == nil {
			t.Errorf("a 20 s latency should fail every fetch and let the tokens expire: %+v", h.Summary())
		}
		h.Server.Clear()
		h.Advance(2 * time.Minute)
		if err := h.Check(); err != nil {
			t.Fatalf("after the latency cleared: %v", err)
		}
		if s := h.Summary(); s.ExpiredTokenUses != 0 || s.Relogins == 0 {
			t.Errorf("after recovery: %+v", s)
		}
	})
}

// TestHarnessOutageAndRecovery: a token-server outage longer than a token's
// life logs the session out; it is back within BackoffMax of the end of the
// outage, without ever using an expired token.
func TestHarnessOutageAndRecovery(t *testing.T) {
	within(t, harnessTestLimit, func() {
		h := newHarness(t, HarnessConfig{Seed: 5, Channels: []string{"lobby"}, TTL: 10 * time.Minute})
		h.Advance(5 * time.Minute)
		// The login token in use when the outage starts: the first one, or
		// the one its first renewal (drawn from 1 s after receipt) brought.
		deadline := h.Session(0).Client.State()[0].Deadline
		if d := deadline.Sub(h.Now()); d <= 0 || d > 10*time.Minute {
			t.Fatalf("login token expires %v after the outage starts, want within its 10 min life", d)
		}
		h.Server.Outage(true)
		h.Advance(30 * time.Minute)
		if err := h.Check(); !errors.Is(err, ErrUnhealthy) || !strings.Contains(err.Error(), "not CONNECTED") {
			t.Fatalf("during the outage Check = %v, want not connected", err)
		}
		h.Server.Outage(false)
		h.Advance(renewal.DefaultBackoffMax)
		if err := h.Check(); err != nil {
			t.Fatalf("%v after the outage: %v", renewal.DefaultBackoffMax, err)
		}
		s := h.Summary()
		if s.Expiries < 2 || s.Relogins < 1 || s.Rejoins < 1 || s.ExpiredTokenUses != 0 || s.FetchFailures == 0 {
			t.Errorf("summary %+v", s)
		}
		// Logged out from the login token's deadline to recovery, at most
		// BackoffMax after the outage ended 35 min in.
		end := h.Now().Add(-renewal.DefaultBackoffMax)
		if out, min := h.MaxLoggedOut(), end.Sub(deadline); out < min || out > min+renewal.DefaultBackoffMax {
			t.Errorf("logged out for %v, want from the deadline to at most %v after the outage: %v–%v",
				out, renewal.DefaultBackoffMax, min, min+renewal.DefaultBackoffMax)
		}
	})
}
