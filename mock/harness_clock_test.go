package mock

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestHarnessClockLag: time moved without firing leaves the timer mock
// behind; timers armed afterwards still fire at the right simulated time.
func TestHarnessClockLag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := DefaultHarnessStart
		c := newHarnessClock(start)
		c.move(start.Add(time.Hour), false) // as a harness step with nothing armed
		if got := c.Now(); !got.Equal(start.Add(time.Hour)) {
			t.Fatalf("Now = %v", got)
		}
		if c.lag() != time.Hour {
			t.Fatalf("lag %v, want 1h", c.lag())
		}
		var fired atomic.Int32
		c.AfterFunc(10*time.Second, func() { fired.Add(1) })
		timer := c.Timer(20 * time.Second)

		c.Set(start.Add(time.Hour + 10*time.Second - time.Nanosecond))
		synctest.Wait()
		if fired.Load() != 0 {
			t.Fatal("AfterFunc fired 1 ns early")
		}
		c.Add(time.Nanosecond)
		synctest.Wait()
		if fired.Load() != 1 {
			t.Fatal("AfterFunc did not fire at its time")
		}
		select {
		case <-timer.C:
			t.Fatal("Timer fired 10 s early")
		default:
		}
		c.Add(10 * time.Second)
		select {
		case at := <-timer.C:
			if !at.Equal(start.Add(time.Hour + 20*time.Second)) {
				t.Errorf("Timer fired at %v", at)
			}
		default:
			t.Fatal("Timer did not fire")
		}
		if c.Since(start) != time.Hour+20*time.Second || c.Until(start) != -(time.Hour+20*time.Second) {
			t.Errorf("Since %v Until %v", c.Since(start), c.Until(start))
		}
	})
}

func TestHarnessClockSleepAndTicker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := DefaultHarnessStart
		c := newHarnessClock(start)
		c.move(start.Add(time.Minute), false)
		woke := make(chan time.Time, 1)
		go func() { c.Sleep(5 * time.Second); woke <- c.Now() }()
		synctest.Wait()
		c.Add(5 * time.Second)
		if at := <-woke; !at.Equal(start.Add(time.Minute + 5*time.Second)) {
			t.Errorf("Sleep woke at %v", at)
		}
		c.move(start.Add(time.Hour), false)
		tk := c.Ticker(time.Second)
		defer tk.Stop()
		c.Add(time.Second)
		select {
		case at := <-tk.C:
			if !at.Equal(start.Add(time.Hour + time.Second)) {
				t.Errorf("tick at %v", at)
			}
		default:
			t.Fatal("no tick")
		}
		if c.Tick(time.Minute) == nil {
			t.Error("Tick returned nil")
		}
	})
}

func TestHarnessClockContexts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := DefaultHarnessStart
		c := newHarnessClock(start)
		c.move(start.Add(time.Hour), false)
		ctx, cancel := c.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if d, ok := ctx.Deadline(); !ok || !d.Equal(start.Add(time.Hour+time.Minute)) {
			t.Fatalf("Deadline %v %v", d, ok)
		}
		c.Add(time.Minute - time.Nanosecond)
		synctest.Wait()
		if ctx.Err() != nil {
			t.Fatal("ended early")
		}
		c.Add(time.Nanosecond)
		<-ctx.Done()
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Errorf("Err = %v, want DeadlineExceeded", ctx.Err())
		}

		ctx2, cancel2 := c.WithDeadline(context.Background(), c.Now().Add(time.Hour))
		cancel2()
		if !errors.Is(ctx2.Err(), context.Canceled) {
			t.Errorf("cancelled context: Err = %v", ctx2.Err())
		}
		// A parent's earlier deadline wins.
		parent, cancelParent := c.WithTimeout(context.Background(), time.Second)
		defer cancelParent()
		child, cancelChild := c.WithTimeout(parent, time.Hour)
		defer cancelChild()
		if d, _ := child.Deadline(); !d.Equal(c.Now().Add(time.Second)) {
			t.Errorf("child deadline %v", d)
		}
	})
}
