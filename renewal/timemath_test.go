package renewal

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func defPolicy(t testing.TB) Policy {
	p, err := Policy{}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTokenTimes(t *testing.T) {
	tests := []struct {
		name         string
		tok          fetcher.Token
		wantDeadline time.Time
	}{
		{"receipt + lifetime", fetcher.Token{ReceivedAt: t0, Lifetime: time.Hour, ExpiresAt: t0.Add(2 * time.Hour)}, t0.Add(time.Hour)},
		{"server clock behind: own expiry first", fetcher.Token{ReceivedAt: t0, Lifetime: time.Hour, ExpiresAt: t0.Add(50 * time.Minute)}, t0.Add(50 * time.Minute)},
		{"no receipt: now", fetcher.Token{Lifetime: time.Hour}, t0.Add(5 * time.Minute).Add(time.Hour)},
		{"no lifetime: issue..expiry", fetcher.Token{ReceivedAt: t0, IssuedAt: t0.Add(-time.Minute), ExpiresAt: t0.Add(29 * time.Minute)}, t0.Add(29 * time.Minute)},
		{"no lifetime, no times: requested TTL", fetcher.Token{ReceivedAt: t0, Request: fetcher.Request{TTL: 10 * time.Minute}}, t0.Add(10 * time.Minute)},
		{"nothing: one hour", fetcher.Token{ReceivedAt: t0}, t0.Add(time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, d, life := tokenTimes(tc.tok, t0.Add(5*time.Minute))
			if !d.Equal(tc.wantDeadline) {
				t.Errorf("deadline = %v, want %v", d, tc.wantDeadline)
			}
			if life <= 0 {
				t.Errorf("life = %v, want > 0", life)
			}
		})
	}
}

func TestRenewAt(t *testing.T) {
	p := defPolicy(t)
	noJitter := p
	noJitter.JitterFraction = 0
	tests := []struct {
		name      string
		life      time.Duration
		now       time.Duration // after receipt
		p         Policy
		u         float64
		wantAfter time.Duration // renewal time after receipt
		wantShort bool
	}{
		{"1h token: 20% lead", time.Hour, 0, noJitter, 0, 48 * time.Minute, false},
		{"24h token: 20% lead", 24 * time.Hour, 0, noJitter, 0, 24*time.Hour - 288*time.Minute, false},
		{"5 min token: MinLead", 5 * time.Minute, 0, noJitter, 0, 3 * time.Minute, false},
		{"3 min token: half life", 3 * time.Minute, 0, noJitter, 0, 90 * time.Second, false},
		{"2 min token: 60 s before", 2 * time.Minute, 0, noJitter, 0, time.Minute, false},
		{"90 s token: too short, 60 s safety would precede receipt", 90 * time.Second, 0, noJitter, 0, 30 * time.Second, true},
		{"30 s token: too short, half its life (never every second)", 30 * time.Second, 0, noJitter, 0, 15 * time.Second, true},
		{"35 s token: half its life", 35 * time.Second, 0, noJitter, 0, 17*time.Second + 500*time.Millisecond, true},
		{"61 s token: the safety lead would leave 1 s, half its life instead", 61 * time.Second, 0, noJitter, 0, 30*time.Second + 500*time.Millisecond, true},
		{"1h token, max jitter: 10% more lead", time.Hour, 0, p, 0.999999999, 48*time.Minute - 72*time.Second, false},
		{"1h token, half jitter", time.Hour, 0, p, 0.5, 48*time.Minute - 36*time.Second, false},
		{"overdue: now", time.Hour, 55 * time.Minute, noJitter, 0, 55 * time.Minute, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at, short := renewAt(t0, t0.Add(tc.life), t0.Add(tc.now), tc.p, tc.u)
			if got := at.Sub(t0); got.Round(time.Millisecond) != tc.wantAfter {
				t.Errorf("renewal at receipt+%v, want +%v", got, tc.wantAfter)
			}
			if short != tc.wantShort {
				t.Errorf("tooShort = %v, want %v", short, tc.wantShort)
			}
		})
	}
}

// TestRenewAtInvariants sweeps lifetimes and jitter draws: renewal never
// before receipt+1s, never hot (at least half the life for ≥ MinTTL), and at
// least SafetyLead before the deadline whenever the lifetime is ≥ MinTTL.
func TestRenewAtInvariants(t *testing.T) {
	p := defPolicy(t)
	for life := time.Second; life <= 24*time.Hour; life = life*5/4 + time.Second {
		for _, u := range []float64{0, 0.25, 0.5, 0.999} {
			at, short := renewAt(t0, t0.Add(life), t0, p, u)
			if at.Before(t0.Add(minRenewInterval)) {
				t.Fatalf("life %v u %v: renew at %v, before receipt+1s", life, u, at.Sub(t0))
			}
			if short != (life < p.MinTTL) {
				t.Fatalf("life %v: short = %v", life, short)
			}
			if !short {
				if left := t0.Add(life).Sub(at); left < SafetyLead {
					t.Fatalf("life %v u %v: only %v left at renewal", life, u, left)
				}
				if at.Sub(t0) < life/2-time.Duration(float64(life/2)*p.JitterFraction) && life > 10*time.Minute {
					t.Fatalf("life %v u %v: renews after only %v", life, u, at.Sub(t0))
				}
			}
		}
	}
}

