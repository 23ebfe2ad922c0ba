package renewal

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestStartLoginAndProactiveRenewal logs in and checks the renewals: the
// first, of the login's token, is drawn between one second after receipt
// and the usual time (48 min without jitter); the renewed token is renewed
// at the usual 12 min lead.
func TestStartLoginAndProactiveRenewal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		start := time.Now()
		r.start()
		if got := r.sdk.count("login"); got != 1 {
			t.Fatalf("logins = %d, want 1", got)
		}
		ks := r.key("")
		first := ks.NextRenewal.Sub(start)
		if ks.Phase != PhaseFresh || first < minRenewInterval || first > 48*time.Minute || !ks.Deadline.Equal(start.Add(time.Hour).UTC()) {
			t.Fatalf("state = %+v: want fresh, deadline +1h, first renewal in [+1s, +48m]", ks)
		}
		r.renewsAfter(first)
		ren := r.rec.all(EventRenewed)
		if len(ren) != 1 || ren[0].Lead != time.Hour-first {
			t.Fatalf("renewed events = %+v, want one with lead %v", ren, time.Hour-first)
		}
		if r.f.count() != 2 {
			t.Errorf("fetches = %d, want 2", r.f.count())
		}
		// The renewed token is renewed 48 min after it came: 12 min lead.
		if ks := r.key(""); !ks.NextRenewal.Equal(start.Add(first + 48*time.Minute).UTC()) {
			t.Errorf("next renewal at +%v, want +%v", ks.NextRenewal.Sub(start), first+48*time.Minute)
		}
		time.Sleep(48 * time.Minute)
		synctest.Wait()
		if ren := r.rec.all(EventRenewed); len(ren) != 2 || ren[1].Lead != 12*time.Minute {
			t.Fatalf("renewed events = %+v, want a second one with lead 12m", ren)
		}
	})
}

// TestActivityIdleReflectsNext checks that an idle engine's Activity.Next
// is the earliest due time, including a hanging hook's timeout.
func TestActivityIdleReflectsNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter, func(c *Config, _ *SessionConfig) { c.WatchdogInterval = -1 })
		if a := r.e.Activity(); a.InFlight != 0 || a.Due != 0 || !a.Next.IsZero() {
			t.Fatalf("before start: %+v", a)
		}
		r.start("room")
		synctest.Wait()
		login, room := r.key("").NextRenewal, r.key("room").NextRenewal
		a := r.e.Activity()
		if want := minTime(login, room); a.InFlight != 0 || a.Due != 0 || !a.Next.Equal(want) {
			t.Fatalf("idle after start: %+v, want next at the earlier renewal %v", a, want)
		}
		r.sdk.mu.Lock()
		r.sdk.hang["renew"] = 1
		r.sdk.mu.Unlock()
		time.Sleep(r.untilRenewal(""))
		synctest.Wait()
		a = r.e.Activity()
		// The login renewal hangs in its hook: Next is its timeout, or the
		// stream's renewal if that comes first.
		if want := minTime(login.Add(DefaultHookTimeout), r.key("room").NextRenewal); a.InFlight != 1 || a.Due != 0 || !a.Next.Equal(want) {
			t.Fatalf("during a hanging renew: %+v, want next = %v", a, want)
		}
		r.s.WillExpire("")
		if a := r.e.Activity(); a.Due != 1 {
			t.Fatalf("queued signal not counted: %+v", a)
		}
	})
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func TestConfigValidation(t *testing.T) {
	if _, err := NewEngine(Config{Workers: -1}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Workers -1: %v", err)
	}
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeFetcher{life: time.Hour}
	sdk := newFakeSDK()
	for name, cfg := range map[string]SessionConfig{
		"no user":     {Fetcher: f, SDK: sdk},
		"long user":   {UserID: string(make([]byte, 65)), Fetcher: f, SDK: sdk},
		"no fetcher":  {UserID: "u", SDK: sdk},
		"no sdk":      {UserID: "u", Fetcher: f},
		"ttl":         {UserID: "u", Fetcher: f, SDK: sdk, TTL: 25 * time.Hour},
		"role":        {UserID: "u", Fetcher: f, SDK: sdk, Role: 7},
		"policy lead": {UserID: "u", Fetcher: f, SDK: sdk, Policy: Policy{MinLead: time.Second}},
	} {
		if _, err := e.NewSession(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
	s, err := e.NewSession(SessionConfig{UserID: "u", Fetcher: f, SDK: sdk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.NewSession(SessionConfig{UserID: "u", Fetcher: f, SDK: sdk}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("duplicate user: %v", err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Start before engine Start: %v", err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	if _, err := e.NewSession(SessionConfig{UserID: "v", Fetcher: f, SDK: sdk}); !errors.Is(err, ErrClosed) {
		t.Errorf("NewSession after Close: %v", err)
	}
	s.WillExpire("") // after Close: ignored, no panic
}
