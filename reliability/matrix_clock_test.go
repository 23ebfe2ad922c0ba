package reliability_test

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/tokenkeeper/tokenkeeper/renewal"
)

// Clock rows.
//
// What the engine can see: renewal reads one clock, Config.Clock. It takes
// the wall-clock time as Clock.Now() with any monotonic reading stripped,
// and measures elapsed time as Now().Sub(previous Now()), which uses Go's
// monotonic readings when both times carry one. A forward or backward
// disagreement of more than 2 s between the two is reported as
// EventClockJump (and a backward one shifts every deadline). Only the real
// clock produces times whose wall and monotonic readings disagree (a
// suspend, or the wall clock being set); a clock.Mock's times carry no
// monotonic reading, and any clock.Clock built on the public time API
// (like offsetClock here) shifts both readings together. So through the
// public API a jump cannot be detected as a jump — the engine's own tests
// (renewal/clockjump_test.go) reach it through an unexported hook — and
// these rows check the behaviour that does not depend on detection: every
// deadline is an absolute wall-clock time, re-checked at each wake of the
// scheduler (at least once per Config.WatchdogInterval, 1 min by default).

func clockRows() []row {
	return []row{
		{
			name:     "clock: jump +1 h, whole system (harness)",
			expected: "deadlines passed during the jump: relogin and rejoin at once",
			inject: func(w *world) {
				w.h.Clock.Set(w.h.Now().Add(time.Hour))
				w.h.Engine.Poke()
			},
			bound: func(renewal.Policy) time.Duration { return 0 },
			check: func(t *testing.T, w *world, r *result) {
				if r.expiries == 0 || r.relogins == 0 {
					t.Errorf("%d expiries, %d relogins: the tokens' deadlines passed during the jump", r.expiries, r.relogins)
				}
			},
		},
		{
			name:     "clock: jump −1 h, whole system (harness)",
			expected: "everything happens an hour later; never logged out",
			inject:   func(w *world) { w.h.Clock.Set(w.h.Now().Add(-time.Hour)) },
			check:    wantNoOutage,
		},
	}
}

// rigRow is a row that needs a hand-wired rig (see rig_test.go).
type rigRow struct {
	name, expected string
	run            func(t *testing.T, res *result)
}

// rigResults runs the rig rows as subtests of t and returns their results.
func rigResults(t *testing.T) []result {
	rows := []rigRow{
		{"clock: client wall clock +90 min, 2 h tokens (engine only)",
			"the engine sees its deadlines passed at its next wake: relogin and rejoin ≤ WatchdogInterval (1 min); later tokens keep their 2 h life in its eyes (measured on the server's clock)",
			clientJumpForward},
		{"clock: client wall clock −1 h (engine only)",
			"proactive renewal comes an hour late; the SDK's will-expire warning renews every key in time; never logged out",
			clientJumpBack},
		{"clock: 2 h suspend (wall clock moves on, timers paused)",
			"deadlines passed during the suspend: relogin and rejoin ≤ WatchdogInterval after resume",
			suspend},
	}
	var out []result
	for _, rr := range rows {
		t.Run("rig/"+rr.name, func(t *testing.T) {
			res := result{name: rr.name, expected: rr.expected, outAfterClear: -1, recovered: -1}
			synctest.Test(t, func(t *testing.T) { rr.run(t, &res) })
			t.Logf("%s", res.markdown())
			out = append(out, res)
		})
	}
	return out
}

// observe fills res from a rig's counters and checks the promises every
// row keeps.
func (r *rig) observe(t *testing.T, res *result) {
	st := r.stats()
	sv := r.srv.Stats()
	res.maxOut = st.MaxLoggedOut
	res.fetches, res.failedFetches = sv.Requests, r.count(renewal.EventFetchFailed, 0)
	res.relogins = r.count(renewal.EventRelogin, 0)
	res.rejoins = r.count(renewal.EventRejoined, 0)
	res.expiries = r.count(renewal.EventExpired, 0)
	res.expiredUses = st.ExpiredTokenUses
	if st.ExpiredTokenUses != 0 || st.RejectedTokens != 0 {
		t.Errorf("expired token used %d times, %d tokens refused", st.ExpiredTokenUses, st.RejectedTokens)
	}
	if !r.healthy() {
		t.Error("unhealthy at the end")
	}
}

