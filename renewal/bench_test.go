package renewal

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
)

// Benchmarks of the scheduler, side by side with the naive design (one
// goroutine and one time.Timer per key).
//
//	go test -run '^$' -bench . -benchtime 1x ./renewal        (memory)
//	go test -run '^$' -bench 'Schedule' ./renewal             (cost per op)

// benchKeys registers n stream keys (10 per session) on e and schedules
// each one far in the future, as after a successful join.
func benchKeys(tb testing.TB, e *Engine, n int) []*key {
	tb.Helper()
	keys := make([]*key, 0, n)
	now := time.Now().UnixNano()
	var s *Session
	f, sdk := &fakeFetcher{}, newFakeSDK()
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			var err error
			s, err = e.NewSession(SessionConfig{UserID: "u" + strconv.Itoa(i), Fetcher: f, SDK: sdk})
			if err != nil {
				tb.Fatal(err)
			}
			s.state = sessionRunning
		}
		k := &key{sess: s, channel: "ch" + strconv.Itoa(i), hidx: -1, phase: PhaseFresh}
		k.deadline = now + int64(time.Hour)
		e.mu.Lock()
		s.streams[k.channel] = k
		e.schedule(k, now+int64(48*time.Minute)+int64(i), OpRenew)
		e.mu.Unlock()
		keys = append(keys, k)
	}
	return keys
}

func BenchmarkReschedule(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			e, _ := NewEngine(Config{})
			keys := benchKeys(b, e, n)
			base := time.Now().UnixNano()
			b.ReportAllocs()
			b.ResetTimer()
			e.mu.Lock()
			for i := 0; i < b.N; i++ {
				k := keys[(i*7919)%n]
				e.schedule(k, base+int64(jitterUnit(1, "u", "", uint64(i))*float64(time.Hour)), OpRenew)
			}
			e.mu.Unlock()
		})
	}
}

func BenchmarkScheduleUnschedule(b *testing.B) {
	e, _ := NewEngine(Config{})
	keys := benchKeys(b, e, 100_000)
	base := time.Now().UnixNano()
	b.ReportAllocs()
	b.ResetTimer()
	e.mu.Lock()
	for i := 0; i < b.N; i++ {
		k := keys[(i*7919)%len(keys)]
		e.unschedule(k)
		e.schedule(k, base+int64(i), OpRenew)
	}
	e.mu.Unlock()
}

// BenchmarkNaiveReschedule is the naive design's reschedule: Reset on the
// key's own timer.
func BenchmarkNaiveReschedule(b *testing.B) {
	timers := make([]*time.Timer, 100_000)
	for i := range timers {
		timers[i] = time.NewTimer(time.Hour + time.Duration(i))
	}
	defer func() {
		for _, t := range timers {
			t.Stop()
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timers[(i*7919)%len(timers)].Reset(time.Hour + time.Duration(i))
	}
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// BenchmarkMemoryPerKey reports the engine's memory per key (keys,
// sessions, heap slots, map entries; token strings excluded) and its
// goroutine count, next to the naive design at the same key count.
func BenchmarkMemoryPerKey(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("engine/keys=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				g0 := runtime.NumGoroutine()
				before := heapInUse()
				e, _ := NewEngine(Config{})
				if err := e.Start(); err != nil {
					b.Fatal(err)
				}
				keys := benchKeys(b, e, n)
				after := heapInUse()
				b.ReportMetric(float64(after-before)/float64(n), "B/key")
				b.ReportMetric(float64(runtime.NumGoroutine()-g0), "goroutines")
				runtime.KeepAlive(keys)
				e.Close(context.Background())
			}
		})
		b.Run(fmt.Sprintf("naive/keys=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				g0 := runtime.NumGoroutine()
				before := heapInUse()
				stop := make(chan struct{})
				type naiveKey struct {
					channel  string
					deadline int64
					timer    *time.Timer
				}
				keys := make([]*naiveKey, n)
				for j := range keys {
					k := &naiveKey{channel: "ch" + strconv.Itoa(j), deadline: int64(j), timer: time.NewTimer(time.Hour + time.Duration(j))}
					keys[j] = k
					go func() {
						select {
						case <-k.timer.C:
						case <-stop:
							k.timer.Stop()
						}
					}()
				}
				for runtime.NumGoroutine()-g0 < n {
					runtime.Gosched()
				}
				after := heapInUse()
				b.ReportMetric(float64(after-before)/float64(n), "B/key")
				b.ReportMetric(float64(runtime.NumGoroutine()-g0), "goroutines")
				close(stop)
				for runtime.NumGoroutine() > g0 {
					runtime.Gosched()
				}
				runtime.KeepAlive(keys)
			}
		})
	}
}

// BenchmarkRenewCycle measures one full renewal through the engine with an
// instant fetcher and SDK: signal → scheduler → worker → fetch → RenewToken
// → install → reschedule → event.
func BenchmarkRenewCycle(b *testing.B) {
	runRenewCycles(b, Config{Workers: 1}, "bench", &fakeFetcher{life: time.Hour})
}

// runRenewCycles starts an engine with cfg and one session of user fetching
// from f, then renews its login token once per benchmark iteration, each a
// full cycle through the engine (signal → scheduler → worker → fetch →
// RenewToken → install → reschedule → event).
func runRenewCycles(b *testing.B, cfg Config, user string, f fetcher.Fetcher) {
	b.Helper()
	renewed := make(chan struct{}, 1)
	e, err := NewEngine(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Start(); err != nil {
		b.Fatal(err)
	}
	defer e.Close(context.Background())
	s, err := e.NewSession(SessionConfig{UserID: user, Fetcher: f, SDK: newFakeSDK(),
		OnEvent: func(ev Event) {
			if ev.Kind == EventRenewed {
				renewed <- struct{}{}
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.RenewNow("")
		<-renewed
	}
}
