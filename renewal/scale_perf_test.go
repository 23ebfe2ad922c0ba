package renewal

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
)

// Side-by-side scale measurements for BENCHMARKS.md (bench/run.sh runs
// them with -benchtime 1x for the memory figures). The engine is measured
// against the two designs a Go programmer would otherwise pick for many
// tokens:
//
//   - timer-goroutine: one goroutine and one time.Timer per key, the
//     goroutine blocked on the timer's channel;
//   - oauth2-reuse: one golang.org/x/oauth2 ReuseTokenSource per key over a
//     small TokenSource that calls a fetcher. It is lazy: no timer and no
//     goroutine; the refresh runs inside the caller's Token call once the
//     token is within ten seconds of expiry.
//
// Every design holds the same per-key data: a channel name of its own, the
// session's user ID (one per ten keys), a deadline and the token. The token
// string is one shared value in every design, so token bytes (the same in
// all three) are left out of the per-key figures.

// perfToken is the token every key of every design holds.
var perfToken = "007" + strings.Repeat("x", 200)

// lazySource is the per-key oauth2.TokenSource a user of x/oauth2 writes
// around a fetcher: it knows its request and fetches on demand.
type lazySource struct {
	f       fetcher.Fetcher
	user    string
	channel string
}

func (s *lazySource) Token() (*oauth2.Token, error) {
	req := fetcher.Request{Kind: fetcher.KindRTM, UserID: s.user}
	if s.channel != "" {
		req = fetcher.Request{Kind: fetcher.KindRTC, Channel: s.channel, Account: s.user}
	}
	tok, err := s.f.Fetch(context.Background(), req)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: tok.Raw, Expiry: tok.ExpiresAt}, nil
}

// timerKey is a key of the goroutine-per-key design.
type timerKey struct {
	user, channel, token string
	deadline             int64
	timer                *time.Timer
}

// startTimerKeys starts n keys of the goroutine-per-key design, each timer
// due at due(i), and waits until every goroutine is blocked on its timer.
// stop ends them all and waits for them.
func startTimerKeys(n int, due func(i int) time.Duration) (keys []*timerKey, stop func()) {
	g0 := runtime.NumGoroutine()
	done := make(chan struct{})
	keys = make([]*timerKey, n)
	user := ""
	for i := range keys {
		if i%10 == 0 {
			user = "u" + strconv.Itoa(i)
		}
		k := &timerKey{user: user, channel: "ch" + strconv.Itoa(i), token: perfToken,
			deadline: int64(i), timer: time.NewTimer(due(i))}
		keys[i] = k
		go func() {
			select {
			case <-k.timer.C:
			case <-done:
				k.timer.Stop()
			}
		}()
	}
	for runtime.NumGoroutine()-g0 < n {
		runtime.Gosched()
	}
	return keys, func() {
		close(done)
		for runtime.NumGoroutine() > g0 {
			runtime.Gosched()
		}
	}
}

// BenchmarkScaleMemory reports memory per key (heap and stacks in use,
// after GC) and the goroutines each design adds, at 100k and 1M keys.
// Run it with -benchtime 1x.
func BenchmarkScaleMemory(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		measure := func(b *testing.B, build func() (keep any, stop func())) {
			for i := 0; i < b.N; i++ {
				g0 := runtime.NumGoroutine()
				before := heapInUse()
				keep, stop := build()
				after := heapInUse()
				b.ReportMetric(float64(after-before)/float64(n), "B/key")
				b.ReportMetric(float64(runtime.NumGoroutine()-g0), "goroutines")
				runtime.KeepAlive(keep)
				stop()
			}
		}
		b.Run(fmt.Sprintf("engine/keys=%d", n), func(b *testing.B) {
			measure(b, func() (any, func()) {
				e, _ := NewEngine(Config{})
				if err := e.Start(); err != nil {
					b.Fatal(err)
				}
				keys := benchKeys(b, e, n)
				for _, k := range keys {
					k.raw = perfToken
				}
				return keys, func() { e.Close(context.Background()) }
			})
		})
		b.Run(fmt.Sprintf("timer-goroutine/keys=%d", n), func(b *testing.B) {
			measure(b, func() (any, func()) {
				return startTimerKeys(n, func(i int) time.Duration { return time.Hour + time.Duration(i) })
			})
		})
		b.Run(fmt.Sprintf("oauth2-reuse/keys=%d", n), func(b *testing.B) {
			measure(b, func() (any, func()) {
				srcs := make([]oauth2.TokenSource, n)
				exp := time.Now().Add(time.Hour)
				user := ""
				for i := range srcs {
					if i%10 == 0 {
						user = "u" + strconv.Itoa(i)
					}
					srcs[i] = oauth2.ReuseTokenSource(&oauth2.Token{AccessToken: perfToken, Expiry: exp},
						&lazySource{user: user, channel: "ch" + strconv.Itoa(i)})
				}
				return srcs, func() {}
			})
		})
	}
}

