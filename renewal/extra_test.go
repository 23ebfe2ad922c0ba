package renewal

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// An SDK that answers every failed relogin with another FAILED event must
// not defeat the backoff.
func TestFailedDuringReloginBackoffKeepsTheBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour)
		r.start()
		for i := 0; i < 50; i++ {
			r.sdk.failNext("login", sdkErr(signaling.CodeLoginTimeout))
		}
		r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonTokenExpired))
		for i := 0; i < 20; i++ {
			time.Sleep(100 * time.Millisecond)
			r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonTokenExpired))
		}
		synctest.Wait()
		// 2 s of storms: the first relogin and at most two backoff retries.
		if got := r.sdk.count("login"); got > 4 {
			t.Fatalf("%d logins in 2 s: FAILED events bypass the backoff", got)
		}
	})
}

// A token shorter than MinTTL is reported, used, and renewed at a pace
// that cannot become a hot loop.
func TestTokenTooShort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 90*time.Second, noJitter)
		r.start()
		synctest.Wait()
		short := r.rec.all(EventTokenTooShort)
		if len(short) != 1 || short[0].Lead != 90*time.Second {
			t.Fatalf("too-short events %+v", short)
		}
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		// Renewed 30 s after receipt (60 s before the deadline): 20 in 10 min.
		if n := r.sdk.count("renew"); n != 20 {
			t.Fatalf("%d renewals of 90 s tokens in 10 min, want 20", n)
		}
		if r.rec.count(EventExpired) != 0 {
			t.Fatal("expired")
		}
	})
}

// A lost CONNECTED event does not strand a deferred renewal: the fallback
// retry tries the SDK anyway.
func TestLostConnectedEventFallsBackToRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		r.start()
		r.s.LinkState(signaling.LinkStateEvent{Current: signaling.LinkDisconnected, Previous: signaling.LinkConnected,
			Service: signaling.ServiceMessage, ReasonCode: signaling.ReasonKeepAliveTimeout})
		time.Sleep(r.untilRenewal(""))
		synctest.Wait()
		if r.sdk.count("renew") != 0 || r.key("").Phase != PhaseWaiting {
			t.Fatalf("renews %d, phase %v", r.sdk.count("renew"), r.key("").Phase)
		}
		time.Sleep(DefaultBackoffInitial)
		synctest.Wait()
		if r.sdk.count("renew") != 1 || r.key("").Phase != PhaseFresh {
			t.Fatalf("fallback: renews %d, phase %v", r.sdk.count("renew"), r.key("").Phase)
		}
	})
}
