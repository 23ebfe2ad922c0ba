package mock

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// harnessTestLimit bounds every harness test in real time. The harness must
// never deadlock; if it does, within fails the test with every goroutine's
// stack instead of waiting for go test's -timeout.
const harnessTestLimit = 60 * time.Second

// within runs f on its own goroutine and fails the test if it has not
// returned after d of real time. f may call t.Fatal (it is wrapped so the
// test goroutine reports it).
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("harness test still running after %v (deadlock?); goroutines:\n%s", d, buf)
	}
}

// eventLog collects renewal events from HarnessConfig.OnEvent.
type eventLog struct {
	mu  sync.Mutex
	evs []renewal.Event
}

func (l *eventLog) add(ev renewal.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

func (l *eventLog) all(kind renewal.EventKind) []renewal.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []renewal.Event
	for _, ev := range l.evs {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// newHarness builds and starts a harness and closes it when the test ends.
func newHarness(t *testing.T, cfg HarnessConfig) *Harness {
	t.Helper()
	h, err := NewHarness(cfg)
	if err != nil {
		t.Fatalf("NewHarness: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := h.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return h
}

// TestHarnessHealthyDays runs two sessions with two stream channels for
// three days of one-hour tokens with no fault, and checks the renewal
// schedule and every figure of the summary.
func TestHarnessHealthyDays(t *testing.T) {
	within(t, harnessTestLimit, func() {
		log := &eventLog{}
		h := newHarness(t, HarnessConfig{Seed: 3, Sessions: 2, Channels: []string{"lobby", "game"},
			TTL: time.Hour, OnEvent: log.add})
		const days = 3
		h.Advance(days * 24 * time.Hour)
		if err := h.Check(); err != nil {
			t.Fatal(err)
		}

		// Default policy, 1 h tokens: the first renewal of each key (of the
		// login's or join's token) is drawn between 1 s after receipt and
		// the usual time; every later one comes at a lead of 12 min plus up
		// to 10 % jitter, so each key renews every 46.8–48 min: 90–93 times
		// in three days, plus one for the early first renewal.
		const keys = 2 * 3
		usual := func(lead time.Duration) bool {
			// The token server stamps whole seconds, so a lead may be up to
			// 1 s shorter than scheduled.
			return lead >= 12*time.Minute-time.Second && lead <= 12*time.Minute+72*time.Second
		}
		first := func(lead time.Duration) bool { return lead >= 12*time.Minute-time.Second && lead < time.Hour }
		renewed := log.all(renewal.EventRenewed)
		perKey := map[string]int{}
		for _, ev := range renewed {
			k := ev.UserID + "/" + ev.Channel
			perKey[k]++
			if perKey[k] == 1 && !first(ev.Lead) {
				t.Errorf("%s %q: first renewal %v before its deadline, want 12m … 1h", ev.UserID, ev.Channel, ev.Lead)
			}
			if perKey[k] > 1 && !usual(ev.Lead) {
				t.Errorf("%s %q renewed %v before its deadline, want 12m–13m12s", ev.UserID, ev.Channel, ev.Lead)
			}
		}
		if len(perKey) != keys {
			t.Fatalf("renewals for %d keys, want %d: %v", len(perKey), keys, perKey)
		}
		for k, n := range perKey {
			if n < 90 || n > 94 {
				t.Errorf("key %s renewed %d times in %d days, want 90–94", k, n, days)
			}
		}
		scheduled := map[string]int{}
		var spread int // first renewals scheduled earlier than the usual lead
		for _, ev := range log.all(renewal.EventScheduled) {
			k := ev.UserID + "/" + ev.Channel
			scheduled[k]++
			switch {
			case scheduled[k] == 1 && !first(ev.Lead), scheduled[k] > 1 && !usual(ev.Lead):
				t.Errorf("%s scheduled renewal %d with lead %v", k, scheduled[k], ev.Lead)
			case scheduled[k] == 1 && !usual(ev.Lead):
				spread++
			}
		}
		if spread < keys/2 {
			t.Errorf("only %d of %d first renewals drawn before the usual time: not spread", spread, keys)
		}

		got := h.Summary()
		want := Summary{
			Sessions: 2, Channels: 2, SimulatedSeconds: days * 86400,
			Fetches:  keys + len(renewed), // one per login, join and renewal
			Renewals: len(renewed),
			Events:   len(renewed) + (keys + len(renewed)) + 2 + 4, // renewed, scheduled, logged-in, joined
		}
		if got != want {
			t.Errorf("Summary\n got %+v\nwant %+v", got, want)
		}
		if n := h.Events(renewal.EventScheduled); n != keys+len(renewed) {
			t.Errorf("%d scheduled events, want %d", n, keys+len(renewed))
		}
		if h.Renewals() != got.Renewals || h.ServerRequests() != got.Fetches || h.MaxLoggedOut() != 0 {
			t.Errorf("Renewals %d, ServerRequests %d, MaxLoggedOut %v; summary %+v",
				h.Renewals(), h.ServerRequests(), h.MaxLoggedOut(), got)
		}

		// The labelled timeline holds every session's entries, in time order.
		tl := h.SessionTimeline()
		count := map[string]int{}
		for i, e := range tl {
			count[e.UserID]++
			if i > 0 && e.Time.Before(tl[i-1].Time) {
				t.Fatalf("timeline out of order at %d: %v after %v", i, e, tl[i-1])
			}
			if e.Kind == EntryWillExpire || e.Kind == EntryLinkState && e.Channel != "" {
				t.Errorf("unexpected entry in a healthy run: %v", e)
			}
		}
		for _, s := range h.Sessions() {
			if n := len(s.SDK.Timeline()); count[s.UserID] != n {
				t.Errorf("%s: %d labelled entries, its SDK recorded %d", s.UserID, count[s.UserID], n)
			}
		}
		if len(h.Timeline()) != len(tl) {
			t.Errorf("Timeline has %d entries, SessionTimeline %d", len(h.Timeline()), len(tl))
		}
		if s := tl[0].String(); !strings.HasPrefix(s, "bot-1  2026-01-05T09:00:00Z  link-state") {
			t.Errorf("first entry %q", s)
		}
	})
}

// TestHarnessHangingLoginAtStart: a login hook that never answers is timed
// out on simulated time during Start (the harness steps the clock to the
// hook's timeout instead of deadlocking), Start reports it, and
// HarnessSession.Start tries again.
func TestHarnessHangingLoginAtStart(t *testing.T) {
	within(t, harnessTestLimit, func() {
		h, err := NewHarness(HarnessConfig{Seed: 1, Sessions: 2, Channels: []string{"lobby"}})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close(context.Background())
		h.Session(0).SDK.HangNext(CallLogin, 1)
		err = h.Start(context.Background())
		if !errors.Is(err, renewal.ErrHookTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Start: %v, want a hook timeout", err)
		}
		if !strings.Contains(err.Error(), `"bot-1"`) || strings.Contains(err.Error(), `"bot-2"`) {
			t.Errorf("Start error should name bot-1 only: %v", err)
		}
		if got := h.Elapsed(); got != renewal.DefaultHookTimeout {
			t.Errorf("Start took %v of simulated time, want the hook timeout %v", got, renewal.DefaultHookTimeout)
		}
		if err := h.Session(1).Check(); err != nil {
			t.Errorf("the other session: %v", err)
		}
		if err := h.Session(0).Check(); !errors.Is(err, ErrUnhealthy) {
			t.Errorf("session 0 Check: %v, want ErrUnhealthy", err)
		}
		if err := h.Session(0).Start(context.Background()); err != nil {
			t.Fatalf("retry: %v", err)
		}
		if err := h.Check(); err != nil {
			t.Fatal(err)
		}
		if n := h.Events(renewal.EventHookTimeout); n != 1 {
			t.Errorf("%d hook-timeout events, want 1", n)
		}
		// A second Start of a healthy session changes nothing.
		before := h.ServerRequests()
		if err := h.Session(1).Start(context.Background()); err != nil || h.ServerRequests() != before {
			t.Errorf("Start of a running session: %v, %d → %d requests", err, before, h.ServerRequests())
		}
	})
}

// TestHarnessHangingRenewal: a renewal hook that hangs during Advance times
// out exactly HookTimeout after it was called; the retry renews the token
// long before its deadline.
func TestHarnessHangingRenewal(t *testing.T) {
	within(t, harnessTestLimit, func() {
		log := &eventLog{}
		// A Resolution must not blur the engine's timers: the renewal and
		// the hook's timeout stay exact.
		h := newHarness(t, HarnessConfig{Seed: 2, Channels: []string{"lobby"}, OnEvent: log.add,
			Resolution: time.Minute})
		s := h.Session(0)
		s.SDK.HangNext(CallRenew, 1)
		h.Advance(2 * time.Hour)
		if err := h.Check(); err != nil {
			t.Fatal(err)
		}
		if n := h.Events(renewal.EventHookTimeout); n != 1 {
			t.Fatalf("%d hook-timeout events, want 1", n)
		}
		var hung, renewed []Entry
		for _, e := range s.SDK.Timeline() {
			if e.Kind == EntryRenew && e.Channel == "" {
				if e.OK {
					renewed = append(renewed, e)
				} else {
					hung = append(hung, e)
				}
			}
		}
		if len(hung) != 1 || !strings.Contains(hung[0].Detail, "injected hang") {
			t.Fatalf("failed renewals %v, want one injected hang", hung)
		}
		if len(renewed) == 0 || !renewed[0].Time.After(hung[0].Time) {
			t.Fatalf("no renewal after the hang: %v", renewed)
		}
		// The hang began when the renewal was due: the first scheduled
		// renewal of the login key.
		sched := log.all(renewal.EventScheduled)
		var due time.Time
		for _, ev := range sched {
			if ev.Channel == "" {
				due = ev.Time.Add(ev.RetryIn)
				break
			}
		}
		if got := hung[0].Time.Sub(due); got != renewal.DefaultHookTimeout {
			t.Errorf("the hang ended %v after the renewal was due, want %v", got, renewal.DefaultHookTimeout)
		}
		if lead := log.all(renewal.EventRenewed)[0].Lead; lead < 11*time.Minute {
			t.Errorf("renewed only %v before the deadline", lead)
		}
	})
}

// TestHarnessSessions: with several sessions, a kick ends one session only,
// is reported, is not answered with an automatic relogin, and RenewNow
// brings the session back.
func TestHarnessSessions(t *testing.T) {
	within(t, harnessTestLimit, func() {
		h := newHarness(t, HarnessConfig{Seed: 6, Sessions: 5, Channels: []string{"lobby"}})
		for i, s := range h.Sessions() {
			if want := fmt.Sprintf("bot-%d", i+1); s.UserID != want || s.SDK.UserID() != want {
				t.Fatalf("session %d is %q/%q, want %q", i, s.UserID, s.SDK.UserID(), want)
			}
		}
		h.Advance(time.Hour)
		kicked := h.Session(2)
		if !kicked.SDK.Kick(signaling.ReasonSameUIDLogin) {
			t.Fatal("Kick refused")
		}
		h.Advance(3 * time.Hour)
		err := h.Check()
		if !errors.Is(err, ErrUnhealthy) || !strings.Contains(err.Error(), "bot-3") {
			t.Fatalf("Check = %v, want bot-3 unhealthy", err)
		}
		for _, s := range h.Sessions() {
			if s != kicked && s.Check() != nil {
				t.Errorf("%s: %v", s.UserID, s.Check())
			}
			if s != kicked && strings.Contains(err.Error(), s.UserID+" ") {
				t.Errorf("Check names %s: %v", s.UserID, err)
			}
		}
		if kicked.Events(renewal.EventKicked) != 1 || h.Events(renewal.EventKicked) != 1 || h.Events(renewal.EventRelogin) != 0 {
			t.Errorf("kicked %d (all %d), relogins %d", kicked.Events(renewal.EventKicked),
				h.Events(renewal.EventKicked), h.Events(renewal.EventRelogin))
		}
		kicked.RenewNow("")
		if err := h.Check(); err != nil {
			t.Fatalf("after RenewNow: %v", err)
		}
		if h.Elapsed() != 4*time.Hour {
			t.Errorf("RenewNow moved simulated time to %v", h.Elapsed())
		}
	})
}

// TestHarnessResolution: with a Resolution, the fakes' signals reach the
// client on its grid, the engine's own timers stay exact, and the run is
// repeatable.
func TestHarnessResolution(t *testing.T) {
	within(t, harnessTestLimit, func() {
		// Not a divisor of the warnings' times, which then fall off the grid.
		const res = 7 * time.Second
		run := func() (tl string, delivered []time.Time, evs []renewal.Event) {
			log := &eventLog{}
			h := newHarness(t, HarnessConfig{Seed: 7, TTL: 10 * time.Minute, Resolution: res, OnEvent: log.add})
			s := h.Session(0)
			// Record when each signal reaches the client.
			s.SDK.OnWillExpire(func(ch string) { delivered = append(delivered, h.Now()); s.willExpire(ch) })
			s.SDK.OnLinkState(func(ev signaling.LinkStateEvent) {
				if ev.Current == signaling.LinkFailed {
					delivered = append(delivered, h.Now())
				}
				s.linkState(ev)
			})
			// Renewals keep failing, so every token reaches its warning (the
			// engine logs in again just before the deadline).
			s.SDK.FailNext(CallRenew, 1000, signaling.CodeRenewTokenTimeout)
			h.Advance(35 * time.Minute)
			var b strings.Builder
			for _, e := range h.SessionTimeline() {
				fmt.Fprintln(&b, e)
			}
			return b.String(), delivered, log.evs
		}
		tl, delivered, evs := run()
		if len(delivered) < 3 {
			t.Fatalf("%d signals delivered, want the warnings of three tokens", len(delivered))
		}
		if !strings.Contains(tl, "will-expire") {
			t.Fatalf("no will-expire in the timeline:\n%s", tl)
		}
		for _, at := range delivered {
			if off := at.Sub(DefaultHarnessStart); off%res != 0 {
				t.Errorf("a signal reached the client at +%v, off the %v grid", off, res)
			}
		}
		offGrid := 0
		for _, ev := range evs {
			if ev.Kind == renewal.EventRenewFailed && ev.Time.Sub(DefaultHarnessStart)%res != 0 {
				offGrid++
			}
		}
		if offGrid == 0 {
			t.Error("every retry is on the grid; the engine's timers should stay exact")
		}
		if again, _, _ := run(); again != tl {
			t.Errorf("a second run differs:\n%s", firstDiff(tl, again))
		}
	})
}

// TestHarnessHeldSignals: a callback fired by the test's scripting between
// harness calls reaches the client only when the harness runs again, so a
// fault scripted on the next line always applies to the reaction.
func TestHarnessHeldSignals(t *testing.T) {
	within(t, harnessTestLimit, func() {
		log := &eventLog{}
		h := newHarness(t, HarnessConfig{Seed: 8, Channels: []string{"lobby"}, OnEvent: log.add})
		h.Advance(10 * time.Minute)
		s := h.Session(0)
		if !s.SDK.ExpireNow("") {
			t.Fatal("ExpireNow refused")
		}
		if n := h.held.pending(); n != 1 {
			t.Fatalf("%d callbacks held, want 1", n)
		}
		requests := h.ServerRequests()
		h.Server.RateLimitNext(1, 30*time.Second)
		if h.Events(renewal.EventRelogin) != 0 || h.ServerRequests() != requests {
			t.Fatal("the client reacted before the harness ran")
		}
		h.Advance(0)
		failed := log.all(renewal.EventFetchFailed)
		if len(failed) != 1 || !strings.Contains(failed[0].Err.Error(), "429") || failed[0].RetryIn != 30*time.Second {
			t.Fatalf("fetch failures %v, want one 429 with a 30 s retry", failed)
		}
		h.Advance(time.Minute)
		if err := h.Check(); err != nil {
			t.Fatal(err)
		}
		if h.Events(renewal.EventRelogin) != 1 {
			t.Errorf("%d relogins, want 1", h.Events(renewal.EventRelogin))
		}
	})
}

// TestHarnessSessionCalls: JoinStream and LeaveStream step simulated time
// when the token server is slow, and fail before Start and after Close.
func TestHarnessSessionCalls(t *testing.T) {
	within(t, harnessTestLimit, func() {
		h, err := NewHarness(HarnessConfig{Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		s := h.Session(0)
		if err := s.JoinStream(context.Background(), "late"); !errors.Is(err, ErrHarnessNotRunning) {
			t.Errorf("JoinStream before Start: %v", err)
		}
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.Server.SetLatency(2 * time.Second)
		if err := s.JoinStream(context.Background(), "late"); err != nil {
			t.Fatal(err)
		}
		if h.Elapsed() != 2*time.Second || len(s.SDK.Joined()) != 1 {
			t.Errorf("after JoinStream: elapsed %v, joined %v", h.Elapsed(), s.SDK.Joined())
		}
		if err := s.JoinStream(context.Background(), "late"); !errors.Is(err, renewal.ErrAlreadyJoined) {
			t.Errorf("second JoinStream: %v", err)
		}
		if err := s.LeaveStream(context.Background(), "late"); err != nil || len(s.SDK.Joined()) != 0 {
			t.Errorf("LeaveStream: %v, joined %v", err, s.SDK.Joined())
		}
		if err := h.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := h.Close(context.Background()); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := s.LeaveStream(context.Background(), "late"); !errors.Is(err, ErrHarnessNotRunning) {
			t.Errorf("LeaveStream after Close: %v", err)
		}
		if err := h.Start(context.Background()); err == nil {
			t.Error("second Start succeeded")
		}
	})
}
