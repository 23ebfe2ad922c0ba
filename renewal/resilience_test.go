package renewal

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// Thirty simulated days of one-hour tokens: every renewal on schedule, with
// the configured lead (the first one of each key, of the token from the
// login or join, earlier: drawn over one period), and never an expiry or a
// relogin.
func TestThirtyDaysOfHourlyTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour)
		r.start("room-a", "room-b")
		// Every 6 h the SDK also sends a (spurious) will-expire for the
		// login and room-a: it renews in place, never relogs.
		for i := 0; i < 4*30; i++ {
			time.Sleep(6*time.Hour - 7*time.Minute)
			r.s.WillExpire("")
			r.s.WillExpire("room-a")
			time.Sleep(7 * time.Minute)
		}
		synctest.Wait()
		for _, ch := range []string{"", "room-a", "room-b"} {
			var n, timers int
			for _, ev := range r.rec.all(EventRenewed) {
				if ev.Channel != ch {
					continue
				}
				n++
				if ev.Reason == "timer" {
					timers++
				}
				switch {
				case n == 1:
					// The first renewal, of the login's or join's token, is
					// drawn between 1 s after receipt and the usual time.
					if ev.Reason != "timer" || ev.Lead < 12*time.Minute || ev.Lead > time.Hour-minRenewInterval {
						t.Fatalf("key %q: first renewal (%s) with lead %v, want a timer one leading by 12 min … 59m59s", ch, ev.Reason, ev.Lead)
					}
				case ev.Reason == "timer" && !usualLead(ev.Lead), ev.Lead < 12*time.Minute:
					// Lead between 12 min (20 % of 1 h) and 13.2 min (+10 %
					// jitter) for proactive renewals; more for will-expire ones.
					t.Fatalf("key %q renewed (%s) with lead %v", ch, ev.Reason, ev.Lead)
				}
			}
			// One renewal every 46.8–48 min: 900–923 in 30 days, one more
			// for the early first renewal, plus at most one per will-expire.
			max := 925
			if ch != "room-b" {
				max += 120
			}
			if timers < 780 {
				t.Errorf("key %q: only %d proactive renewals", ch, timers)
			}
			if n < 900 || n > max {
				t.Errorf("key %q: %d renewals in 30 days", ch, n)
			}
		}
		if got := r.rec.count(EventExpired) + r.rec.count(EventRelogin) + r.rec.count(EventRejoined) +
			r.rec.count(EventFetchFailed) + r.rec.count(EventRenewFailed); got != 0 {
			t.Errorf("%d expiry/relogin/failure events, want 0", got)
		}
		if r.sdk.count("login") != 1 || r.sdk.count("join") != 2 {
			t.Errorf("logins %d joins %d", r.sdk.count("login"), r.sdk.count("join"))
		}
	})
}

// A 10-minute token-server outage during the renewal window: the current
// token is kept, failures are reported with a retry-in, and the renewal
// succeeds within one capped backoff step after the outage.
func TestTokenServerOutageTenMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		r.start()
		start := time.Now()
		// The outage starts a minute before the first renewal is due (or at
		// once, should it be due within a minute).
		time.Sleep(max(r.untilRenewal("")-time.Minute, 0))
		r.f.setFail(func(fetcher.Request) error { return errServerDown })
		time.Sleep(10 * time.Minute)
		r.f.setFail(nil)
		end := time.Now()
		synctest.Wait()
		if r.sdk.count("renew") != 0 {
			t.Fatal("renewed during the outage")
		}
		fails := r.rec.all(EventFetchFailed)
		if len(fails) < 5 {
			t.Fatalf("only %d failure events in a 9 min outage", len(fails))
		}
		for _, ev := range fails {
			if ev.Class != "retryable" || ev.RetryIn <= 0 || ev.RetryIn > DefaultBackoffMax || ev.Err == nil || ev.Attempt == 0 {
				t.Fatalf("failure event %+v", ev)
			}
		}
		time.Sleep(DefaultBackoffMax)
		synctest.Wait()
		ren := r.rec.all(EventRenewed)
		if len(ren) != 1 || ren[0].Time.Sub(end) > DefaultBackoffMax {
			t.Fatalf("renewed %v after the outage, want within %v (%d renewals)", ren[0].Time.Sub(end), DefaultBackoffMax, len(ren))
		}
		if r.rec.count(EventExpired) != 0 || r.sdk.count("login") != 1 {
			t.Fatal("expired or relogged during a short outage")
		}
		if ks := r.key(""); ks.Phase != PhaseFresh || ks.Attempts != 0 || !ks.Deadline.After(start.Add(time.Hour)) {
			t.Fatalf("state after recovery %+v", ks)
		}
	})
}

