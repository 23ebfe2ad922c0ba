package reliability_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/renewal"
)

// Token-server rows. A fault that is on "for 2 h" starts 40 min into the
// run. Each key's first renewal is drawn between 1 s and 48 min after the
// login or join, and the token it brings lives an hour, so at 40 min every
// key has a renewal due by 88 min and every token in use expires by
// 100 min: inside the fault, which therefore meets a proactive renewal of
// every key and then their deadlines.

const keys = 3 // the login token and two stream channels

func serverRows() []row {
	rows := []row{
		{
			name:     "server: 5xx on 30% of requests for a day",
			expected: "renewals retried within the lead time; never logged out",
			during:   flaky5xx(0.3),
			active:   24 * time.Hour,
			clear:    func(w *world) { w.h.Server.Clear() },
			check: func(t *testing.T, w *world, r *result) {
				st := w.h.Server.Stats()
				ratio := float64(st.Failed) / float64(st.Requests)
				if ratio < 0.2 || ratio > 0.4 {
					t.Errorf("%d of %d requests failed (%.0f%%): the row did not inject ~30%%", st.Failed, st.Requests, 100*ratio)
				}
				wantNoOutage(t, w, r)
				r.note = fmt.Sprintf("%.0f%% of requests failed", 100*ratio)
			},
		},
		outage("server: outage 10 min", "renewal retried until the server is back; token still valid, never logged out",
			10*time.Minute, nil,
			func(r *row) { r.lead = 3 * time.Minute }, // starts 3 min before a renewal, ends ≥ 5 min before that token's deadline
			func(t *testing.T, w *world, r *result) {
				if n := w.count(renewal.EventFetchFailed, r.evAtInject); n == 0 {
					t.Error("no fetch failed: the outage met no renewal")
				}
				wantNoOutage(t, w, r)
			}),
		outage("server: outage 2 h", "current tokens kept until their deadline; then relogin retried every ≤ BackoffMax; back ≤ BackoffMax after the outage",
			2*time.Hour, nil, nil, wantExpiredAndBack),
		outage("server: outage 26 h, 24 h tokens", "a maximum-lifetime token still expires; relogin retried every ≤ BackoffMax for a day; back ≤ BackoffMax after",
			26*time.Hour,
			func(c *mock.HarnessConfig) { c.TTL = 24 * time.Hour },
			func(r *row) { r.warm = 18 * time.Hour }, // every key renews by 37.2 h, every token in use expires by 42 h
			wantExpiredAndBack),
		{
			name:     "server: 10 s responses (FetchTimeout 15 s)",
			expected: "every fetch succeeds, 10 s later; never logged out",
			inject:   func(w *world) { w.h.Server.SetLatency(10 * time.Second) },
			active:   2 * time.Hour,
			clear:    func(w *world) { w.h.Server.Clear() },
			check: func(t *testing.T, w *world, r *result) {
				if r.failedFetches != 0 || w.count(renewal.EventFetchFailed, r.evAtInject) != 0 {
					t.Errorf("%d fetches failed under a latency below FetchTimeout", r.failedFetches)
				}
				if n := w.count(renewal.EventRenewed, r.evAtInject); n < keys {
					t.Errorf("%d renewals while slow, want every key's (%d)", n, keys)
				}
				wantNoOutage(t, w, r)
			},
		},
		{
			name:     "server: 20 s responses (over FetchTimeout)",
			expected: "every fetch times out at 15 s and is retried; tokens expire; back ≤ FetchTimeout + BackoffMax after",
			inject:   func(w *world) { w.h.Server.SetLatency(20 * time.Second) },
			active:   2 * time.Hour,
			clear:    func(w *world) { w.h.Server.Clear() },
			bound:    func(p renewal.Policy) time.Duration { return p.FetchTimeout + p.BackoffMax },
			check: func(t *testing.T, w *world, r *result) {
				if n := w.count(renewal.EventHookTimeout, r.evAtInject); n == 0 {
					t.Error("no fetch timed out")
				}
				wantExpiredAndBack(t, w, r)
			},
		},
		faultRow("server: connection resets", "retryable: like an outage",
			mock.Fault{Kind: mock.FaultReset}, nil, wantExpiredAndBack),
		faultRow("server: 429 storm, Retry-After 2 min", "Retry-After honoured (≥ 2 min between attempts of a key); back ≤ 2 min after",
			mock.Fault{Kind: mock.FaultStatus, Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Minute},
			func(renewal.Policy) time.Duration { return 2 * time.Minute },
			func(t *testing.T, w *world, r *result) {
				wantPaced(t, r, 2*time.Minute)
				wantExpiredAndBack(t, w, r)
			}),
	}
	for _, b := range []struct {
		name string
		kind mock.BodyFault
	}{{"HTML", mock.BodyHTML}, {"empty", mock.BodyEmpty}, {"huge (80 KiB)", mock.BodyHuge}, {"garbage", mock.BodyGarbage}} {
		rows = append(rows, permanentRow("server: "+b.name+" body", mock.Fault{Kind: mock.FaultBody, Body: b.kind}))
	}
	rows = append(rows,
		permanentRow("server: tokens for the wrong user", mock.Fault{Kind: mock.FaultWrongUser}),
		permanentRow("server: tokens for the wrong app", mock.Fault{Kind: mock.FaultWrongApp}),
		row{
			name:     "server: tokens for the wrong channel",
			expected: "refused by the fetcher (permanent); RTM renewals unaffected; channels rejoined ≤ BackoffLong after",
			inject:   func(w *world) { w.h.Server.Inject(mock.Fault{Kind: mock.FaultWrongChannel}) },
			active:   2 * time.Hour,
			clear:    func(w *world) { w.h.Server.Clear() },
			bound:    func(p renewal.Policy) time.Duration { return p.BackoffLong },
			check: func(t *testing.T, w *world, r *result) {
				if r.maxOut != 0 || r.relogins != 0 {
					t.Errorf("the login suffered from wrong-channel RTC tokens: logged out %v, %d relogins", r.maxOut, r.relogins)
				}
				if r.rejoins == 0 {
					t.Error("no stream channel was rejoined")
				}
				wantPaced(t, r, w.policy.BackoffLong/2)
			},
		},
		faultRow("server: already-expired tokens", "refused by the fetcher (retryable); like an outage",
			mock.Fault{Kind: mock.FaultExpired}, nil, wantExpiredAndBack),
	)
	return rows
}

