package fetcher

import (
	"context"
	"sync"
	"time"
)

// flights runs one fetch per key at a time and shares its outcome, success
// or failure, with every caller that asks for the same key meanwhile.
//
// The shared fetch runs in its own goroutine on a context detached from the
// callers' (it keeps their values, not their cancellation) and bounded by a
// timeout. A caller whose context ends stops waiting at once; when the last
// waiter of a fetch has left, the fetch is cancelled and forgotten, so the
// next caller starts afresh. Different keys never wait on each other.
type flights struct {
	mu    sync.Mutex
	calls map[string]job

	// The deadline context last handed out and when it ends; see deadline.
	shared       context.Context
	sharedCancel context.CancelFunc // kept only to satisfy vet: it ends by its own timer
	sharedEnd    time.Time
}

// A job is the work of one flight, with the flight's bookkeeping embedded
// so that a fetch costs one allocation for both.
type job interface {
	flight() *flight
	// run does the work on the flight's context, whose values are those
	// of vals, and stores its outcome in the flight's tok and err.
	run(ctx, vals context.Context)
}

// flight is the bookkeeping of one shared fetch.
type flight struct {
	// done is closed once tok and err are set. It is made by the first
	// caller that has to wait, so a fetch that nobody waits for (the leader
	// running it on its own goroutine) makes none. Guarded by flights.mu
	// until closed.
	done    chan struct{}
	waiters int                // callers still waiting; guarded by flights.mu
	cancel  context.CancelFunc // ends a flight run on its own goroutine; nil for one run by its caller
	tok     Token              // the outcome, set by the job before done is closed
	err     error
}

// do returns the outcome of the flight for key. Unless one is already in
// flight, it starts the job newJob returns, with the values of ctx but not
// its cancellation, bounded by timeout (plus timerSlack); otherwise it
// waits for the running one. It returns ctx.Err() as soon as ctx ends.
// newJob is called at most once, before do returns.
func (g *flights) do(ctx context.Context, key string, timeout time.Duration, newJob func() job) (Token, error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = make(map[string]job)
	}
	j, joined := g.calls[key]
	if !joined {
		j = newJob()
		f := j.flight()
		vals := ctx
		if _, hasDeadline := ctx.Deadline(); hasDeadline || ctx.Done() != nil {
			vals = context.WithoutCancel(ctx)
		}
		fctx := g.deadline(timeout)
		g.calls[key] = j
		if ctx.Done() == nil {
			// A caller whose context can never end never leaves early, so
			// it may run the fetch itself and spare a goroutine and a
			// channel; callers that join it still wait on f.done and may
			// leave. Nobody ever needs to cancel the fetch but its
			// deadline, so it runs on the shared deadline itself.
			f.waiters++
			g.mu.Unlock()
			g.run(key, j, fctx, vals)
			return f.tok, f.err
		}
		fctx, f.cancel = context.WithCancel(fctx)
		go g.runAsync(key, j, fctx, vals)
	}
	f := j.flight()
	f.waiters++
	if f.done == nil {
		f.done = make(chan struct{})
	}
	done := f.done
	g.mu.Unlock()

	select {
	case <-done:
		return f.tok, f.err
	case <-ctx.Done():
		g.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			// Nobody wants the outcome any more: stop the round trip and let
			// the next caller start a fresh one.
			f.cancel() // set: a caller that can leave never runs the flight itself
			if g.calls[key] == j {
				delete(g.calls, key)
			}
		}
		g.mu.Unlock()
		return Token{}, ctx.Err()
	}
}

// runAsync is run on a goroutine of its own.
func (g *flights) runAsync(key string, j job, ctx, vals context.Context) {
	growStack(0)
	g.run(key, j, ctx, vals)
}

// run runs j and publishes its outcome to the waiters.
func (g *flights) run(key string, j job, ctx, vals context.Context) {
	f := j.flight()
	j.run(ctx, vals)
	g.mu.Lock()
	if g.calls[key] == j {
		delete(g.calls, key)
	}
	// Nobody joins a flight that has left the map (or was forgotten by its
	// last waiter), so done no longer changes.
	done := f.done
	g.mu.Unlock()
	if f.cancel != nil {
		f.cancel()
	}
	if done != nil {
		close(done)
	}
}

// deadline returns a context that ends timeout from now, plus at most
// timerSlack(timeout). Fetches that start within the slack of each other
// share it, and so share one timer: a context and timer of its own for
// every fetch cost about 0.7 µs and 10 allocations (a timer, a context, and
// net/http's per-request context then having to register with a fresh
// parent), half as much again as the rest of the fetcher's own work; see
// BENCHMARKS.md §5. It is called with g.mu held.
func (g *flights) deadline(timeout time.Duration) context.Context {
	earliest := time.Now().Add(timeout)
	slack := timerSlack(timeout)
	if g.shared != nil && !g.sharedEnd.Before(earliest) && g.sharedEnd.Sub(earliest) <= slack {
		return g.shared
	}
	g.sharedEnd = earliest.Add(slack)
	g.shared, g.sharedCancel = context.WithDeadline(context.Background(), g.sharedEnd)
	return g.shared
}

// timerSlack is how much later than its timeout a fetch may end: an eighth
// of the timeout, at most a second.
func timerSlack(timeout time.Duration) time.Duration {
	return min(timeout/8, time.Second)
}

// inFlight returns the number of keys with a fetch in flight.
func (g *flights) inFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// fetchStack is the stack a fetch goroutine grows to at once: a round trip
// through go-retryablehttp and net/http and the token's decoding (its
// inflate keeps its tables on the stack) take about 8 KiB of frames.
const fetchStack = 8 << 10

// growStack grows the calling goroutine's stack, which starts at 2 KiB, to
// hold fetchStack more bytes in one step, while it holds only a few frames.
// Left to itself the stack would double three times deep inside net/http
// and the token decoder, each time copying and adjusting every frame: that
// cost about 5 % of a loopback fetch's CPU. i is any small index; it only
// keeps the compiler from folding the read away.
//
//go:noinline
func growStack(i int) byte {
	var pad [fetchStack]byte
	return pad[i%fetchStack]
}
