package reliability_test

import (
	"flag"
	"fmt"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/renewal"
)

var update = flag.Bool("update", false, "rewrite the observed table in ../RELIABILITY.md from this run")

// The fault matrix. Each row throws one fault at a session on the mock
// Harness (user "bot", stream channels "lobby" and "game", one-hour tokens,
// the default Policy unless the row says otherwise: each key's first
// renewal after a login or join is drawn over its first period, later ones
// come 12–13.2 min before the deadline) and checks, for every row:
//
//   - no expired token is ever used (the fake SDK's ExpiredTokenUses is 0;
//     a FAILED link event at a deadline during an outage is the SDK expiring
//     a token, not a use), and no token the fake refuses for another reason
//     ever reaches it;
//   - once the fault clears, the session is logged in and joined again, and
//     every key holds a fresh token, within the row's bound: one backoff
//     step (Policy.BackoffMax for retryable faults, the server's Retry-After,
//     Policy.BackoffLong for permanent ones) plus a second of slack;
//   - it then stays healthy for the rest of the row (no further logged-out
//     time).
//
// Rows run inside a testing/synctest bubble, where the mock clock's real
// sleeps are instant; the whole matrix takes a few seconds.

// slack is added to every recovery bound: recovery on the mock is exact,
// and a second covers a bound that falls between two due instants.
const slack = time.Second

// row is one fault of the matrix.
type row struct {
	name     string
	expected string                                  // for RELIABILITY.md
	cfg      func(*mock.HarnessConfig)               // optional changes to the default configuration
	warm     time.Duration                           // before the fault; default 40 min (every key renews by 88 min, every token in use then expires by 100 min)
	lead     time.Duration                           // if set, the fault starts this long before the first renewal due after warm
	inject   func(w *world)                          // starts the fault
	active   time.Duration                           // clear after this long …
	until    func(w *world) bool                     // … or once this holds (checked at each due instant, at most a day)
	during   func(w *world)                          // called before each step while the fault is active
	clear    func(w *world)                          // ends the fault (may be nil: the fault ended by itself)
	bound    func(p renewal.Policy) time.Duration    // recovery bound after the clear; default BackoffMax
	tail     time.Duration                           // after recovery; default 3 h
	check    func(t *testing.T, w *world, r *result) // row-specific assertions at the end (counters filled); may set r.note
	custom   func(t *testing.T, w *world, r *result) // replaces the generic flow entirely
}

// result is what a row observed.
type result struct {
	name, expected string
	maxOut         time.Duration // longest logged-out stretch of the message link
	outAfterClear  time.Duration // clear → logged in and joined again (-1: never)
	recovered      time.Duration // clear → every key fresh (-1: never)
	bound          time.Duration
	fetches        int // token requests that reached the server
	failedFetches  int // fetches the client saw fail (EventFetchFailed)
	relogins       int
	rejoins        int
	expiries       int
	expiredUses    int
	note           string

	// set by the generic flow for row checks
	injectAt, clearAt       time.Time
	reqAtInject, reqAtClear int // token requests so far
	evAtInject, evAtClear   int // events so far
}

func defaultConfig() mock.HarnessConfig {
	return mock.HarnessConfig{Seed: 1, UserID: "bot", Channels: []string{"lobby", "game"}, TTL: time.Hour}
}

// run executes r inside a synctest bubble and returns what it observed.
func (r row) run(t *testing.T) result {
	var res result
	synctest.Test(t, func(t *testing.T) {
		cfg := defaultConfig()
		if r.cfg != nil {
			r.cfg(&cfg)
		}
		w := newWorld(t, cfg)
		res = result{name: r.name, expected: r.expected, outAfterClear: -1, recovered: -1}
		if r.custom != nil {
			r.custom(t, w, &res)
		} else {
			r.generic(t, w, &res)
		}
		sum := w.observe(&res)
		if r.check != nil {
			r.check(t, w, &res)
		}
		if sum.ExpiredTokenUses != 0 {
			t.Errorf("expired token used %d times", sum.ExpiredTokenUses)
		}
		if sum.RejectedTokens != 0 {
			t.Errorf("the SDK refused %d tokens (wrong app, user, channel or signature reached it)", sum.RejectedTokens)
		}
	})
	return res
}