// outage is a row with a full token-server outage of duration d.
func outage(name, expected string, d time.Duration, cfg func(*mock.HarnessConfig), edit func(*row), check func(*testing.T, *world, *result)) row {
	r := row{
		name: name, expected: expected, cfg: cfg, active: d, check: check,
		inject: func(w *world) { w.h.Server.Outage(true) },
		clear:  func(w *world) { w.h.Server.Outage(false) },
	}
	if edit != nil {
		edit(&r)
	}
	return r
}

// faultRow is a row with fault f on every token request for 2 h.
func faultRow(name, expected string, f mock.Fault, bound func(renewal.Policy) time.Duration, check func(*testing.T, *world, *result)) row {
	return row{
		name: name, expected: expected, active: 2 * time.Hour, bound: bound, check: check,
		inject: func(w *world) { w.h.Server.Inject(f) },
		clear:  func(w *world) { w.h.Server.Clear() },
	}
}

// permanentRow is a faultRow for a fault the fetcher classifies permanent:
// retried every BackoffLong (jittered down by up to half), never faster.
func permanentRow(name string, f mock.Fault) row {
	return faultRow(name, "refused by the fetcher (permanent): retried every ≤ BackoffLong, never reaches the SDK; back ≤ BackoffLong after",
		f, func(p renewal.Policy) time.Duration { return p.BackoffLong },
		func(t *testing.T, w *world, r *result) {
			wantPaced(t, r, w.policy.BackoffLong/2)
			wantExpiredAndBack(t, w, r)
		})
}

// flaky5xx returns a during hook that, before each step, makes the first
// token request of the step fail with a 5xx with probability p.
func flaky5xx(p float64) func(w *world) {
	statuses := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	return func(w *world) {
		w.h.Server.Clear()
		if w.rng.Float64() < p {
			w.h.Server.FailNext(1, statuses[w.rng.IntN(len(statuses))])
		}
	}
}

// wantNoOutage: the session was never logged out and no token expired.
func wantNoOutage(t *testing.T, w *world, r *result) {
	t.Helper()
	if r.maxOut != 0 || r.expiries != 0 || r.relogins != 0 {
		t.Errorf("logged out %v, %d expiries, %d relogins; want none", r.maxOut, r.expiries, r.relogins)
	}
}

// wantExpiredAndBack: the fault outlived the tokens, so they expired and
// the relogin path ran.
func wantExpiredAndBack(t *testing.T, w *world, r *result) {
	t.Helper()
	if r.expiries == 0 || r.relogins == 0 {
		t.Errorf("%d expiries, %d relogins: the fault should have outlived the tokens", r.expiries, r.relogins)
	}
	if r.maxOut == 0 {
		t.Error("never logged out, though the tokens expired")
	}
}

// wantPaced: while the fault was on, each key's attempts were at least gap
// apart, so the number of requests is bounded by the duration.
func wantPaced(t *testing.T, r *result, gap time.Duration) {
	t.Helper()
	n := r.reqAtClear - r.reqAtInject
	max := keys * (int(r.clearAt.Sub(r.injectAt)/gap) + 1)
	if n > max {
		t.Errorf("%d requests in %v: attempts closer than %v apart (at most %d expected)", n, r.clearAt.Sub(r.injectAt), gap, max)
	}
	r.note = fmt.Sprintf("%d requests while on", n)
}