// TestTokenRenewal: what install computes for a plain one-hour token.
func TestTokenRenewal(t *testing.T) {
	p := defPolicy(t)
	tok := fetcher.Token{ReceivedAt: t0, Lifetime: time.Hour, ExpiresAt: t0.Add(time.Hour)}
	receipt, dl, _ := tokenTimes(tok, t0)
	at, short := renewAt(receipt, dl, t0, p, 0)
	if !dl.Equal(t0.Add(time.Hour)) || !at.Equal(t0.Add(48*time.Minute)) || short {
		t.Errorf("renewal at %v, deadline %v, too short %v", at.Sub(t0), dl.Sub(t0), short)
	}
}

func TestBackoffDelay(t *testing.T) {
	p := defPolicy(t)
	tests := []struct {
		name       string
		base       time.Duration
		long       bool
		retryAfter time.Duration
		u          float64
		want       time.Duration
	}{
		{"no jitter draw: half", 4 * time.Second, false, 0, 0, 2 * time.Second},
		{"max draw: almost full", 4 * time.Second, false, 0, 0.999999, 4 * time.Second},
		{"long ignores base", time.Second, true, 0, 0, p.BackoffLong / 2},
		{"retry-after wins", time.Second, false, 30 * time.Second, 0.5, 30 * time.Second},
		{"retry-after capped", time.Second, false, 10 * time.Hour, 0.5, p.BackoffLong},
		{"zero base: initial", 0, false, 0, 0, p.BackoffInitial / 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := backoffDelay(tc.base, tc.long, tc.retryAfter, p, tc.u); got.Round(time.Millisecond) != tc.want {
				t.Errorf("backoffDelay = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRetryAt(t *testing.T) {
	dl := t0.Add(time.Minute)
	if got := retryAt(t0, dl, 10*time.Second, true); !got.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("inside: %v", got)
	}
	if got := retryAt(t0, dl, 5*time.Minute, true); !got.Equal(dl) {
		t.Errorf("bounded: got %v, want deadline", got)
	}
	if got := retryAt(t0, dl, 5*time.Minute, false); !got.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("unbounded: %v", got)
	}
	if got := retryAt(t0.Add(2*time.Minute), dl, time.Second, true); !got.Equal(t0.Add(2*time.Minute + time.Second)) {
		t.Errorf("after deadline: %v", got)
	}
}

func TestJitterUnit(t *testing.T) {
	a := jitterUnit(1, "u", "c", 3)
	if a != jitterUnit(1, "u", "c", 3) {
		t.Fatal("not deterministic")
	}
	seen := map[float64]bool{}
	sum := 0.0
	const n = 4000
	for i := 0; i < n; i++ {
		u := jitterUnit(7, "user", "", uint64(i))
		if u < 0 || u >= 1 {
			t.Fatalf("out of range: %v", u)
		}
		seen[u] = true
		sum += u
	}
	if len(seen) < n-1 {
		t.Errorf("only %d distinct values", len(seen))
	}
	if mean := sum / n; math.Abs(mean-0.5) > 0.03 {
		t.Errorf("mean %v, want about 0.5", mean)
	}
	if jitterUnit(1, "ab", "c", 0) == jitterUnit(1, "a", "bc", 0) {
		t.Error("user/channel boundary not separated")
	}
	if jitterUnit(1, "u", "c", 0) == jitterUnit(2, "u", "c", 0) {
		t.Error("seed ignored")
	}
}

func TestPolicyNormalize(t *testing.T) {
	p := defPolicy(t)
	if p.MinLead != DefaultMinLead || p.LeadFraction != DefaultLeadFraction || p.JitterFraction != DefaultJitterFraction ||
		p.BackoffMax != DefaultBackoffMax || p.HookTimeout != DefaultHookTimeout {
		t.Errorf("defaults not applied: %+v", p)
	}
	bad := []Policy{
		{MinLead: -1}, {MinLead: 10 * time.Second}, {LeadFraction: 0.9}, {LeadFraction: math.NaN()},
		{JitterFraction: 2}, {BackoffInitial: time.Hour}, {BackoffMax: 10 * time.Minute, BackoffLong: time.Minute},
		{HookTimeout: -time.Second}, {FirstRenewal: FirstRenewalAtLead + 1},
	}
	for _, b := range bad {
		if _, err := b.normalize(); err == nil {
			t.Errorf("%+v: no error", b)
		} else if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v does not wrap ErrInvalidConfig", b, err)
		}
	}
	if p, _ := (Policy{JitterFraction: -1}).normalize(); p.JitterFraction != 0 {
		t.Errorf("negative jitter: %v, want 0", p.JitterFraction)
	}
	if p.FirstRenewal != FirstRenewalSpread {
		t.Errorf("zero Policy: FirstRenewal %v, want spread", p.FirstRenewal)
	}
	if a, b := FirstRenewalSpread.String(), FirstRenewalAtLead.String(); a != "spread" || b != "at-lead" {
		t.Errorf("FirstRenewalMode names %q, %q", a, b)
	}
	if _, err := (Policy{FirstRenewal: 9}).normalize(); err == nil || !strings.Contains(err.Error(), "FirstRenewalMode(9)") {
		t.Errorf("unknown FirstRenewal: %v, want an error naming FirstRenewalMode(9)", err)
	}
}
