package renewal

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
)

func TestClockTimeoutFiresOnClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := withClockTimeout(context.Background(), clock.New(), 10*time.Second)
		defer cancel()
		if dl, ok := ctx.Deadline(); !ok || !dl.Equal(time.Now().Add(10*time.Second)) {
			t.Fatalf("Deadline() = %v, %v; want now+10s", dl, ok)
		}
		time.Sleep(10*time.Second - time.Nanosecond)
		synctest.Wait()
		if err := ctx.Err(); err != nil {
			t.Fatalf("1ns before the timeout: Err() = %v, want nil", err)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("at the timeout: Err() = %v, want DeadlineExceeded", err)
		}
		select {
		case <-ctx.Done():
		default:
			t.Fatal("Done not closed at the timeout")
		}
	})
}

func TestClockTimeoutFollowsParentAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, pcancel := context.WithCancel(context.Background())
		ctx, cancel := withClockTimeout(parent, clock.New(), time.Hour)
		defer cancel()
		pcancel()
		synctest.Wait()
		if err := ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("after parent cancel: Err() = %v, want Canceled", err)
		}

		ctx2, cancel2 := withClockTimeout(context.Background(), clock.New(), time.Hour)
		cancel2()
		cancel2() // idempotent
		if err := ctx2.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("after cancel: Err() = %v, want Canceled", err)
		}

		ctx3, cancel3 := withClockTimeout(context.Background(), clock.New(), 0)
		defer cancel3()
		if err := ctx3.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("zero timeout: Err() = %v, want DeadlineExceeded", err)
		}
	})
}

// A parent cancelled with a cause still gives Err() == Canceled, as the
// context contract requires.
func TestClockTimeoutParentCauseNotErr(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, pcancel := context.WithCancelCause(context.Background())
		ctx, cancel := withClockTimeout(parent, clock.New(), time.Hour)
		defer cancel()
		pcancel(errors.New("engine closing"))
		synctest.Wait()
		if err := ctx.Err(); err != context.Canceled {
			t.Fatalf("Err() = %v, want exactly context.Canceled", err)
		}
	})
}

func TestClockTimeoutOnMock(t *testing.T) {
	m := clock.NewMock()
	ctx, cancel := withClockTimeout(context.Background(), m, time.Minute)
	defer cancel()
	m.Add(59 * time.Second)
	if ctx.Err() != nil {
		t.Fatal("expired before its timeout on the mock clock")
	}
	m.Add(time.Second)
	<-ctx.Done() // the mock runs AfterFunc callbacks in a goroutine
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err() = %v, want DeadlineExceeded", ctx.Err())
	}
}
