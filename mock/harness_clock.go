package mock

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
)

// HarnessClock is the simulated clock of a [Harness]: a clock.Clock whose
// time moves only when the harness (or a test, with Set or Add) moves it.
//
// Reading the time costs nothing, and moving it costs nothing unless a
// timer is due. Timers are kept on an inner clock.Mock, which is moved only
// to fire them — clock.Mock pauses 1 ms of real time after every move and
// every timer it fires, so moving it at each step would cost 1 ms a step.
// The mock's time therefore lags behind; every timer is armed on it with
// the lag added, so it fires at the right simulated instant.
//
// The harness knows of every timer the library arms (fetch and hook
// timeouts, token-server latency) and moves the inner mock exactly to each.
// Timers armed on the clock by anything else fire when a later step, Set or
// Add passes them. Ticker and Tick are supported but cost a move of the
// inner mock each.
//
// HarnessClock is safe for concurrent use, but only one goroutine may move
// it, while the system is idle (as the harness does between steps).
type HarnessClock struct {
	mu     sync.Mutex
	now    time.Time
	timers *clock.Mock
}

var _ clock.Clock = (*HarnessClock)(nil)

func newHarnessClock(start time.Time) *HarnessClock {
	m := clock.NewMock()
	m.Set(start)
	return &HarnessClock{now: start, timers: m}
}

// Now returns the simulated time.
func (c *HarnessClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Since returns the simulated time elapsed since t.
func (c *HarnessClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Until returns the simulated time until t.
func (c *HarnessClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// Set moves the simulated time to t, forward or back, and fires every
// timer due by then, each at its own time, like clock.Mock.Set. It does not
// wake the harness's engine: call Harness.Engine.Poke after it, or move
// time with Harness.Advance instead.
func (c *HarnessClock) Set(t time.Time) { c.move(t, true) }

// Add moves the simulated time forward by d, like Set.
func (c *HarnessClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// move sets the time to t and, if fire, moves the timer mock there too.
func (c *HarnessClock) move(t time.Time, fire bool) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
	if fire {
		c.timers.Set(t)
	}
}

// lag returns how far the timer mock is behind the simulated time.
func (c *HarnessClock) lag() time.Duration { return c.Now().Sub(c.timers.Now()) }

// Timer returns a timer that fires after d of simulated time.
func (c *HarnessClock) Timer(d time.Duration) *clock.Timer { return c.timers.Timer(d + c.lag()) }

// AfterFunc calls f on its own goroutine after d of simulated time.
func (c *HarnessClock) AfterFunc(d time.Duration, f func()) *clock.Timer {
	return c.timers.AfterFunc(d+c.lag(), f)
}

// After returns a channel that receives the time after d of simulated time.
func (c *HarnessClock) After(d time.Duration) <-chan time.Time { return c.Timer(d).C }

// Sleep blocks for d of simulated time.
func (c *HarnessClock) Sleep(d time.Duration) { <-c.After(d) }

// Ticker returns a ticker with period d. The timer mock is first brought
// up to the simulated time (firing anything due), since a ticker's period
// cannot carry the lag.
func (c *HarnessClock) Ticker(d time.Duration) *clock.Ticker {
	if c.lag() != 0 {
		c.timers.Set(c.Now())
	}
	return c.timers.Ticker(d)
}

// Tick is Ticker(d).C.
func (c *HarnessClock) Tick(d time.Duration) <-chan time.Time { return c.Ticker(d).C }

// WithTimeout is context.WithTimeout on simulated time.
func (c *HarnessClock) WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return c.WithDeadline(parent, c.Now().Add(d))
}

// WithDeadline is context.WithDeadline on simulated time: the context ends
// with context.DeadlineExceeded when the clock reaches d.
func (c *HarnessClock) WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	dc := &deadlineCtx{Context: ctx, deadline: d}
	if pd, ok := parent.Deadline(); ok && pd.Before(d) {
		dc.deadline = pd
	}
	t := c.AfterFunc(c.Until(dc.deadline), func() { cancel(context.DeadlineExceeded) })
	return dc, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}

// deadlineCtx reports its deadline, and context.DeadlineExceeded from Err
// once the deadline passed.
type deadlineCtx struct {
	context.Context
	deadline time.Time
}

func (d *deadlineCtx) Deadline() (time.Time, bool) { return d.deadline, true }

func (d *deadlineCtx) Err() error {
	err := d.Context.Err()
	if err != nil && errors.Is(context.Cause(d.Context), context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
}
