package renewal

import (
	"context"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
)

// withClockTimeout is context.WithTimeout on an injected clock.
//
// clock.Mock's own WithTimeout reads the context's error without its lock
// (a data race the race detector reports) and starts a goroutine per
// context; this one guards its state with a mutex, propagates the parent's
// cancellation with context.AfterFunc and arms a single clock timer, so it is
// race-free and costs no goroutine while it waits.
func withClockTimeout(parent context.Context, clk clock.Clock, d time.Duration) (context.Context, context.CancelFunc) {
	c := &clockCtx{Context: parent, deadline: clk.Now().Add(d), done: make(chan struct{})}
	if pd, ok := parent.Deadline(); ok && pd.Before(c.deadline) {
		c.deadline = pd
	}
	if d <= 0 {
		c.cancel(context.DeadlineExceeded)
		return c, func() {}
	}
	// Err must be Canceled or DeadlineExceeded (the context contract), not
	// the parent's cause, which may be any error.
	stop := context.AfterFunc(parent, func() { c.cancel(parent.Err()) })
	t := clk.AfterFunc(d, func() { c.cancel(context.DeadlineExceeded) })
	c.mu.Lock()
	c.release = func() { stop(); t.Stop() }
	if c.err != nil { // cancelled before release was set
		c.release()
	}
	c.mu.Unlock()
	return c, func() { c.cancel(context.Canceled) }
}

type clockCtx struct {
	context.Context // the parent, for Value
	deadline        time.Time
	done            chan struct{}

	mu      sync.Mutex
	err     error
	release func()
}

func (c *clockCtx) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *clockCtx) Done() <-chan struct{}       { return c.done }

func (c *clockCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *clockCtx) cancel(err error) {
	if err == nil {
		err = context.Canceled
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.done)
	release := c.release
	c.mu.Unlock()
	if release != nil {
		release()
	}
}
