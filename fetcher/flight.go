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
	calls map[string]*flight
}

type flight struct {
	done    chan struct{}
	tok     Token
	err     error
	waiters int // callers still waiting; guarded by flights.mu
	cancel  context.CancelFunc
}

// do returns the outcome of fn for key, starting fn (on a context detached
// from ctx and bounded by timeout) unless a call for key is already in
// flight, in which case it waits for that call's outcome. It returns
// ctx.Err() as soon as ctx ends.
func (g *flights) do(ctx context.Context, key string, timeout time.Duration,
	fn func(ctx context.Context) (Token, error)) (Token, error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = make(map[string]*flight)
	}
	f, joined := g.calls[key]
	if !joined {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		g.calls[key] = f
		run := func() {
			tok, err := fn(fctx)
			g.mu.Lock()
			f.tok, f.err = tok, err
			if g.calls[key] == f {
				delete(g.calls, key)
			}
			g.mu.Unlock()
			cancel()
			close(f.done)
		}
		if ctx.Done() == nil {
			// A caller whose context can never end never leaves early, so
			// it may run the fetch itself and spare a goroutine; callers
			// that join it still wait on f.done and may leave.
			f.waiters++
			g.mu.Unlock()
			run()
			return f.tok, f.err
		}
		go run()
	}
	f.waiters++
	g.mu.Unlock()

	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		g.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			// Nobody wants the outcome any more: stop the round trip and let
			// the next caller start a fresh one.
			f.cancel()
			if g.calls[key] == f {
				delete(g.calls, key)
			}
		}
		g.mu.Unlock()
		return Token{}, ctx.Err()
	}
}

// inFlight returns the number of keys with a fetch in flight.
func (g *flights) inFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}
