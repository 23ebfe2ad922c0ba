package renewal

import (
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// TestSpreadFirst pins spreadFirst's bounds: the draw v maps linearly onto
// [receipt+1s, renewAt's time]; a too-short token, a token whose usual time
// is within a second of receipt, and an overdue token keep renewAt's rules.
func TestSpreadFirst(t *testing.T) {
	p, err := Policy{JitterFraction: -1}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		life, now time.Duration // now: after receipt
		v         float64
		want      time.Duration // after receipt
		wantShort bool
	}{
		{"1h token, v=0: one second after receipt", time.Hour, 0, 0, time.Second, false},
		{"1h token, v=0.5: half-way", time.Hour, 0, 0.5, time.Second + (48*time.Minute-time.Second)/2, false},
		{"1h token, v→1: the usual time", time.Hour, 0, 0.999999999, 48 * time.Minute, false},
		{"24h token, v=0.25", 24 * time.Hour, 0, 0.25, time.Second + (24*time.Hour-288*time.Minute-time.Second)/4, false},
		{"installed late: never before now", time.Hour, 10 * time.Minute, 0.1, 10 * time.Minute, false},
		{"90 s token: too short, not spread", 90 * time.Second, 0, 0, 30 * time.Second, true},
		{"2 s token: usual time at receipt+1s", 2 * time.Second, 0, 0.5, time.Second, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at, short := spreadFirst(t0, t0.Add(tc.life), t0.Add(tc.now), p, 0, tc.v)
			if got := at.Sub(t0); got.Round(time.Millisecond) != tc.want.Round(time.Millisecond) || short != tc.wantShort {
				t.Errorf("spreadFirst = receipt+%v (short %v), want +%v (short %v)", got, short, tc.want, tc.wantShort)
			}
		})
	}
}

// TestSpreadFirstCoversOnePeriod checks that first renewals of keys that got
// their tokens at the same instant are spread over the whole renewal period,
// never before one second after receipt nor after the usual renewal time.
func TestSpreadFirstCoversOnePeriod(t *testing.T) {
	p, err := Policy{}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	receipt := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	deadline := receipt.Add(time.Hour)
	const n = 2000
	var lo, hi time.Duration = time.Hour, 0
	buckets := make([]int, 10)
	for i := 0; i < n; i++ {
		user := "bot-" + strconv.Itoa(i)
		u := jitterUnit(1, user, "", 1)
		usual, _ := renewAt(receipt, deadline, receipt, p, u)
		at, short := spreadFirst(receipt, deadline, receipt, p, u, jitterUnit(1, user, "", 1|1<<62))
		if short {
			t.Fatalf("a 1 h token reported too short")
		}
		if at.Before(receipt.Add(minRenewInterval)) || at.After(usual) {
			t.Fatalf("%s: first renewal at %v, outside [receipt+1s, %v]", user, at.Sub(receipt), usual.Sub(receipt))
		}
		off := at.Sub(receipt)
		lo, hi = min(lo, off), max(hi, off)
		buckets[int(off*10/(48*time.Minute))%10]++
	}
	if lo > 2*time.Minute || hi < 44*time.Minute {
		t.Errorf("first renewals span %v…%v, want about 0…47 min", lo, hi)
	}
	for i, b := range buckets {
		if b < n/10/2 || b > n/10*3/2 {
			t.Errorf("tenth %d of the period holds %d of %d first renewals: not spread evenly %v", i, b, n, buckets)
		}
	}
}

// TestFirstRenewalSpreadByDefault checks through the engine that with the
// zero Policy the first renewal of the login and of a joined channel is
// drawn before its usual time (the time FirstRenewalAtLead gives, from the
// same jitter draw) and no earlier than one second after receipt, that the
// renewed tokens keep the usual lead, and that a relogin's tokens are
// spread again.
func TestFirstRenewalSpreadByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pinned := newRig(t, time.Hour, atLead)
		pinned.start("room")
		r := newRig(t, time.Hour)
		r.start("room")
		received := time.Now()
		for _, ch := range []string{"", "room"} {
			usual, first := pinned.key(ch).NextRenewal, r.key(ch).NextRenewal
			if lead := pinned.key(ch).Deadline.Sub(usual); lead < 12*time.Minute || lead > 13*time.Minute+12*time.Second {
				t.Fatalf("key %q with FirstRenewalAtLead: lead %v, want the usual 12–13.2 min", ch, lead)
			}
			if !first.Before(usual) || first.Before(received.Add(minRenewInterval)) {
				t.Fatalf("key %q: first renewal %v after receipt, want drawn in [1s, %v) (the usual time)",
					ch, first.Sub(received), usual.Sub(received))
			}
		}
		// Each key's first renewal runs at its drawn time; the tokens it
		// brings are renewed at the usual lead.
		time.Sleep(max(time.Until(r.key("").NextRenewal), time.Until(r.key("room").NextRenewal)) + time.Second)
		synctest.Wait()
		if got, want := r.sdk.count("renew")+r.sdk.count("renewStream", "room"), 2; got != want {
			t.Fatalf("renewals after both first due times: %d, want %d (%v)", got, want, r.sdk.methods())
		}
		for _, ch := range []string{"", "room"} {
			ks := r.key(ch)
			if lead := ks.Deadline.Sub(ks.NextRenewal); lead < 12*time.Minute || lead > 13*time.Minute+12*time.Second {
				t.Fatalf("key %q: second renewal leads its deadline by %v, want the usual 12–13.2 min", ch, lead)
			}
		}
		// A relogin (login token expired on the server) spreads the new
		// tokens' first renewals again.
		r.s.LinkState(linkFailed(signaling.ServiceMessage, signaling.ReasonTokenExpired))
		synctest.Wait()
		if got := r.sdk.count("login"); got != 2 {
			t.Fatalf("logins after FAILED/TOKEN_EXPIRED: %d, want 2 (%v)", got, r.sdk.methods())
		}
		received = time.Now()
		for _, ch := range []string{"", "room"} {
			ks := r.key(ch)
			if in := ks.NextRenewal.Sub(received); in < minRenewInterval || ks.Deadline.Sub(ks.NextRenewal) <= 13*time.Minute+12*time.Second {
				t.Fatalf("key %q after the relogin: renewal in %v, lead %v; want it at least 1 s away and drawn before the usual 12–13.2 min lead",
					ch, in, ks.Deadline.Sub(ks.NextRenewal))
			}
		}
	})
}

// TestFirstRenewalAtLeadOptsOut checks that FirstRenewalAtLead renews the
// first token of a login at the usual lead and the engine renews once per
// usual period from the start.
func TestFirstRenewalAtLeadOptsOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, atLead, noJitter)
		r.start()
		if in := time.Until(r.key("").NextRenewal); in != 48*time.Minute {
			t.Fatalf("first renewal in %v, want 48m (12 min before a 1 h deadline, no jitter)", in)
		}
		r.renewsAfter(48 * time.Minute)
	})
}
