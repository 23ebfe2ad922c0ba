package renewal

import (
	"strconv"
	"testing"
	"time"
)

// Token-server load at renewal time, computed with the engine's own
// scheduling math (renewAt, jitterUnit, Policy.normalize): N sessions log in
// within one second (evenly spread over it), each gets a 1 h token at its
// login instant (fetch time zero) and renews it, generation by generation,
// for 24 simulated hours. Every renewal is one token-server request.
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

// firstAtFunc returns the time of a key's renewal after the token received
// at receipt, for generation gen and jitter draw u.
type firstAtFunc func(receipt, deadline time.Time, p Policy, u float64, gen uint64) time.Time

func engineAt(receipt, deadline time.Time, p Policy, u float64, _ uint64) time.Time {
	at, _ := renewAt(receipt, deadline, receipt, p, u)
	return at
}

// engine is engineAt for every key.
func engine(string) firstAtFunc { return engineAt }

// proposalAt applies spreadFirst (Policy.SpreadFirstRenewal) to the token
// of the login (generation 1).
func proposalAt(seed int64, user string) firstAtFunc {
	return func(receipt, deadline time.Time, p Policy, u float64, gen uint64) time.Time {
		if gen != 1 {
			return engineAt(receipt, deadline, p, u, gen)
		}
		at, _ := spreadFirst(receipt, deadline, receipt, p, u, jitterUnit(seed, user, "", gen|1<<62))
		return at
	}
}

func renewalLoad(tb testing.TB, p Policy, at func(user string) firstAtFunc, seed int64) loadResult {
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
		keyAt := at(user)
		for gen := uint64(1); ; gen++ {
			next := keyAt(t, t.Add(loadLife), p, jitterUnit(seed, user, "", gen), gen)
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
	cases := []struct {
		name string
		p    Policy
		at   func(user string) firstAtFunc
	}{
		{"default", Policy{}, engine},
		{"no-jitter", Policy{JitterFraction: -1}, engine},
		{"max-jitter", Policy{JitterFraction: 1}, engine},
		{"proposal-spread-first", Policy{}, func(user string) firstAtFunc { return proposalAt(0, user) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := renewalLoad(b, c.p, c.at, 0)
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
// computation: with the default policy the first renewals of a one-second
// login burst land within the 72 s jitter window 46.8–48 min after it;
// without jitter they land in the same second.
func TestRenewalLoadShape(t *testing.T) {
	if testing.Short() {
		t.Skip("computes 100k × 24 h of renewals")
	}
	def := renewalLoad(t, Policy{}, engine, 0)
	if def.firstPeakSeconds < 46*60 || def.firstPeakSeconds > 48*60+1 {
		t.Errorf("default: busiest second at %v s, want within 46.8–48 min", def.firstPeakSeconds)
	}
	if want := float64(loadSessions) / 72; def.peak10 < 0.8*want || def.peak10 > 1.25*want {
		t.Errorf("default: busiest 10 s at %.0f rps, want about N/72 s = %.0f", def.peak10, want)
	}
	none := renewalLoad(t, Policy{JitterFraction: -1}, engine, 0)
	if none.peak1 < loadSessions/2 {
		t.Errorf("no jitter: busiest second has %.0f requests, want most of %d", none.peak1, loadSessions)
	}
	if p := none.meanInterval; p != 48*time.Minute {
		t.Errorf("no jitter: period %v, want 48m", p)
	}

}
