package renewal

import (
	"strconv"
	"testing"
	"time"
)

// Token-server load at renewal time, computed with the engine's own
// scheduling math (nextRenewal, as install calls it, and Policy.normalize):
// N sessions log in within one second (evenly spread over it), each gets a
// 1 h token at its login instant (fetch time zero) and renews it,
// generation by generation, for 24 simulated hours. Every renewal is one
// token-server request.
//
// "Perfectly even spread" is the long-run rate of the same sessions with
// their renewals spread evenly in time: N / P, where P is the mean interval
// between two renewals of one key under the policy (measured here; 2844 s
// for 1 h tokens with the default policy: 48 min minus half the 72 s
// jitter). The peak is the busiest one-second bucket (and, to separate
// structure from the noise of hash-drawn jitter, the busiest 10 s and 60 s
// windows, as a mean rate over the window). Logins themselves are not
// counted.

const (
	loadSessions = 100_000
	loadLife     = time.Hour
	loadHorizon  = 24 * time.Hour
)

// loadResult summarizes one policy's renewal load.
type loadResult struct {
	requests         int
	meanInterval     time.Duration // P
	evenRPS          float64       // N / P
	peak1, peak10    float64       // requests per second in the busiest 1 s and 10 s windows
	peak60           float64       // and 60 s window
	firstPeakSeconds float64       // when the busiest second is, after the login burst
}

func renewalLoad(tb testing.TB, p Policy, seed int64) loadResult {
	tb.Helper()
	p, err := p.normalize()
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	end := start.Add(loadHorizon)
	buckets := make([]int32, int(loadHorizon/time.Second)+1)
	var res loadResult
	var intervals time.Duration
	for i := 0; i < loadSessions; i++ {
		user := "user-" + strconv.Itoa(i)
		t := start.Add(time.Duration(i) * time.Second / loadSessions)
		for gen := uint64(1); ; gen++ {
			// Generation 1 is the login's token; every later one comes
			// from a renewal.
			next, _ := nextRenewal(t, t.Add(loadLife), t, p, seed, user, "", gen, gen == 1)
			if !next.Before(end) {
				break
			}
			buckets[next.Sub(start)/time.Second]++
			res.requests++
			if gen > 1 {
				intervals += next.Sub(t)
			}
			t = next
		}
	}
	steady := res.requests - loadSessions // intervals between renewals (the first follows a login)
	res.meanInterval = intervals / time.Duration(steady)
	res.evenRPS = float64(loadSessions) / res.meanInterval.Seconds()
	window := func(w int) (float64, int) {
		var sum, best, at int
		for i, c := range buckets {
			sum += int(c)
			if i >= w {
				sum -= int(buckets[i-w])
			}
			if sum > best {
				best, at = sum, i
			}
		}
		return float64(best) / float64(w), at
	}
	var first int
	res.peak1, first = window(1)
	res.firstPeakSeconds = float64(first)
	res.peak10, _ = window(10)
	res.peak60, _ = window(60)
	return res
}

// BenchmarkRenewalLoad reports the peak token-server request rate at
// renewal time for 100k sessions that logged in within one second, against
// the perfectly even rate. The computation is deterministic; run it with
// -benchtime 1x.
func BenchmarkRenewalLoad(b *testing.B) {
	atLead := Policy{FirstRenewal: FirstRenewalAtLead}
	cases := []struct {
		name string
		p    Policy
	}{
		{"default", Policy{}}, // FirstRenewalSpread
		{"first-at-lead", atLead},
		{"first-at-lead-no-jitter", Policy{FirstRenewal: FirstRenewalAtLead, JitterFraction: -1}},
		{"first-at-lead-max-jitter", Policy{FirstRenewal: FirstRenewalAtLead, JitterFraction: 1}},
		{"no-jitter", Policy{JitterFraction: -1}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := renewalLoad(b, c.p, 0)
				b.ReportMetric(r.evenRPS, "even-rps")
				b.ReportMetric(r.peak1, "peak1s-rps")
				b.ReportMetric(r.peak10, "peak10s-rps")
				b.ReportMetric(r.peak60, "peak60s-rps")
				b.ReportMetric(r.peak1/r.evenRPS, "peak1s/even")
				b.ReportMetric(r.peak10/r.evenRPS, "peak10s/even")
				b.ReportMetric(r.peak60/r.evenRPS, "peak60s/even")
				b.ReportMetric(r.meanInterval.Seconds(), "period-s")
				b.ReportMetric(float64(r.requests)/float64(loadSessions), "fetches/key/day")
			}
		})
	}
}

// TestRenewalLoadShape pins the facts BENCHMARKS.md states about the load
// computation: with the default policy (first renewal spread) the busiest
// second stays within 2× the even rate; with FirstRenewalAtLead the first
// renewals of a one-second login burst land within the 72 s jitter window
// 46.8–48 min after it; without jitter as well they land in the same
// second.
func TestRenewalLoadShape(t *testing.T) {
	if testing.Short() {
		t.Skip("computes 100k × 24 h of renewals")
	}
	def := renewalLoad(t, Policy{}, 0)
	if ratio := def.peak1 / def.evenRPS; ratio > 2 {
		t.Errorf("default: busiest second %.0f rps = %.2f× the even rate %.1f rps, want ≤ 2×", def.peak1, ratio, def.evenRPS)
	}
	if p := def.meanInterval; p < 46*time.Minute+48*time.Second || p > 48*time.Minute {
		t.Errorf("default: period %v, want 46.8–48 min (spreading the first renewal leaves the period alone)", p)
	}
	pinned := renewalLoad(t, Policy{FirstRenewal: FirstRenewalAtLead}, 0)
	if pinned.firstPeakSeconds < 46*60 || pinned.firstPeakSeconds > 48*60+1 {
		t.Errorf("at lead: busiest second at %v s, want within 46.8–48 min", pinned.firstPeakSeconds)
	}
	if want := float64(loadSessions) / 72; pinned.peak10 < 0.8*want || pinned.peak10 > 1.25*want {
		t.Errorf("at lead: busiest 10 s at %.0f rps, want about N/72 s = %.0f", pinned.peak10, want)
	}
	none := renewalLoad(t, Policy{FirstRenewal: FirstRenewalAtLead, JitterFraction: -1}, 0)
	if none.peak1 < loadSessions/2 {
		t.Errorf("at lead, no jitter: busiest second has %.0f requests, want most of %d", none.peak1, loadSessions)
	}
	if p := none.meanInterval; p != 48*time.Minute {
		t.Errorf("at lead, no jitter: period %v, want 48m", p)
	}
}