// A 2-hour outage: the token expires; the engine reports it, takes the
// relogin path, keeps retrying at most BackoffMax apart, and logs in again
// within one step after the server returns. The stream channel is rejoined.
func TestTokenServerOutageTwoHours(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		r.start("room")
		time.Sleep(40 * time.Minute)
		r.f.setFail(func(fetcher.Request) error { return errServerDown })
		time.Sleep(2 * time.Hour)
		r.f.setFail(nil)
		end := time.Now()
		synctest.Wait()
		if r.rec.count(EventExpired) != 2 { // login and stream
			t.Fatalf("expired events = %d, want 2", r.rec.count(EventExpired))
		}
		if r.rec.count(EventRelogin) != 1 {
			t.Fatalf("relogin events = %d, want 1 (retries reuse it)", r.rec.count(EventRelogin))
		}
		fails := r.rec.all(EventFetchFailed)
		var prev time.Time
		for _, ev := range fails {
			if ev.RetryIn <= 0 || ev.RetryIn > DefaultBackoffMax {
				t.Fatalf("retry-in %v", ev.RetryIn)
			}
			if !prev.IsZero() && ev.Channel == "" && ev.Time.Sub(prev) > DefaultBackoffMax {
				t.Fatalf("gap of %v between attempts", ev.Time.Sub(prev))
			}
			if ev.Channel == "" {
				prev = ev.Time
			}
		}
		if len(fails) < 100 {
			t.Fatalf("%d failure events in 2 h: retries stopped?", len(fails))
		}
		time.Sleep(DefaultBackoffMax)
		synctest.Wait()
		li := r.rec.all(EventLoggedIn)
		if len(li) != 2 || li[1].Time.Sub(end) > DefaultBackoffMax {
			t.Fatalf("logged-in events %+v, want a relogin within %v of %v", li, DefaultBackoffMax, end)
		}
		if r.sdk.count("join", "room") != 2 {
			t.Fatalf("room not rejoined: %v", r.sdk.methods())
		}
		for _, ks := range r.s.State() {
			if ks.Phase != PhaseFresh {
				t.Fatalf("key %+v not fresh", ks)
			}
		}
	})
}

func TestLoginHookFailsDuringRelogin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour)
		r.start()
		r.sdk.failNext("login", sdkErr(signaling.CodeLoginTimeout), sdkErr(signaling.CodeLoginTimeout), sdkErr(signaling.CodeLoginNoServerResources))
		r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonTokenExpired))
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := r.sdk.count("login"); got != 5 {
			t.Fatalf("logins = %d, want 1 + 3 failed + 1", got)
		}
		if r.rec.count(EventRenewFailed) != 3 || r.key("").Phase != PhaseFresh {
			t.Fatalf("renew-failed %d, state %+v", r.rec.count(EventRenewFailed), r.key(""))
		}
		if r.sdk.overlap != 0 {
			t.Fatal("SDK calls overlapped")
		}
	})
}

func TestHookHangsPastTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		r.start()
		r.sdk.mu.Lock()
		r.sdk.hang["renew"] = 1 // honours ctx
		r.sdk.mu.Unlock()
		time.Sleep(r.untilRenewal("") + DefaultHookTimeout - 1)
		synctest.Wait()
		if r.rec.count(EventHookTimeout) != 0 {
			t.Fatal("timeout reported early")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if r.rec.count(EventHookTimeout) != 1 || r.rec.count(EventRenewFailed) != 1 {
			t.Fatalf("hook-timeout %d renew-failed %d", r.rec.count(EventHookTimeout), r.rec.count(EventRenewFailed))
		}
		if err := r.rec.all(EventRenewFailed)[0].Err; !errors.Is(err, ErrHookTimeout) {
			t.Fatalf("renew-failed err %v", err)
		}
		time.Sleep(DefaultBackoffInitial)
		synctest.Wait()
		if r.rec.count(EventRenewed) != 1 {
			t.Fatal("no renewal after the hanging call")
		}
		if r.e.Stats().HookTimeouts != 1 {
			t.Errorf("stats %+v", r.e.Stats())
		}
	})
}

func TestHookIgnoresContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// FirstRenewalAtLead: the login and the stream renewals come due at
		// the same instant, 48 min after the start.
		r := newRig(t, time.Hour, noJitter, atLead, func(c *Config, _ *SessionConfig) { c.Workers = 1 })
		r.start("room")
		release := make(chan struct{})
		r.sdk.mu.Lock()
		r.sdk.hangHard["renew"] = release
		r.sdk.mu.Unlock()
		time.Sleep(48*time.Minute + DefaultHookTimeout)
		synctest.Wait()
		// Reported while still hanging; the single worker is blocked, so
		// the stream renewal waits in the queue.
		if r.rec.count(EventHookTimeout) != 1 {
			t.Fatalf("hook-timeout events = %d", r.rec.count(EventHookTimeout))
		}
		if a := r.e.Activity(); a.InFlight != 2 {
			t.Fatalf("activity %+v, want the hung call and the queued stream renewal", a)
		}
		close(release)
		synctest.Wait()
		if r.rec.count(EventHookTimeout) != 1 {
			t.Fatalf("timeout reported twice")
		}
		time.Sleep(DefaultBackoffMax)
		synctest.Wait()
		if r.sdk.count("renewStream") != 1 || r.rec.count(EventRenewed) != 2 {
			t.Fatalf("engine did not live on: %v", r.sdk.methods())
		}
	})
}

func TestHookPanicIsRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		r.start()
		r.sdk.mu.Lock()
		r.sdk.panics["renew"] = 1
		r.sdk.mu.Unlock()
		time.Sleep(r.untilRenewal("") + DefaultBackoffInitial)
		synctest.Wait()
		ps := r.rec.all(EventHookPanic)
		if len(ps) != 1 || !errors.Is(ps[0].Err, ErrHookPanic) {
			t.Fatalf("hook-panic events %+v", ps)
		}
		if strings.Contains(ps[0].Err.Error(), "007fake") {
			t.Fatalf("panic error leaks the token: %v", ps[0].Err)
		}
		if r.rec.count(EventRenewed) != 1 || r.e.Stats().HookPanics != 1 {
			t.Fatalf("no recovery after the panic: %v", r.sdk.methods())
		}
	})
}

func TestSameTokenIsNeverRenewed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		var first fetcher.Token
		served := false
		inner := r.f
		r.s.fetcher = fetcher.Func(func(ctx context.Context, req fetcher.Request) (fetcher.Token, error) {
			if first.Raw != "" && !served {
				served = true
				inner.Fetch(ctx, req)
				return first, nil // a caching server hands back the token in use
			}
			tok, err := inner.Fetch(ctx, req)
			if first.Raw == "" {
				first = tok
			}
			return tok, err
		})
		r.start()
		time.Sleep(r.untilRenewal("") + 2*DefaultBackoffInitial)
		synctest.Wait()
		if got := r.sdk.count("renew"); got != 1 {
			t.Fatalf("renews = %d, want only the one with a new token", got)
		}
		if fails := r.rec.all(EventFetchFailed); len(fails) != 1 || !errors.Is(fails[0].Err, ErrSameToken) {
			t.Fatalf("fetch-failed events %+v", fails)
		}
	})
}

func TestSignalStormOneFetchOneAction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		r.start()
		time.Sleep(r.untilRenewal("") - 1)
		synctest.Wait()
		// Timer, will-expire, renew-now and FAILED at the same instant.
		r.s.WillExpire("")
		r.s.RenewNow("")
		r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonTokenExpired))
		r.s.WillExpire("")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if got := r.f.count(); got != 2 {
			t.Fatalf("fetches = %d, want the login's and one more", got)
		}
		if got := r.sdk.methods(); strings.Join(got, ",") != "login,logout,login,restore" {
			t.Fatalf("calls = %v, want one relogin", got)
		}

		// A storm of will-expire signals while a renewal is in flight joins it.
		gate := make(chan struct{})
		r.f.mu.Lock()
		r.f.gate = gate
		r.f.mu.Unlock()
		r.s.RenewNow("")
		synctest.Wait()
		for i := 0; i < 100; i++ {
			r.s.WillExpire("")
		}
		synctest.Wait()
		close(gate)
		synctest.Wait()
		if got := r.f.count(); got != 3 {
			t.Fatalf("fetches = %d after a storm during a renewal, want 3", got)
		}
		if got := r.sdk.count("renew"); got != 1 {
			t.Fatalf("renews = %d", got)
		}
	})
}

func TestStaleResultIsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		r.start()
		gate := make(chan struct{})
		r.f.mu.Lock()
		r.f.gate, r.f.ignoreCtx = gate, true // a fetcher that ignores ctx
		r.f.mu.Unlock()
		r.s.RenewNow("")
		synctest.Wait()
		r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonTokenExpired))
		synctest.Wait()
		// The relogin waits for the superseded renewal to return.
		if r.sdk.count("logout") != 0 {
			t.Fatal("relogin overlapped the running renewal")
		}
		r.f.mu.Lock()
		r.f.gate = nil
		r.f.mu.Unlock()
		close(gate) // the stale fetch returns a valid token
		synctest.Wait()
		if r.sdk.count("renew") != 0 {
			t.Fatal("stale token was renewed")
		}
		if got := strings.Join(r.sdk.methods(), ","); got != "login,logout,login,restore" {
			t.Fatalf("calls %s", got)
		}
		if r.e.Stats().Dropped != 1 {
			t.Fatalf("dropped = %d", r.e.Stats().Dropped)
		}
		r.sdk.mu.Lock()
		defer r.sdk.mu.Unlock()
		if tok := r.sdk.calls[2].token; !strings.HasSuffix(tok, "-0003-padding") {
			t.Fatalf("relogin used %s, want the third fetch", tok)
		}
	})
}
