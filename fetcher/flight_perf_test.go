package fetcher

import (
	"context"
	"testing"
)

// BenchmarkFetchDeadline is what a fetch's deadline costs, together with
// the child context net/http's Transport derives from it for each request:
// a context.WithTimeout per fetch (what the fetcher did before) against the
// shared deadline that flights.deadline hands out.
//
//	go test -run '^$' -bench FetchDeadline -benchmem ./fetcher/
func BenchmarkFetchDeadline(b *testing.B) {
	b.Run("own-timeout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
			transportChild(ctx)
			cancel()
		}
	})
	b.Run("shared-deadline", func(b *testing.B) {
		var g flights
		b.ReportAllocs()
		for b.Loop() {
			g.mu.Lock()
			ctx := g.deadline(DefaultTimeout)
			g.mu.Unlock()
			transportChild(ctx)
		}
	})
}

// transportChild does with ctx what net/http's Transport does for one
// request: derive a cancelable child, make its Done channel (its select
// waits on it) and cancel it when the response has been read.
func transportChild(ctx context.Context) {
	child, cancel := context.WithCancelCause(ctx)
	_ = child.Done()
	cancel(nil)
}
