package reliability_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// SDK rows: the fake Signaling fails, hangs or panics in its hooks, kicks
// the session, or gets signals the client must ignore.

func sdkRows() []row {
	return []row{
		{
			name:     "sdk: renew fails 3× (RENEW_TOKEN_TIMEOUT), login and stream",
			expected: "retried with backoff while the token is valid; never logged out",
			inject: func(w *world) {
				w.sdk().FailNext(mock.CallRenew, 3, signaling.CodeRenewTokenTimeout)
				w.sdk().FailNext(mock.CallRenewStream, 3, signaling.CodeRenewTokenTimeout)
			},
			until: consumedAll(6),
			check: func(t *testing.T, w *world, r *result) {
				wantNoOutage(t, w, r)
				r.note = fmt.Sprintf("%d renew failures reported", w.count(renewal.EventRenewFailed, r.evAtInject))
			},
		},
		{
			name:     "sdk: renew fails for 30 min, login and stream (FirstRenewalAtLead)",
			expected: "retried until the deadline, then relogin / rejoin at once; back ≤ BackoffMax after",
			// Every key's renewal must fall inside the fault, then its
			// deadline: with the first renewal at the usual time all three
			// come due at ~47 min and expire at 60 min.
			cfg: func(c *mock.HarnessConfig) { c.Policy.FirstRenewal = renewal.FirstRenewalAtLead },
			inject: func(w *world) {
				w.sdk().FailNext(mock.CallRenew, 1000, signaling.CodeRenewTokenTimeout)
				w.sdk().FailNext(mock.CallRenewStream, 1000, signaling.CodeRenewTokenTimeout)
			},
			active: 30 * time.Minute,
			clear:  func(w *world) { w.sdk().ResetFaults() },
			check: func(t *testing.T, w *world, r *result) {
				if r.expiries != keys || r.relogins == 0 || r.rejoins == 0 {
					t.Errorf("%d expiries, %d relogins, %d rejoins: every key should have reached its deadline, forcing both",
						r.expiries, r.relogins, r.rejoins)
				}
				r.note = fmt.Sprintf("%d renew attempts failed", w.consumed())
			},
		},
		reloginRow("sdk: login fails 5× (LOGIN_TIMEOUT) in a relogin", "relogin retried with backoff; back ≤ BackoffMax after the last failure",
			func(s *mock.Signaling) { s.FailNext(mock.CallLogin, 5, signaling.CodeLoginTimeout) }, 5, nil, nil),
		reloginRow("sdk: login rate-limited 2× (OPERATION_RATE_EXCEED_LIMITATION) in a relogin", "relogin retried after BackoffLong; back ≤ BackoffLong after",
			func(s *mock.Signaling) { s.FailNext(mock.CallLogin, 2, signaling.CodeOperationRateExceedLimitation) }, 2,
			func(p renewal.Policy) time.Duration { return p.BackoffLong }, nil),
		{
			name:     "sdk: renew hook hangs past HookTimeout (3×)",
			expected: "each call abandoned after HookTimeout (10 s), retried; never logged out",
			inject:   func(w *world) { w.sdk().HangNext(mock.CallRenew, 3) },
			until:    hangsOver(3),
			check: func(t *testing.T, w *world, r *result) {
				if n := w.count(renewal.EventHookTimeout, r.evAtInject); n < 3 {
					t.Errorf("%d hook timeouts reported, want ≥ 3", n)
				}
				wantNoOutage(t, w, r)
			},
		},
		reloginRow("sdk: login hook hangs past HookTimeout (2×) in a relogin", "abandoned after HookTimeout, relogin retried; back ≤ BackoffMax after",
			func(s *mock.Signaling) { s.HangNext(mock.CallLogin, 2) }, 2, nil,
			func(t *testing.T, w *world, r *result) {
				if n := w.count(renewal.EventHookTimeout, r.evAtInject); n < 2 {
					t.Errorf("%d hook timeouts reported, want ≥ 2", n)
				}
			}),
		{
			name:     "sdk: renew hooks panic (3× login, 3× stream)",
			expected: "panic recovered, reported, retried; never logged out",
			inject: func(w *world) {
				w.sdk().PanicNext(mock.CallRenew, 3)
				w.sdk().PanicNext(mock.CallRenewStream, 3)
			},
			until: consumedAll(6),
			check: func(t *testing.T, w *world, r *result) {
				if n := w.count(renewal.EventHookPanic, r.evAtInject); n != 6 {
					t.Errorf("%d hook panics reported, want 6", n)
				}
				if n := w.h.Engine.Stats().HookPanics; n != 6 {
					t.Errorf("engine counted %d panics, want 6", n)
				}
				wantNoOutage(t, w, r)
			},
		},
		reloginRow("sdk: login hook panics (2×) in a relogin", "panic recovered, relogin retried; back ≤ BackoffMax after",
			func(s *mock.Signaling) { s.PanicNext(mock.CallLogin, 2) }, 2, nil,
			func(t *testing.T, w *world, r *result) {
				if n := w.count(renewal.EventHookPanic, r.evAtInject); n != 2 {
					t.Errorf("%d hook panics reported, want 2", n)
				}
			}),
		{
			name:     "sdk: kicked (SAME_UID_LOGIN), default policy",
			expected: "reported; no relogin and no fetch for an hour; RenewNow brings it back at once",
			inject:   func(w *world) { w.sdk().Kick(signaling.ReasonSameUIDLogin) },
			active:   time.Hour,
			clear:    func(w *world) { w.h.Session(0).Client.RenewNow("") },
			bound:    func(renewal.Policy) time.Duration { return 0 },
			check: func(t *testing.T, w *world, r *result) {
				if n := r.reqAtClear - r.reqAtInject; n != 0 {
					t.Errorf("%d token requests while kicked, want 0", n)
				}
				if n := w.count(renewal.EventKicked, r.evAtInject); n == 0 {
					t.Error("kick not reported")
				}
				if r.maxOut < time.Hour {
					t.Errorf("logged out %v: the client logged in again by itself", r.maxOut)
				}
				r.note = "logged out for the hour by design"
			},
		},
		{
			name:     "sdk: kicked (SAME_UID_LOGIN), ReloginOnKick",
			expected: "reported; relogin after one backoff step",
			cfg:      func(c *mock.HarnessConfig) { c.Policy.ReloginOnKick = true },
			inject:   func(w *world) { w.sdk().Kick(signaling.ReasonSameUIDLogin) },
			check: func(t *testing.T, w *world, r *result) {
				// A relogin scheduled with a backoff is reported too
				// (EventRelogin once per relogin path).
				kicks, logins := w.count(renewal.EventKicked, r.evAtInject), w.count(renewal.EventLoggedIn, r.evAtInject)
				if kicks == 0 || logins == 0 || r.relogins == 0 {
					t.Errorf("kick reported %d times, %d logins and %d relogins after it", kicks, logins, r.relogins)
				}
				r.note = fmt.Sprintf("%d login after the kick (EventRelogin: %d)", logins, w.count(renewal.EventRelogin, r.evAtInject))
			},
		},
		{
			name:     "sdk: FAILED LOGIN_TOO_FREQUENT",
			expected: "relogin after BackoffLong (suspect a second instance); back ≤ BackoffLong",
			inject:   func(w *world) { w.sdk().Kick(signaling.ReasonLoginTooFrequent) },
			bound:    func(p renewal.Policy) time.Duration { return p.BackoffLong },
			check: func(t *testing.T, w *world, r *result) {
				if r.outAfterClear < w.policy.BackoffLong/2 {
					t.Errorf("relogged in after %v: faster than half of BackoffLong", r.outAfterClear)
				}
			},
		},
		{
			name:     "sdk: FAILED TOKEN_EXPIRED during an in-flight renew (hook running)",
			expected: "the running renew is cancelled, relogin at once",
			inject: func(w *world) {
				w.sdk().HangNext(mock.CallRenew, 1)
				if _, ok := w.stepUntil(w.h.Now().Add(time.Hour), func() bool { return w.sdk().Blocked() > 0 }, nil); !ok {
					w.t.Fatal("the renewal never started")
				}
				w.sdk().ExpireNow("")
			},
			bound: func(renewal.Policy) time.Duration { return 0 },
			check: func(t *testing.T, w *world, r *result) {
				if r.relogins != 1 || w.count(renewal.EventHookTimeout, r.evAtInject) != 0 {
					t.Errorf("%d relogins, %d hook timeouts: want 1 relogin and the hanging renew cancelled",
						r.relogins, w.count(renewal.EventHookTimeout, r.evAtInject))
				}
			},
		},
		{
			name:     "sdk: FAILED TOKEN_EXPIRED during an in-flight renew (fetch running)",
			expected: "the running fetch is cancelled, relogin or rejoin at once",
			inject: func(w *world) {
				w.h.Server.SetLatency(10 * time.Second)
				if _, ok := w.stepUntil(w.h.Now().Add(time.Hour), func() bool { return w.h.Server.Blocked() > 0 }, nil); !ok {
					w.t.Fatal("no renewal fetch started")
				}
				w.h.Server.Clear()
				for _, k := range w.h.Session(0).Client.State() {
					if k.Phase == renewal.PhaseRenewing {
						w.sdk().ExpireNow(k.Channel)
						return
					}
				}
				w.t.Fatal("no key renewing while its fetch runs")
			},
			bound: func(renewal.Policy) time.Duration { return 0 },
			check: func(t *testing.T, w *world, r *result) {
				// A relogin rejoins both channels; a stream key alone is
				// rejoined.
				if !(r.relogins == 1 && r.rejoins == 2) && !(r.relogins == 0 && r.rejoins == 1) {
					t.Errorf("%d relogins, %d rejoins; want one recovery of the key whose fetch ran", r.relogins, r.rejoins)
				}
			},
		},
		{
			name:     "sdk: WillExpire / FAILED / RenewNow for an unknown channel",
			expected: "ignored: no fetch, no SDK call, no new key",
			inject: func(w *world) {
				c := w.h.Session(0).Client
				c.WillExpire("ghost")
				c.LinkState(signaling.LinkStateEvent{Current: signaling.LinkFailed, Previous: signaling.LinkConnected,
					Service: signaling.ServiceStream, Operation: signaling.OpServerReject,
					ReasonCode: signaling.ReasonTokenExpired, AffectedChannels: []string{"ghost"}})
				c.RenewNow("ghost")
			},
			active: time.Minute,
			bound:  func(renewal.Policy) time.Duration { return 0 },
			check: func(t *testing.T, w *world, r *result) {
				if n := r.reqAtClear - r.reqAtInject; n != 0 {
					t.Errorf("%d token requests after signals for an unknown channel", n)
				}
				if evs := w.eventsBetween(r.evAtInject, r.evAtClear); len(evs) != 0 {
					t.Errorf("events after signals for an unknown channel: %+v", evs)
				}
				if n := len(w.h.Session(0).Client.State()); n != keys {
					t.Errorf("%d keys, want %d", n, keys)
				}
			},
		},
		{
			name:     "sdk: signals after Close",
			expected: "ignored: no fetch, no SDK call, no event, no panic",
			custom:   signalsAfterClose,
		},
	}
}