// perfDue spreads due times like renewals of 1 h tokens: 48 min ahead,
// minus up to 72 s of jitter.
func perfDue(i int) time.Duration {
	return 48*time.Minute - time.Duration(jitterUnit(1, "perf", "", uint64(i))*float64(72*time.Second))
}

// BenchmarkScaleReschedule is the cost of moving one key's renewal time
// (what every renewal does) among n scheduled keys: the engine's heap fix
// under its lock, against time.Timer.Reset on a timer whose goroutine is
// blocked on it (so the timer is in the runtime's timer heap). The lazy
// design has no schedule: its cost is on the caller's hot path (see
// BenchmarkLazyHotPath).
func BenchmarkScaleReschedule(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("engine/keys=%d", n), func(b *testing.B) {
			e, _ := NewEngine(Config{})
			keys := benchKeys(b, e, n)
			base := time.Now().UnixNano()
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				e.mu.Lock()
				e.schedule(keys[(i*7919)%n], base+int64(perfDue(i)), OpRenew)
				e.mu.Unlock()
				i++
			}
		})
		b.Run(fmt.Sprintf("timer-goroutine/keys=%d", n), func(b *testing.B) {
			keys, stop := startTimerKeys(n, func(i int) time.Duration { return perfDue(i) })
			defer stop()
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				keys[(i*7919)%n].timer.Reset(perfDue(i))
				i++
			}
		})
	}
}

// BenchmarkScaleSchedule is the cost of taking one key out of the schedule
// and putting it back with a new due time (a stream channel left and joined
// again) among n scheduled keys: the engine's heap remove + push under its
// lock; for the goroutine-per-key design, stopping the key's goroutine and
// timer and starting a new pair; for the lazy design, a new
// ReuseTokenSource (it schedules nothing).
func BenchmarkScaleSchedule(b *testing.B) {
	const n = 100_000
	b.Run(fmt.Sprintf("engine/keys=%d", n), func(b *testing.B) {
		e, _ := NewEngine(Config{})
		keys := benchKeys(b, e, n)
		base := time.Now().UnixNano()
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			k := keys[(i*7919)%n]
			e.mu.Lock()
			e.unschedule(k)
			e.schedule(k, base+int64(perfDue(i)), OpRenew)
			e.mu.Unlock()
			i++
		}
	})
	b.Run(fmt.Sprintf("timer-goroutine/keys=%d", n), func(b *testing.B) {
		type key struct {
			timer *time.Timer
			stop  chan struct{}
			done  chan struct{}
		}
		start := func(d time.Duration) *key {
			k := &key{timer: time.NewTimer(d), stop: make(chan struct{}), done: make(chan struct{})}
			go func() {
				defer close(k.done)
				select {
				case <-k.timer.C:
				case <-k.stop:
					k.timer.Stop()
				}
			}()
			return k
		}
		keys := make([]*key, n)
		for i := range keys {
			keys[i] = start(perfDue(i))
		}
		defer func() {
			for _, k := range keys {
				close(k.stop)
				<-k.done
			}
		}()
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			j := (i * 7919) % n
			close(keys[j].stop)
			<-keys[j].done
			keys[j] = start(perfDue(i))
			i++
		}
	})
	b.Run(fmt.Sprintf("oauth2-reuse/keys=%d", n), func(b *testing.B) {
		srcs := make([]oauth2.TokenSource, n)
		exp := time.Now().Add(time.Hour)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			j := (i * 7919) % n
			srcs[j] = oauth2.ReuseTokenSource(&oauth2.Token{AccessToken: perfToken, Expiry: exp},
				&lazySource{user: "u", channel: "ch"})
			i++
		}
	})
}
