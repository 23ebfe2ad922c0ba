package reliability_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/renewal"
)

// world is one scenario on a mock.Harness, with the measuring helpers the
// fault matrix needs. It is driven from the test goroutine only.
type world struct {
	t      *testing.T
	h      *mock.Harness
	policy renewal.Policy // with the engine's defaults filled in
	rng    *rand.Rand

	mu     sync.Mutex
	events []renewal.Event
}

// newWorld builds and starts a harness for cfg (Logger and OnEvent are
// wrapped, not replaced) and registers its Close with t.Cleanup.
func newWorld(t *testing.T, cfg mock.HarnessConfig) *world {
	t.Helper()
	w := &world{t: t, policy: effective(cfg.Policy), rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed))}
	next := cfg.OnEvent
	cfg.OnEvent = func(ev renewal.Event) {
		w.mu.Lock()
		w.events = append(w.events, ev)
		w.mu.Unlock()
		if next != nil {
			next(ev)
		}
	}
	h, err := mock.NewHarness(cfg)
	if err != nil {
		t.Fatalf("NewHarness: %v", err)
	}
	w.h = h
	if err := h.Start(context.Background()); err != nil {
		t.Fatalf("harness Start: %v", err)
	}
	t.Cleanup(w.close)
	return w
}

// close closes the harness once; later calls do nothing.
func (w *world) close() {
	if err := w.h.Close(context.Background()); err != nil {
		w.t.Errorf("harness Close: %v", err)
	}
}

// effective returns p with the engine's documented defaults filled in.
func effective(p renewal.Policy) renewal.Policy {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.BackoffInitial, renewal.DefaultBackoffInitial)
	def(&p.BackoffMax, renewal.DefaultBackoffMax)
	def(&p.BackoffLong, renewal.DefaultBackoffLong)
	def(&p.HookTimeout, renewal.DefaultHookTimeout)
	def(&p.FetchTimeout, renewal.DefaultFetchTimeout)
	def(&p.MinLead, renewal.DefaultMinLead)
	return p
}

// sdk returns the fake SDK of the first session.
func (w *world) sdk() *mock.Signaling { return w.h.Session(0).SDK }

// nextDue returns the earliest future instant at which anything in the
// harness acts: an engine timer, a fake SDK's signal, a delayed token-server
// answer.
func (w *world) nextDue() (time.Time, bool) {
	var next time.Time
	take := func(t time.Time, ok bool) {
		if ok && !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	take(w.h.Engine.Activity().Next, true)
	for _, s := range w.h.Sessions() {
		take(s.SDK.NextDue())
	}
	take(w.h.Server.NextWake())
	return next, !next.IsZero()
}

// stepUntil advances the harness one due instant at a time, calling before
// (if not nil) ahead of each step, until cond holds or limit is reached. It
// returns the simulated time at which it stopped and whether cond held.
// Because everything in the harness happens at due instants, the time
// returned is exact, not sampled.
func (w *world) stepUntil(limit time.Time, cond func() bool, before func()) (time.Time, bool) {
	w.h.AdvanceTo(w.h.Now()) // let signals sent since the last step settle first
	for {
		now := w.h.Now()
		if cond != nil && cond() {
			return now, true
		}
		if !now.Before(limit) {
			return now, false
		}
		next, ok := w.nextDue()
		if !ok || next.After(limit) {
			next = limit
		}
		if !next.After(now) {
			next = now.Add(time.Millisecond)
		}
		if before != nil {
			before()
		}
		w.h.AdvanceTo(next)
	}
}

// healthy reports whether every session is logged in (link CONNECTED) and
// joined to all its stream channels.
func (w *world) healthy() bool { return w.h.Check() == nil }

// settled reports whether every session is healthy and every key holds a
// valid token with its renewal scheduled (phase fresh): nothing is left to
// recover.
func (w *world) settled() bool {
	if !w.healthy() {
		return false
	}
	for _, s := range w.h.Sessions() {
		for _, k := range s.Client.State() {
			if k.Phase != renewal.PhaseFresh {
				return false
			}
		}
	}
	return true
}

// nextRenewal returns the earliest proactive renewal scheduled for any key
// of any session.
func (w *world) nextRenewal() time.Time {
	var next time.Time
	for _, s := range w.h.Sessions() {
		for _, k := range s.Client.State() {
			if !k.NextRenewal.IsZero() && (next.IsZero() || k.NextRenewal.Before(next)) {
				next = k.NextRenewal
			}
		}
	}
	if next.IsZero() {
		w.t.Fatal("no renewal scheduled")
	}
	return next
}

// count returns how many events of kind k were recorded from the i-th on.
func (w *world) count(k renewal.EventKind, i int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ev := range w.events[i:] {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

// nEvents returns the number of events recorded so far.
func (w *world) nEvents() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

// eventsBetween returns the events recorded from the i-th to the j-th.
func (w *world) eventsBetween(i, j int) []renewal.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]renewal.Event(nil), w.events[i:j]...)
}

// consumed returns how many injected SDK faults the first session's fake
// has consumed so far.
func (w *world) consumed() int { return w.sdk().Stats().InjectedFaults }
