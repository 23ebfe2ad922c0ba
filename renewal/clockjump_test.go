package renewal

import (
	"testing"
	"testing/synctest"
	"time"
)

// Suspend and wall-clock jumps. The rig's wall clock can be moved without
// moving the (synctest) monotonic clock that drives timers, as happens when
// a machine sleeps: Go timers pause, the wall clock does not. The jump
// tests opt out of the first-renewal spread (FirstRenewalAtLead): each
// places its jump between two watchdog ticks well before a renewal due at
// a known time, 48 min after the login.

func TestSuspendTwoHours(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		r.start("room")
		time.Sleep(30*time.Minute + 30*time.Second) // between two watchdog ticks
		r.wall.jump(2 * time.Hour)                  // resumed after a 2 h suspend
		synctest.Wait()
		if r.sdk.count("login") != 1 {
			t.Fatal("acted before the watchdog could notice")
		}
		time.Sleep(DefaultWatchdogInterval)
		synctest.Wait()
		jumps := r.rec.all(EventClockJump)
		if len(jumps) != 1 || jumps[0].RetryIn < 2*time.Hour-time.Second || jumps[0].RetryIn > 2*time.Hour+time.Second {
			t.Fatalf("clock-jump events %+v", jumps)
		}
		// Both tokens are past their deadline on the wall clock: relogin
		// and rejoin at once, within one watchdog interval of the resume.
		if r.sdk.count("login") != 2 || r.sdk.count("join", "room") != 2 || r.rec.count(EventExpired) != 2 {
			t.Fatalf("after resume: %v, expired %d", r.sdk.methods(), r.rec.count(EventExpired))
		}
		if r.e.Stats().ClockJumps != 1 {
			t.Errorf("stats %+v", r.e.Stats())
		}
	})
}

func TestWallClockJumpsForward(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter, atLead)
		r.start()
		start := time.Now()
		time.Sleep(10*time.Minute + 30*time.Second)
		r.wall.jump(30 * time.Minute)
		time.Sleep(7*time.Minute + 30*time.Second - time.Nanosecond) // wall: 48 min after receipt, minus 1ns
		synctest.Wait()
		if r.sdk.count("renew") != 0 {
			t.Fatal("renewed early")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if r.sdk.count("renew") != 1 {
			t.Fatalf("not renewed when the wall clock reached the renewal time (monotonic +%v)", time.Since(start))
		}
	})
}

func TestWallClockJumpsBackward(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter, atLead)
		r.start()
		time.Sleep(10*time.Minute + 30*time.Second)
		r.wall.jump(-time.Hour)
		time.Sleep(30 * time.Second) // the watchdog notices
		synctest.Wait()
		if j := r.rec.all(EventClockJump); len(j) != 1 || j[0].RetryIn > -time.Hour+time.Second {
			t.Fatalf("clock-jump events %+v", j)
		}
		// The renewal still happens 48 min after receipt in real time, not
		// an hour late, and without a burst of fetches.
		time.Sleep(37*time.Minute - time.Nanosecond)
		synctest.Wait()
		if r.sdk.count("renew") != 0 || r.f.count() != 1 {
			t.Fatalf("early: renews %d fetches %d", r.sdk.count("renew"), r.f.count())
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if r.sdk.count("renew") != 1 || r.f.count() != 2 {
			t.Fatalf("at 48 min real time: renews %d fetches %d", r.sdk.count("renew"), r.f.count())
		}
		if ev := r.rec.all(EventRenewed); ev[0].Lead != 12*time.Minute {
			t.Fatalf("lead %v, want 12m in the shifted frame", ev[0].Lead)
		}
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		if n := r.rec.count(EventRenewed); n != 31 || r.rec.count(EventExpired) != 0 {
			t.Fatalf("a day later: %d renewals, %d expiries", n, r.rec.count(EventExpired))
		}
	})
}
