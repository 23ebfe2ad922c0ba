package mock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tokenkeeper/tokenkeeper/renewal"
)

// This file holds the harness's driving: starting sessions, stepping
// simulated time, closing.

// Start starts the engine, logs every session in and joins its stream
// channels, then waits until the system is idle. Simulated time does not
// move unless a token-server latency or a hanging hook needs it to.
//
// From Start on, SDK callbacks that a test's scripting fires between
// harness calls (Signaling.ExpireNow, Kick, Disconnect, Reconnect) are held
// and delivered when the harness next runs (Advance, AdvanceTo, a session's
// JoinStream, LeaveStream or RenewNow, Close), at the same simulated
// instant, so the engine's reaction never races the test's next line.
//
// A session whose login or join fails (a hanging hook, a token server that
// is down) does not stop the others: Start returns every failure joined,
// each naming its user, and [HarnessSession.Start] tries that session
// again. ctx bounds each call the sessions' clients make.
func (h *Harness) Start(ctx context.Context) error {
	if h.started {
		return errors.New("mock: harness already started")
	}
	h.started = true
	defer h.held.pause()
	if err := h.Engine.Start(); err != nil {
		return fmt.Errorf("mock: harness: %w", err)
	}
	var errs []error
	for _, s := range h.sessions {
		errs = append(errs, s.start(ctx))
	}
	h.settle()
	return errors.Join(errs...)
}

// Start logs the session in if it is not, and joins every configured
// stream channel it has not joined, stepping simulated time if a call needs
// it: the way to retry a session whose [Harness.Start] failed.
func (s *HarnessSession) Start(ctx context.Context) error {
	return s.h.call(ctx, s.start)
}

func (s *HarnessSession) start(ctx context.Context) error {
	h := s.h
	if err := h.drive(ctx, s.Client.Start); err != nil && !errors.Is(err, renewal.ErrAlreadyStarted) {
		return fmt.Errorf("mock: harness: start %q: %w", s.UserID, err)
	}
	var tracked []string
	for _, k := range s.Client.State() {
		tracked = append(tracked, k.Channel)
	}
	for _, ch := range h.cfg.Channels {
		if slices.Contains(tracked, ch) {
			continue
		}
		join := func(ctx context.Context) error { return s.Client.JoinStream(ctx, ch) }
		if err := h.drive(ctx, join); err != nil {
			return fmt.Errorf("mock: harness: %q join %q: %w", s.UserID, ch, err)
		}
	}
	return nil
}

// drive runs a blocking client call while stepping simulated time, so a
// call that waits on the mock clock (a slow token server, a hanging hook)
// completes instead of deadlocking the harness.
func (h *Harness) drive(ctx context.Context, call func(context.Context) error) error {
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	var w backoffWait
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		// Time moves only while the engine has work parked on the clock:
		// before the call has handed its operation to the engine, stepping
		// would let simulated time pass under a call that has not started.
		a := h.Engine.Activity()
		if a.Due != 0 || a.InFlight == 0 || !h.parked(a) {
			w.pause()
			continue
		}
		if s := h.sched.popDue(h.Clock.Now()); s != nil {
			h.tick(s)
			continue
		}
		next, ok := h.nextDue(0)
		if !ok {
			w.pause()
			continue
		}
		w.reset()
		h.step(next)
	}
}

// Advance moves simulated time forward by d, stepping through every due
// time and letting the system settle at each. It returns when the clock
// shows the start time plus d and the system is idle.
func (h *Harness) Advance(d time.Duration) {
	h.AdvanceTo(h.Clock.Now().Add(d))
}

// AdvanceTo is Advance to an absolute simulated time. A time in the past
// only lets the system settle.
func (h *Harness) AdvanceTo(target time.Time) {
	h.resume()
	defer h.held.pause()
	h.sched.markAll()
	for {
		h.settle()
		next, ok := h.nextDue(h.cfg.Resolution)
		if !ok || next.After(target) {
			break
		}
		h.step(next)
	}
	if target.After(h.Clock.Now()) {
		h.step(target)
	}
	h.settle()
}

// step moves the clock to t (never backwards) and wakes the engine. The
// clock's timers are fired only when a call is parked on one (a hook's
// timeout, a token-server latency): no other timer of the system is armed
// while it is idle.
func (h *Harness) step(t time.Time) {
	if !t.After(h.Clock.Now()) {
		return
	}
	armed := h.Engine.Activity().Calls > 0 || h.Server.Blocked() > 0
	h.Clock.move(t, armed)
	h.Engine.Poke()
}

func roundUp(t, origin time.Time, r time.Duration) time.Time {
	off := t.Sub(origin)
	if rem := off % r; rem != 0 {
		off += r - rem
	}
	return origin.Add(off)
}

// Close closes every client and the engine, waiting for in-flight work.
// Simulated time is stepped if closing needs it (a hook hanging until its
// timeout).
func (h *Harness) Close(ctx context.Context) error {
	if h.closed {
		return nil
	}
	h.closed = true
	h.resume()
	var errs []error
	for _, s := range h.sessions {
		errs = append(errs, h.drive(ctx, s.Client.Close))
	}
	errs = append(errs, h.drive(ctx, h.Engine.Close))
	return errors.Join(errs...)
}
