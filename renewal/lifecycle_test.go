package renewal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/signaling"
)

func TestCloseDuringInFlightWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour)
		r.f.gate = make(chan struct{}) // the login's fetch never returns by itself
		errc := make(chan error, 1)
		go func() { errc <- r.s.Start(context.Background()) }()
		synctest.Wait()
		if a := r.e.Activity(); a.InFlight != 1 {
			t.Fatalf("activity %+v", a)
		}
		if err := r.e.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-errc; !errors.Is(err, ErrClosed) {
			t.Fatalf("Start during Close: %v, want ErrClosed", err)
		}
		if err := r.e.Close(context.Background()); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := r.s.Start(context.Background()); !errors.Is(err, ErrClosed) {
			t.Fatalf("Start after Close: %v", err)
		}
		// Signals after Close are ignored without panicking.
		r.s.WillExpire("")
		r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonTokenExpired))
		r.s.RenewNow("x")
		if err := r.s.Close(context.Background()); err != nil {
			t.Fatalf("session Close after engine Close: %v", err)
		}
	})
}

func TestCloseWaitsForAHookIgnoringContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour)
		r.start()
		release := make(chan struct{})
		r.sdk.mu.Lock()
		r.sdk.hangHard["renew"] = release
		r.sdk.mu.Unlock()
		r.s.RenewNow("")
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := r.e.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close with a stuck hook: %v", err)
		}
		close(release)
		if err := r.e.Close(context.Background()); err != nil {
			t.Fatalf("Close after release: %v", err)
		}
	})
}

func TestSessionCloseLogsOutAndForgets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, func(_ *Config, s *SessionConfig) { s.Policy.LogoutOnClose = true })
		r.start("room")
		if err := r.s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := r.sdk.methods(); !slices.Equal(got, []string{"login", "join:room", "logout"}) {
			t.Fatalf("calls %v", got)
		}
		for _, ks := range r.s.State() {
			if ks.Phase != PhaseClosed || !ks.NextRenewal.IsZero() {
				t.Fatalf("key after close %+v", ks)
			}
		}
		if err := r.s.Close(context.Background()); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		time.Sleep(48 * time.Hour)
		synctest.Wait()
		if len(r.sdk.methods()) != 3 {
			t.Fatalf("work after Close: %v", r.sdk.methods())
		}
		// The user ID is free again.
		if _, err := r.e.NewSession(SessionConfig{UserID: "bot-42", Fetcher: r.f, SDK: r.sdk}); err != nil {
			t.Fatalf("NewSession after Close: %v", err)
		}
	})
}

func TestStartCancelledByCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour)
		r.sdk.mu.Lock()
		r.sdk.hang["login"] = 1
		r.sdk.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := r.s.Start(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Start: %v", err)
		}
		if ks := r.key(""); ks.Phase != PhaseNew {
			t.Fatalf("state %+v", ks)
		}
		r.start() // a second Start works
		if r.key("").Phase != PhaseFresh {
			t.Fatal("not started")
		}
	})
}

// With one worker and a fixed seed, the same scenario produces the same
// events at the same times, and another seed moves the renewals.
func TestDeterministicWithOneWorker(t *testing.T) {
	run := func(seed int64) []string {
		var out []string
		synctest.Test(t, func(t *testing.T) {
			r := newRig(t, time.Hour, func(c *Config, _ *SessionConfig) { c.Workers = 1; c.Seed = seed })
			start := time.Now()
			r.start("a", "b", "c")
			r.sdk.failNext("renewStream", sdkErr(signaling.CodeRenewTokenTimeout), sdkErr(signaling.CodeChannelNotJoined))
			time.Sleep(5 * time.Hour)
			r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonTokenExpired))
			r.s.WillExpire("b")
			time.Sleep(5 * time.Hour)
			synctest.Wait()
			for _, ev := range r.rec.evs {
				out = append(out, fmt.Sprintf("%v %s %q g%d %v", ev.Time.Sub(start), ev.Kind, ev.Channel, ev.Generation, ev.RetryIn))
			}
		})
		return out
	}
	a, b := run(7), run(7)
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("runs differ at event %d: %s vs %s", i, a[i], b[i])
			}
		}
		t.Fatalf("runs differ in length %d vs %d", len(a), len(b))
	}
	if len(a) < 50 {
		t.Fatalf("only %d events", len(a))
	}
	if c := run(8); slices.Equal(a, c) {
		t.Fatal("seed has no effect")
	}
}

// A Session.Close whose logout is still queued when the engine closes must
// return: the abandoned logout finishes the session's Close.
func TestSessionCloseQueuedLogoutAbandonedByEngineClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, func(c *Config, s *SessionConfig) {
			c.Workers = 1
			s.Policy.LogoutOnClose = true
		})
		r.start()
		// A second session occupies the only worker with a fetch that
		// returns only when its context ends.
		r.f.mu.Lock()
		r.f.gate = make(chan struct{})
		r.f.mu.Unlock()
		other, err := r.e.NewSession(SessionConfig{UserID: "other", Fetcher: r.f, SDK: newFakeSDK()})
		if err != nil {
			t.Fatal(err)
		}
		startErr := make(chan error, 1)
		go func() { startErr <- other.Start(context.Background()) }()
		synctest.Wait()
		closeErr := make(chan error, 1)
		go func() { closeErr <- r.s.Close(context.Background()) }()
		synctest.Wait()
		if a := r.e.Activity(); a.InFlight != 2 || a.Running != 1 {
			t.Fatalf("activity %+v, want the logout queued behind the blocked fetch", a)
		}
		if err := r.e.Close(context.Background()); err != nil {
			t.Fatalf("engine Close: %v", err)
		}
		synctest.Wait()
		select {
		case err := <-closeErr:
			if err != nil {
				t.Fatalf("session Close: %v", err)
			}
		default:
			t.Fatal("session Close still waiting after the engine closed")
		}
		if err := <-startErr; !errors.Is(err, ErrClosed) {
			t.Fatalf("other Start: %v, want ErrClosed", err)
		}
		if n := r.sdk.count("logout"); n != 0 {
			t.Fatalf("%d logouts after the engine closed", n)
		}
	})
}