// afterJump waits for the engine to notice the jump (a login after event
// index ev0, everything fresh), checks it did so within one watchdog
// interval, runs on for 3 h, and fills res.
func (r *rig) afterJump(t *testing.T, res *result, ev0 int) {
	took, ok := r.pollUntil(time.Hour, func() bool {
		return r.count(renewal.EventLoggedIn, ev0) > 0 && r.settled()
	})
	res.bound = renewal.DefaultWatchdogInterval + slack
	if ok {
		res.outAfterClear, res.recovered = took, took
	}
	if !ok || took > res.bound {
		t.Errorf("relogged in %v after the jump (ok=%v), bound %v", took, ok, res.bound)
	}
	out := r.stats().LoggedOut
	r.sleep(3 * time.Hour)
	if d := r.stats().LoggedOut - out; d > 0 {
		t.Errorf("logged out again for %v after recovering", d)
	}
	r.observe(t, res)
	res.note = fmt.Sprintf("EventClockJump: %d", r.eng.Stats().ClockJumps)
}

// clientJumpForward sets the client's wall clock 90 min ahead of the
// world's. The tokens in use then look expired; the tokens fetched after
// the jump keep their whole life, because the fetcher measures it on the
// token server's clock (the Date header), so they are renewed at the usual
// lead of a 2 h token (24–26.4 min), not of a token that would look 30 min
// long (6–6.6 min).
func clientJumpForward(t *testing.T, res *result) {
	clk := &offsetClock{Clock: clock.New()}
	r := newRig(t, rigConfig{seed: 1, channels: []string{"lobby", "game"}, clientClock: clk, ttl: 2 * time.Hour})
	r.start()
	defer r.close()
	r.sleep(40 * time.Minute)
	ev0 := r.nEvents()
	clk.jump(90 * time.Minute)
	r.afterJump(t, res, ev0)
	if n := r.count(renewal.EventExpired, ev0); n != keys {
		t.Errorf("%d keys seen expired after the jump, want %d", n, keys)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	renewed := 0
	for _, ev := range r.events[ev0:] {
		if ev.Kind == renewal.EventRenewed {
			renewed++
			if ev.Lead < 23*time.Minute {
				t.Errorf("%q renewed %v before its deadline after the jump: the token looked shorter than 2 h", ev.Channel, ev.Lead)
			}
		}
	}
	if renewed < keys {
		t.Errorf("%d renewals in the 3 h after the jump, want at least one per key", renewed)
	}
}

func clientJumpBack(t *testing.T, res *result) {
	clk := &offsetClock{Clock: clock.New()}
	r := newRig(t, rigConfig{seed: 1, channels: []string{"lobby", "game"}, clientClock: clk})
	r.start()
	defer r.close()
	r.sleep(40 * time.Minute)
	clk.jump(-time.Hour)
	r.sleep(4 * time.Hour)
	r.observe(t, res)
	st := r.stats()
	if res.maxOut != 0 || res.expiries != 0 || res.relogins != 0 {
		t.Errorf("logged out %v, %d expiries, %d relogins; want none", res.maxOut, res.expiries, res.relogins)
	}
	if st.WillExpireSignals != keys {
		t.Errorf("%d will-expire warnings, want one per key (%d): the first renewal after the jump", st.WillExpireSignals, keys)
	}
	res.note = fmt.Sprintf("%d keys renewed on the SDK's will-expire warning; EventClockJump: %d", st.WillExpireSignals, r.eng.Stats().ClockJumps)
}

func suspend(t *testing.T, res *result) {
	clk := &offsetClock{Clock: clock.New()}
	r := newRig(t, rigConfig{seed: 1, channels: []string{"lobby", "game"}, clientClock: clk, worldClock: clk})
	r.start()
	defer r.close()
	r.sleep(40 * time.Minute)
	ev0 := r.nEvents()
	clk.jump(2 * time.Hour) // resumed: the wall clock moved on, no timer fired
	r.afterJump(t, res, ev0)
	if n := r.count(renewal.EventExpired, ev0); n != keys {
		t.Errorf("%d keys seen expired after the suspend, want %d", n, keys)
	}
}
