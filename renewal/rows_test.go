package renewal

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// Behavioural tests of the decision table, through the fake SDK and fetcher.

func TestWillExpireRenewsInPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		r.start("room")
		time.Sleep(10 * time.Minute)
		r.s.WillExpire("")
		r.s.WillExpire("room")
		synctest.Wait()
		if got := r.sdk.count("renew"); got != 1 {
			t.Errorf("RenewToken calls = %d, want 1", got)
		}
		if got := r.sdk.count("renewStream", "room"); got != 1 {
			t.Errorf("RenewStreamToken(room) calls = %d, want 1", got)
		}
		if got := r.sdk.count("join", "room"); got != 1 {
			t.Errorf("joins = %d, want only the first", got)
		}
		// The renewed tokens are new ones, never the token in use.
		r.sdk.mu.Lock()
		defer r.sdk.mu.Unlock()
		seen := map[string]bool{}
		for _, c := range r.sdk.calls {
			if c.token != "" && seen[c.token] {
				t.Errorf("token %s handed to the SDK twice", c.token)
			}
			seen[c.token] = true
		}
	})
}

func TestMessageTokenExpiredRelogsAndRejoins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour)
		r.start("b-room", "a-room")
		time.Sleep(5 * time.Minute)
		r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonTokenExpired))
		synctest.Wait()
		want := []string{"login", "join:b-room", "join:a-room", "logout", "login", "join:a-room", "join:b-room", "restore"}
		if got := r.sdk.methods(); !slices.Equal(got, want) {
			t.Fatalf("SDK calls = %v, want %v", got, want)
		}
		if len(r.sdk.restored) != 1 || !slices.Equal(r.sdk.restored[0], []string{"a-room", "b-room"}) {
			t.Errorf("restored = %v", r.sdk.restored)
		}
		if r.rec.count(EventRelogin) != 1 || r.rec.count(EventRejoined) != 2 || r.rec.count(EventLoggedIn) != 2 {
			t.Errorf("events: relogin %d rejoined %d logged-in %d", r.rec.count(EventRelogin), r.rec.count(EventRejoined), r.rec.count(EventLoggedIn))
		}
		for _, ks := range r.s.State() {
			if ks.Phase != PhaseFresh {
				t.Errorf("key %q phase %v after relogin", ks.Channel, ks.Phase)
			}
		}
		if r.sdk.overlap != 0 {
			t.Errorf("login/logout/renew overlapped %d times", r.sdk.overlap)
		}
	})
}

func TestStreamTokenExpiredRejoinsThatChannelOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour)
		r.start("a", "b")
		r.s.LinkState(linkFailed(signaling.ServiceStream, signaling.ReasonTokenExpired, "b", "unknown"))
		synctest.Wait()
		if got := r.sdk.count("join", "b"); got != 2 {
			t.Errorf("joins of b = %d, want 2", got)
		}
		if r.sdk.count("renewStream") != 0 || r.sdk.count("login") != 1 || r.sdk.count("join", "a") != 1 {
			t.Errorf("unexpected calls: %v", r.sdk.methods())
		}
		if r.rec.count(EventRejoined) != 1 {
			t.Errorf("rejoined events = %d", r.rec.count(EventRejoined))
		}
	})
}

func TestRenewErrorsEscalate(t *testing.T) {
	tests := []struct {
		name  string
		errs  []error
		want  []string // SDK calls after the initial login
		class string
	}{
		{"TOKEN_EXPIRED → relogin", []error{sdkErr(signaling.CodeTokenExpired)}, []string{"renew", "logout", "login"}, "token"},
		{"NOT_LOGIN → relogin", []error{sdkErr(signaling.CodeNotLogin)}, []string{"renew", "logout", "login"}, "token"},
		{"INVALID_TOKEN once → forced refetch and renew", []error{sdkErr(signaling.CodeInvalidToken)}, []string{"renew", "renew"}, "token"},
		{"INVALID_TOKEN twice → relogin", []error{sdkErr(signaling.CodeInvalidToken), sdkErr(signaling.CodeInvalidToken)},
			[]string{"renew", "renew", "logout", "login"}, "token"},
		{"RENEW_TOKEN_TIMEOUT x3 → retried in place", []error{sdkErr(signaling.CodeRenewTokenTimeout), sdkErr(signaling.CodeRenewTokenTimeout), sdkErr(signaling.CodeRenewTokenTimeout)},
			[]string{"renew", "renew", "renew", "renew"}, "retry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, time.Hour, noJitter)
				r.start()
				r.sdk.failNext("renew", tc.errs...)
				time.Sleep(r.untilRenewal("") + 5*time.Minute) // renewal + enough backoff
				got := r.sdk.methods()[1:]
				if len(got) > len(tc.want) {
					got = got[:len(tc.want)]
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("calls = %v, want %v", r.sdk.methods()[1:], tc.want)
				}
				fails := r.rec.all(EventRenewFailed)
				if len(fails) != len(tc.errs) || fails[0].Class != tc.class {
					t.Fatalf("renew-failed events = %+v", fails)
				}
				if ks := r.key(""); ks.Phase != PhaseFresh || r.rec.count(EventExpired) != 0 {
					t.Errorf("final state %+v, expired events %d", ks, r.rec.count(EventExpired))
				}
			})
		})
	}
}

