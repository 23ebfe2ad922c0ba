package renewal

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
)

// Scheduler wake-ups, counted on a mock clock. The scheduler goroutine arms
// one clock timer per wake (scheduler.go: loop), and nothing else in the
// engine calls Clock.Timer, so counting Timer calls counts wakes.

// countingClock counts Timer calls of the clock it wraps.
type countingClock struct {
	clock.Clock
	timers atomic.Int64
}

func (c *countingClock) Timer(d time.Duration) *clock.Timer {
	c.timers.Add(1)
	return c.Clock.Timer(d)
}

// waitIdle waits until the engine has nothing due and nothing in flight,
// and its scheduler has armed at least `armed` timers in total (so a wake
// caused by the last clock move has finished).
func waitIdle(tb testing.TB, e *Engine, c *countingClock, armed int64) Activity {
	tb.Helper()
	for i := 0; i < 50_000_000; i++ {
		a := e.Activity()
		if a.Due == 0 && a.InFlight == 0 && c.timers.Load() >= armed {
			return a
		}
		runtime.Gosched()
	}
	tb.Fatalf("engine never idle: %+v", e.Activity())
	return Activity{}
}

// BenchmarkIdleWakeups counts scheduler wake-ups during one simulated hour
// in which none of n keys falls due (all are due two to three hours out),
// with the default watchdog (1 min) and with it turned off. The
// goroutine-per-key design wakes for nothing while idle, and the lazy
// design has nothing to wake. Run it with -benchtime 1x.
func BenchmarkIdleWakeups(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		for _, wd := range []struct {
			name string
			d    time.Duration
		}{{"watchdog=1m", 0}, {"watchdog=off", -1}} {
			b.Run(fmt.Sprintf("%s/keys=%d", wd.name, n), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.ReportMetric(float64(idleWakeups(b, n, wd.d)), "wakeups/hour")
				}
			})
		}
	}
}

func idleWakeups(b *testing.B, n int, watchdog time.Duration) int64 {
	m := clock.NewMock()
	m.Set(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	c := &countingClock{Clock: m}
	e, _ := NewEngine(Config{Clock: c, WatchdogInterval: watchdog})
	defer e.Close(context.Background())
	base := m.Now().UnixNano()
	f, sdk := &fakeFetcher{}, newFakeSDK()
	var s *Session
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			var err error
			s, err = e.NewSession(SessionConfig{UserID: "u" + strconv.Itoa(i), Fetcher: f, SDK: sdk})
			if err != nil {
				b.Fatal(err)
			}
			s.state = sessionRunning
		}
		k := &key{sess: s, channel: "ch" + strconv.Itoa(i), hidx: -1, phase: PhaseFresh, raw: perfToken}
		k.deadline = base + int64(4*time.Hour)
		e.mu.Lock()
		s.streams[k.channel] = k
		e.schedule(k, base+int64(2*time.Hour)+int64(jitterUnit(1, "idle", "", uint64(i))*float64(time.Hour)), OpRenew)
		e.mu.Unlock()
	}
	// Started only now, the scheduler's first wake arms its timer for the
	// heap top (or the watchdog), and nothing else wakes it.
	if err := e.Start(); err != nil {
		b.Fatal(err)
	}
	waitIdle(b, e, c, 1)
	start, end := c.timers.Load(), m.Now().Add(time.Hour)
	for {
		a := waitIdle(b, e, c, c.timers.Load())
		if a.Next.IsZero() || a.Next.After(end) {
			break
		}
		armed := c.timers.Load()
		m.Set(a.Next)
		waitIdle(b, e, c, armed+1)
	}
	return c.timers.Load() - start
}

// BenchmarkBusyWakeups runs 100 login-only sessions with 1 h tokens for 6
// simulated hours and reports the scheduler's wake-ups per renewal
// (the goroutine-per-key design wakes exactly once per renewal). Run it
// with -benchtime 1x.
func BenchmarkBusyWakeups(b *testing.B) {
	const sessions, hours = 100, 6
	for i := 0; i < b.N; i++ {
		m := clock.NewMock()
		m.Set(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
		c := &countingClock{Clock: m}
		e, _ := NewEngine(Config{Clock: c, Workers: 1, WatchdogInterval: -1})
		if err := e.Start(); err != nil {
			b.Fatal(err)
		}
		var renewals atomic.Int64
		f := &fakeFetcher{life: time.Hour, wall: m.Now}
		for j := 0; j < sessions; j++ {
			s, err := e.NewSession(SessionConfig{UserID: "u" + strconv.Itoa(j), Fetcher: f, SDK: newFakeSDK(),
				OnEvent: func(ev Event) {
					if ev.Kind == EventRenewed {
						renewals.Add(1)
					}
				}})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		waitIdle(b, e, c, 0)
		start, end := c.timers.Load(), m.Now().Add(hours*time.Hour)
		for {
			a := waitIdle(b, e, c, 0)
			if a.Next.IsZero() || a.Next.After(end) {
				break
			}
			m.Set(a.Next)
		}
		wakes := c.timers.Load() - start
		e.Close(context.Background())
		if renewals.Load() == 0 {
			b.Fatal("no renewals")
		}
		b.ReportMetric(float64(wakes)/float64(renewals.Load()), "wakeups/renewal")
		b.ReportMetric(float64(renewals.Load()), "renewals")
	}
}

// BenchmarkSchedulerWake is the cost of one scheduler wake with nothing
// due, among 100k scheduled keys, on the real clock: a wake signal, the
// scheduler's goroutine waking, its tick (clock-jump check, heap peek) and
// re-arming its timer, until it sleeps again. It prices the wake-ups per
// renewal counted by BenchmarkBusyWakeups.
func BenchmarkSchedulerWake(b *testing.B) {
	c := &countingClock{Clock: clock.New()}
	e, _ := NewEngine(Config{Clock: c, WatchdogInterval: -1})
	benchKeys(b, e, 100_000)
	if err := e.Start(); err != nil {
		b.Fatal(err)
	}
	defer e.Close(context.Background())
	for c.timers.Load() < 1 {
		runtime.Gosched()
	}
	b.ReportAllocs()
	for b.Loop() {
		armed := c.timers.Load()
		e.Poke()
		for c.timers.Load() == armed {
			runtime.Gosched()
		}
	}
}