// generic is the flow shared by most rows: warm up, inject, keep the fault
// active, clear, measure recovery exactly, then run on and check the
// session stays healthy.
func (r row) generic(t *testing.T, w *world, res *result) {
	warm := r.warm
	if warm == 0 {
		warm = 40 * time.Minute
	}
	w.h.Advance(warm)
	if r.lead > 0 {
		w.h.AdvanceTo(w.nextRenewal().Add(-r.lead))
	}
	if !w.settled() {
		t.Fatalf("not settled before the fault: %v", w.h.Check())
	}
	res.injectAt, res.reqAtInject, res.evAtInject = w.h.Now(), w.h.Server.Requests(), w.nEvents()
	if r.inject != nil {
		r.inject(w)
	}
	switch {
	case r.until != nil:
		if _, ok := w.stepUntil(w.h.Now().Add(24*time.Hour), func() bool { return r.until(w) }, nil); !ok {
			t.Fatalf("the fault never ran its course")
		}
	case r.during != nil:
		w.stepUntil(w.h.Now().Add(r.active), nil, func() { r.during(w) })
	default:
		w.h.Advance(r.active)
	}
	if r.clear != nil {
		r.clear(w)
	}
	res.clearAt, res.reqAtClear, res.evAtClear = w.h.Now(), w.h.Server.Requests(), w.nEvents()
	bound := w.policy.BackoffMax
	if r.bound != nil {
		bound = r.bound(w.policy)
	}
	res.bound = bound + slack
	limit := res.clearAt.Add(2 * w.policy.BackoffLong)
	if at, ok := w.stepUntil(limit, w.healthy, nil); ok {
		res.outAfterClear = at.Sub(res.clearAt)
	}
	if at, ok := w.stepUntil(limit, w.settled, nil); ok {
		res.recovered = at.Sub(res.clearAt)
	}
	switch {
	case res.outAfterClear < 0 || res.recovered < 0:
		t.Errorf("not recovered %v after the fault cleared: %v; state %+v", limit.Sub(res.clearAt), w.h.Check(), w.h.Session(0).Client.State())
	case res.outAfterClear > res.bound || res.recovered > res.bound:
		t.Errorf("recovery after the clear took %v (logged in) / %v (all keys fresh), bound %v",
			res.outAfterClear, res.recovered, res.bound)
	}
	outAtRecovery := w.h.Summary().LoggedOutSeconds
	tail := r.tail
	if tail == 0 {
		tail = 3 * time.Hour
	}
	w.h.Advance(tail)
	if err := w.h.Check(); err != nil {
		t.Errorf("unhealthy %v after recovery: %v", tail, err)
	}
	if d := w.h.Summary().LoggedOutSeconds - outAtRecovery; d > 0 {
		t.Errorf("logged out again for %.0f s after recovering", d)
	}
}

// observe fills res's counters from the harness and returns its summary.
func (w *world) observe(res *result) mock.Summary {
	sum := w.h.Summary()
	st := w.h.Server.Stats()
	res.maxOut = time.Duration(sum.MaxLoggedOutSeconds * float64(time.Second))
	res.fetches, res.failedFetches = st.Requests, sum.FetchFailures
	res.relogins, res.rejoins, res.expiries = sum.Relogins, sum.Rejoins, sum.Expiries
	res.expiredUses = sum.ExpiredTokenUses
	return sum
}

// TestFaultMatrix runs every row as a subtest. With -update it rewrites the
// observed table of ../RELIABILITY.md.
func TestFaultMatrix(t *testing.T) {
	rows := matrixRows()
	results := make([]result, len(rows))
	var mu sync.Mutex
	t.Run("rows", func(t *testing.T) {
		for i, r := range rows {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				res := r.run(t)
				t.Logf("%s", res.markdown())
				mu.Lock()
				results[i] = res
				mu.Unlock()
			})
		}
	})
	results = append(results, rigResults(t)...)
	if *update {
		if t.Failed() {
			t.Fatal("not updating RELIABILITY.md: the matrix failed")
		}
		if err := writeTable("../RELIABILITY.md", results); err != nil {
			t.Fatal(err)
		}
	}
}

// matrixRows returns every harness row, in table order.
func matrixRows() []row {
	var rows []row
	rows = append(rows, serverRows()...)
	rows = append(rows, sdkRows()...)
	rows = append(rows, clockRows()...)
	return rows
}

// dur formats d for the table: seconds below ten minutes, else minutes or
// hours; "never" for -1.
func dur(d time.Duration) string {
	switch {
	case d < 0:
		return "never"
	case d == 0:
		return "0"
	case d < 10*time.Minute:
		return fmt.Sprintf("%.0f s", math.Ceil(d.Seconds()))
	case d < 3*time.Hour:
		return fmt.Sprintf("%.1f min", d.Minutes())
	}
	return fmt.Sprintf("%.2f h", d.Hours())
}

// markdown returns r as one row of the RELIABILITY.md table.
func (r result) markdown() string {
	back := "n/a"
	if r.bound > 0 {
		back = fmt.Sprintf("%s / %s (≤ %s)", dur(r.outAfterClear), dur(r.recovered), dur(r.bound))
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %d (%d failed) | %d / %d / %d | %d | %s |",
		r.name, r.expected, dur(r.maxOut), back, r.fetches, r.failedFetches,
		r.expiries, r.relogins, r.rejoins, r.expiredUses, r.note)
}