func TestNotConnectedWaitsForConnected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		r.start()
		r.sdk.failNext("renew", sdkErr(signaling.CodeNotConnected))
		r.s.LinkState(signaling.LinkStateEvent{Current: signaling.LinkDisconnected, Previous: signaling.LinkConnected,
			Service: signaling.ServiceMessage, ReasonCode: signaling.ReasonKeepAliveTimeout})
		time.Sleep(r.untilRenewal(""))
		synctest.Wait()
		// Link known down: the renewal waits without calling the SDK.
		if got := r.sdk.count("renew"); got != 0 {
			t.Fatalf("renew while disconnected: %d calls", got)
		}
		if ks := r.key(""); ks.Phase != PhaseWaiting {
			t.Fatalf("phase %v, want waiting", ks.Phase)
		}
		time.Sleep(100 * time.Millisecond)
		r.s.LinkState(signaling.LinkStateEvent{Current: signaling.LinkConnected, Previous: signaling.LinkDisconnected,
			Service: signaling.ServiceMessage, ReasonCode: signaling.ReasonReconnectSuccess})
		synctest.Wait()
		// CONNECTED resumes it; the SDK still says NOT_CONNECTED once, then
		// the fallback retry succeeds.
		if got := r.sdk.count("renew"); got != 1 {
			t.Fatalf("renews after CONNECTED = %d, want 1", got)
		}
		time.Sleep(DefaultBackoffMax)
		synctest.Wait()
		if got := r.sdk.count("renew"); got != 2 || r.key("").Phase != PhaseFresh {
			t.Fatalf("renews = %d, phase %v", got, r.key("").Phase)
		}
	})
}

func TestKickedNeverRelogsUnlessOptedIn(t *testing.T) {
	for _, optIn := range []bool{false, true} {
		name := "default"
		if optIn {
			name = "ReloginOnKick"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, time.Hour, func(_ *Config, s *SessionConfig) { s.Policy.ReloginOnKick = optIn })
				r.start("room")
				r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonSameUIDLogin))
				time.Sleep(3 * time.Hour)
				synctest.Wait()
				if r.rec.count(EventKicked) != 1 {
					t.Fatalf("kicked events = %d", r.rec.count(EventKicked))
				}
				logins := r.sdk.count("login")
				if !optIn {
					if logins != 1 || r.sdk.count("renew") != 0 || r.sdk.count("renewStream") != 0 {
						t.Fatalf("after a kick: %v", r.sdk.methods())
					}
					ks := r.key("")
					if ks.Phase != PhaseKicked || !errors.Is(ks.LastErr, ErrKicked) || !ks.NextRenewal.IsZero() {
						t.Fatalf("state %+v", ks)
					}
					// RenewNow is the way back.
					r.s.RenewNow("")
					synctest.Wait()
					if r.sdk.count("login") != 2 || r.sdk.count("join", "room") != 2 || r.key("").Phase != PhaseFresh {
						t.Fatalf("RenewNow after kick: %v", r.sdk.methods())
					}
					return
				}
				if logins < 2 || r.key("").Phase != PhaseFresh {
					t.Fatalf("opted in: logins %d phase %v", logins, r.key("").Phase)
				}
				// The relogin scheduled after the kick's backoff is one
				// relogin path: reported once, ended by one login.
				if got := r.rec.count(EventRelogin); got != 1 {
					t.Fatalf("opted in: %d relogin events, want 1", got)
				}
			})
		})
	}
}

func TestFatalConfigGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour)
		r.start()
		r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonInconsistentAppID))
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		if r.rec.count(EventGaveUp) != 1 || r.sdk.count("login") != 1 || r.f.count() != 1 {
			t.Fatalf("gave-up %d, calls %v, fetches %d", r.rec.count(EventGaveUp), r.sdk.methods(), r.f.count())
		}
		if ks := r.key(""); ks.Phase != PhaseGaveUp || !errors.Is(ks.LastErr, ErrGaveUp) {
			t.Fatalf("state %+v", ks)
		}
	})
}

func TestLoginTooFrequentBacksOffLong(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour)
		r.start()
		r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonLoginTooFrequent))
		time.Sleep(DefaultBackoffLong/2 - 1)
		synctest.Wait()
		if got := r.sdk.count("login"); got != 1 {
			t.Fatalf("relogin before half the long backoff: %d logins", got)
		}
		time.Sleep(DefaultBackoffLong / 2)
		synctest.Wait()
		if got := r.sdk.count("login"); got != 2 {
			t.Fatalf("logins after the long backoff = %d, want 2", got)
		}
	})
}

func TestPermanentFetchErrorBacksOffLongAndRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter)
		r.start()
		r.f.setFail(func(fetcherReq) error { return errForbidden })
		time.Sleep(r.untilRenewal("") + 11*time.Minute)
		synctest.Wait()
		fails := r.rec.all(EventFetchFailed)
		if len(fails) < 2 || len(fails) > 5 {
			t.Fatalf("%d fetch failures in 11 min, want a few (long backoff)", len(fails))
		}
		for _, ev := range fails {
			if ev.Class != "permanent" || ev.RetryIn <= 0 {
				t.Errorf("event %+v: want class permanent and a positive retry-in", ev)
			}
		}
		// The operator fixes the server: the next attempt recovers.
		r.f.setFail(nil)
		time.Sleep(DefaultBackoffLong)
		synctest.Wait()
		if r.key("").Phase != PhaseFresh {
			t.Fatalf("not recovered: %+v", r.key(""))
		}
	})
}

func TestUnknownChannelAndNoStreamSDK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, func(_ *Config, s *SessionConfig) { s.SDK = loginOnlySDK{s.SDK.(*fakeSDK)} })
		r.start()
		if err := r.s.JoinStream(context.Background(), "room"); !errors.Is(err, ErrNoStreamSDK) {
			t.Fatalf("JoinStream without StreamSDK: %v", err)
		}
		if err := r.s.LeaveStream(context.Background(), "room"); !errors.Is(err, ErrUnknownChannel) {
			t.Fatalf("LeaveStream unknown: %v", err)
		}
		r.s.WillExpire("nope")
		r.s.RenewNow("nope")
		synctest.Wait()
		if r.f.count() != 1 || len(r.sdk.methods()) != 1 {
			t.Fatalf("unknown-channel signals acted: %v", r.sdk.methods())
		}
	})
}

func TestJoinAndLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour)
		r.start("room")
		if err := r.s.JoinStream(context.Background(), "room"); !errors.Is(err, ErrAlreadyJoined) {
			t.Fatalf("second join: %v", err)
		}
		req := r.f.reqs[1]
		if req.Channel != "room" || req.Account != "bot-42" || req.Kind.String() != "rtc" {
			t.Fatalf("RTC request = %+v", req)
		}
		r.sdk.failNext("leave", sdkErr(signaling.CodeChannelNotJoined))
		if err := r.s.LeaveStream(context.Background(), "room"); err == nil || !strings.Contains(err.Error(), "leave") {
			t.Fatalf("leave error not returned: %v", err)
		}
		if len(r.s.State()) != 1 {
			t.Fatalf("channel kept after leave: %+v", r.s.State())
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if r.sdk.count("renewStream") != 0 {
			t.Fatal("left channel renewed")
		}
		// A failing first join is reported to the caller and forgotten.
		r.sdk.failNext("join", sdkErr(signaling.CodeChannelJoinFailed))
		if err := r.s.JoinStream(context.Background(), "x"); err == nil {
			t.Fatal("failing join returned nil")
		} else if c, _ := signaling.CodeOf(err); c != signaling.CodeChannelJoinFailed {
			t.Fatalf("join error %v lost its code", err)
		}
		if len(r.s.State()) != 1 {
			t.Fatalf("failed channel kept: %+v", r.s.State())
		}
	})
}