// reloginRow forces a relogin (the login token expires now) with fault f
// queued on the fake for the relogin to meet; the fault has run its course
// once n faults were consumed and no call hangs.
func reloginRow(name, expected string, f func(*mock.Signaling), n int, bound func(renewal.Policy) time.Duration, check func(*testing.T, *world, *result)) row {
	return row{
		name: name, expected: expected, bound: bound,
		inject: func(w *world) {
			f(w.sdk())
			w.sdk().ExpireNow("")
		},
		until: hangsOver(n),
		check: func(t *testing.T, w *world, r *result) {
			if r.relogins == 0 {
				t.Error("no relogin")
			}
			if check != nil {
				check(t, w, r)
			}
		},
	}
}

// consumedAll: the fake has consumed n injected faults.
func consumedAll(n int) func(*world) bool {
	return func(w *world) bool { return w.consumed() >= n }
}

// hangsOver: the fake has consumed n injected faults and no call hangs.
func hangsOver(n int) func(*world) bool {
	return func(w *world) bool { return w.consumed() >= n && w.sdk().Blocked() == 0 }
}

// signalsAfterClose closes the harness, then throws every kind of signal at
// the closed clients, directly and through the fake SDK.
func signalsAfterClose(t *testing.T, w *world, r *result) {
	w.h.Advance(40 * time.Minute)
	w.close()
	before := w.sdk().Stats()
	reqs := w.h.Server.Requests()
	evs := w.nEvents()
	for _, s := range w.h.Sessions() {
		c := s.Client
		c.WillExpire("")
		c.WillExpire("lobby")
		c.LinkState(signaling.LinkStateEvent{Current: signaling.LinkFailed, Previous: signaling.LinkConnected,
			Service: signaling.ServiceMessage, Operation: signaling.OpServerReject, ReasonCode: signaling.ReasonTokenExpired})
		c.RenewNow("")
		c.RenewNow("game")
		s.SDK.ExpireNow("lobby") // the fake calls the closed client's LinkState
		s.SDK.ExpireNow("")
		if got := c.State(); len(got) == 0 {
			t.Error("State after Close is empty")
		}
	}
	after := w.sdk().Stats()
	calls := func(s mock.SignalingStats) int {
		return s.Logins + s.Logouts + s.Renewals + s.RenewNoops + s.Joins + s.Leaves + s.StreamRenewals + s.Restores + s.FailedCalls
	}
	if calls(after) != calls(before) {
		t.Errorf("SDK calls after Close: before %+v after %+v", before, after)
	}
	if n := w.h.Server.Requests() - reqs; n != 0 {
		t.Errorf("%d token requests after Close", n)
	}
	if got := w.eventsBetween(evs, w.nEvents()); len(got) != 0 {
		t.Errorf("%d events after Close, first %+v", len(got), got[0])
	}
	r.note = "0 SDK calls, 0 fetches, 0 events after Close"
}
