package mock

import (
	"context"
	"errors"
	"sync"

	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// This file holds the path of SDK callbacks from the fakes to the clients,
// and the session-level calls a test makes between Advance calls.
//
// Between two harness calls (Start, Advance, AdvanceTo, JoinStream, …) the
// system is idle and only the test's goroutine acts. A scripted action that
// fires a callback at once — Signaling.ExpireNow, Kick, Disconnect,
// Reconnect — would make the engine react while the test goes on scripting,
// so whether the reaction sees a fault scripted on the next line would
// depend on goroutine scheduling. The harness therefore holds such
// callbacks and delivers them, in order, when it next runs: at the same
// simulated instant, before anything else happens, and one at a time — the
// engine finishes reacting to one before it is handed the next, as if they
// had come a moment apart. The signals a fake fires in one Tick (several
// due in one step) are held and delivered the same way.

// ErrHarnessNotRunning is returned by session calls made before
// [Harness.Start] or after [Harness.Close].
var ErrHarnessNotRunning = errors.New("mock: harness not running (before Start or after Close)")

// heldSignals queues callbacks fired while the harness is paused.
type heldSignals struct {
	mu     sync.Mutex
	paused bool
	queue  []func()
}

// deliver runs f now, or queues it while the harness is paused.
func (q *heldSignals) deliver(f func()) {
	q.mu.Lock()
	if q.paused {
		q.queue = append(q.queue, f)
		q.mu.Unlock()
		return
	}
	q.mu.Unlock()
	f()
}

// pause starts holding callbacks.
func (q *heldSignals) pause() {
	q.mu.Lock()
	q.paused = true
	q.mu.Unlock()
}

// resume stops holding and delivers the held callbacks in order, calling
// between after each one. A callback that fires another one (it never
// does: clients only enqueue) would be delivered at once.
func (q *heldSignals) resume(between func()) {
	q.mu.Lock()
	fs := q.queue
	q.queue, q.paused = nil, false
	q.mu.Unlock()
	for _, f := range fs {
		f()
		between()
	}
}

// pending returns how many callbacks are held.
func (q *heldSignals) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// resume delivers the held callbacks, letting the engine settle after each.
func (h *Harness) resume() { h.held.resume(h.waitEngineIdle) }

// willExpire is the fake's will-expire callback.
func (s *HarnessSession) willExpire(channel string) {
	s.h.held.deliver(func() { s.Client.WillExpire(channel) })
}

// linkState is the fake's link-state callback. The fake hands over a copy,
// so holding it is safe.
func (s *HarnessSession) linkState(ev signaling.LinkStateEvent) {
	s.h.held.deliver(func() { s.Client.LinkState(ev) })
}

// JoinStream makes the session join channel (fetch an RTC token, join,
// keep it renewed), stepping simulated time if the call needs it (a slow
// token server, a hanging hook), and lets the system settle. Call it
// instead of s.Client.JoinStream, which would block forever on a call
// waiting for the mock clock.
func (s *HarnessSession) JoinStream(ctx context.Context, channel string) error {
	return s.h.call(ctx, func(ctx context.Context) error {
		return s.h.drive(ctx, func(ctx context.Context) error { return s.Client.JoinStream(ctx, channel) })
	})
}

// LeaveStream makes the session leave channel, like JoinStream.
func (s *HarnessSession) LeaveStream(ctx context.Context, channel string) error {
	return s.h.call(ctx, func(ctx context.Context) error {
		return s.h.drive(ctx, func(ctx context.Context) error { return s.Client.LeaveStream(ctx, channel) })
	})
}

// RenewNow asks the session's client for an immediate renewal of channel's
// token ("" for the login token) — after a kick, the way to log in again —
// and lets the system settle, without moving simulated time.
func (s *HarnessSession) RenewNow(channel string) {
	s.h.resume()
	s.Client.RenewNow(channel)
	s.h.settle()
	s.h.held.pause()
}

// call runs f, which drives client calls, between Advance calls: held
// callbacks first, then f on the harness's goroutine, then settling.
func (h *Harness) call(ctx context.Context, f func(context.Context) error) error {
	if !h.started || h.closed {
		return ErrHarnessNotRunning
	}
	h.resume()
	defer h.held.pause()
	h.sched.markAll()
	err := f(ctx)
	h.settle()
	return err
}
