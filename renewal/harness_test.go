package renewal

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
)

// TestMockClockHarness drives the engine the way mock.Harness will: on a
// clock.Mock, stepping to Activity().Next whenever the engine is idle, with
// no sleeping. It checks the harness contract: when InFlight and Due are
// zero, Next already holds the follow-up work.
func TestMockClockHarness(t *testing.T) {
	mock := clock.NewMock()
	mock.Set(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	f := &fakeFetcher{life: time.Hour, wall: mock.Now}
	sdk := newFakeSDK()
	rec := &recorder{}
	e, err := NewEngine(Config{Clock: mock, Workers: 1, Seed: 5, WatchdogInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	s, err := e.NewSession(SessionConfig{UserID: "harness", Fetcher: f, SDK: sdk, OnEvent: rec.on})
	if err != nil {
		t.Fatal(err)
	}
	idle := func() Activity {
		t.Helper()
		for i := 0; i < 10_000_000; i++ {
			a := e.Activity()
			sdk.mu.Lock()
			parked := sdk.parked
			sdk.mu.Unlock()
			if a.Due == 0 && (a.InFlight == 0 || a.Running == a.Calls && a.Calls == parked && a.InFlight == a.Running) {
				return a
			}
			runtime.Gosched()
		}
		t.Fatalf("engine never idle: %+v", e.Activity())
		return Activity{}
	}
	advance := func(until time.Time) {
		for {
			a := idle()
			if a.Next.IsZero() || a.Next.After(until) {
				mock.Set(until)
				idle()
				return
			}
			mock.Add(a.Next.Sub(mock.Now()))
		}
	}
	start := mock.Now()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.JoinStream(context.Background(), "room"); err != nil {
		t.Fatal(err)
	}
	advance(start.Add(24 * time.Hour))
	// 24 h of 1 h tokens renewed 46.8–48 min apart: 30 per key, perhaps one
	// more for the first renewal, drawn over the first period.
	renewed := rec.all(EventRenewed)
	if n := len(renewed); n < 60 || n > 62 {
		t.Fatalf("%d renewals in 24 h, want about 60", n)
	}
	for _, ev := range renewed {
		if ev.Lead < 12*time.Minute {
			t.Fatalf("renewed with lead %v", ev.Lead)
		}
	}
	if rec.count(EventExpired) != 0 {
		t.Fatal("expired on the mock clock")
	}
	// A hanging hook is stepped through by its timeout deadline.
	sdk.mu.Lock()
	sdk.hang["renew"] = 1
	sdk.mu.Unlock()
	s.RenewNow("")
	advance(mock.Now().Add(5 * time.Minute))
	if rec.count(EventHookTimeout) != 1 || rec.count(EventRenewed) != len(renewed)+1 {
		t.Fatalf("hook-timeout %d renewed %d", rec.count(EventHookTimeout), rec.count(EventRenewed))
	}
}
