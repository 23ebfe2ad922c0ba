package main

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// simFaultHelp documents the fault profiles in the --faults flag's help.
const simFaultHelp = `  none    no faults
  flaky   30% of token requests fail (15% 503, 5% 500, 10% 429 with Retry-After 10s);
          each day, per session, a 20% chance that its next login-token renewal, and a
          20% chance that its next stream-token renewal, fail with RENEW_TOKEN_TIMEOUT
  outage  one 2h token-server outage a day (every route answers 503), starting at a
          random time of the day, the same for every session
  chaos   flaky and outage, plus 2% of token requests answered with an already
          expired token or a reset connection; each day, per session: a 2% chance
          of a forced expiry of the login token, 2% of a stream token, 2% of a
          5-minute connection loss, 1% of a renewal call that hangs until its
          timeout, 1% of a dropped will-expire warning
Faults begin once every session is up and stop an hour before the end (half the
run if shorter), so every session should be healthy at the end. Kicks are in no
profile: a kicked session stays out until the app acts (or Policy.ReloginOnKick),
so they measure a policy, not the library; test them with the mock harness.`

// simProfile is a fault profile: rates per token request and per session
// per simulated day.
type simProfile struct {
	failRate float64 // token requests answered 503, 500 or 429 (in the proportions 3:1:2)
	badRate  float64 // token requests answered with an expired token or a reset (half each)
	outages  bool    // one 2 h outage per day

	renewFail, streamRenewFail float64 // next renewal fails with RENEW_TOKEN_TIMEOUT
	expireLogin, expireStream  float64 // ExpireNow
	disconnect                 float64 // 5 min connection loss
	hang                       float64 // next renewal hangs until its timeout
	dropWarn                   float64 // next will-expire warning dropped
}

var simProfiles = map[string]*simProfile{
	"none":   {},
	"flaky":  {failRate: 0.3, renewFail: 0.2, streamRenewFail: 0.2},
	"outage": {outages: true},
	"chaos": {failRate: 0.3, badRate: 0.02, outages: true, renewFail: 0.2, streamRenewFail: 0.2,
		expireLogin: 0.02, expireStream: 0.02, disconnect: 0.02, hang: 0.01, dropWarn: 0.01},
}

const (
	simOutage     = 2 * time.Hour
	simDisconnect = 5 * time.Minute
	simQuiet      = time.Hour // no fault in the last hour of a run
	simCheckpoint = 6 * time.Hour
)

// shardFaults throws one profile's faults at one shard, deterministically
// from the seed and the shard index.
type shardFaults struct {
	o     simOptions
	p     *simProfile
	shard int
	h     *mock.Harness

	mu     sync.Mutex
	net    *rand.Rand // draws per token request, in request order
	active bool       // faults have begun
	outage bool       // an outage is on (no fault is queued then)
}

func newShardFaults(o simOptions, shard int) *shardFaults {
	return &shardFaults{o: o, p: simProfiles[o.faults], shard: shard,
		net: rand.New(rand.NewPCG(uint64(o.seed), uint64(shard)<<8|1))}
}

// wrap is the harness's WrapTransport: it decides each token request's
// fault and queues it on the server just before the request reaches it, so
// the server answers (and counts) it. With one engine worker per shard one
// request is in flight at a time, so the fault applies to that request.
func (f *shardFaults) wrap(next http.RoundTripper) http.RoundTripper {
	if f.p.failRate == 0 && f.p.badRate == 0 {
		return next
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if fault, ok := f.drawFault(); ok {
			f.h.Server.Inject(fault)
		}
		return next.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (fn roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return fn(r) }

func (f *shardFaults) drawFault() (mock.Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.active || f.outage {
		return mock.Fault{}, false
	}
	u, fail, bad := f.net.Float64(), f.p.failRate, f.p.badRate
	switch {
	case u < fail*0.5:
		return mock.Fault{Kind: mock.FaultStatus, Status: http.StatusServiceUnavailable, Times: 1}, true
	case u < fail*4/6:
		return mock.Fault{Kind: mock.FaultStatus, Status: http.StatusInternalServerError, Times: 1}, true
	case u < fail:
		return mock.Fault{Kind: mock.FaultStatus, Status: http.StatusTooManyRequests,
			RetryAfter: 10 * time.Second, Times: 1}, true
	case u < fail+bad/2:
		return mock.Fault{Kind: mock.FaultExpired, Times: 1}, true
	case u < fail+bad:
		return mock.Fault{Kind: mock.FaultReset, Times: 1}, true
	}
	return mock.Fault{}, false
}

func (f *shardFaults) setOutage(on bool) {
	f.mu.Lock()
	f.outage = on
	f.mu.Unlock()
	f.h.Server.Outage(on)
}

// simAction is something the driver does at a simulated instant; a nil do
// is a checkpoint (the driver checks for an interrupt there). what names it.
type simAction struct {
	at   time.Time
	what string
	do   func()
}

// plan turns the faults on and returns the shard's actions between start
// and end, in time order, each at a whole second.
func (f *shardFaults) plan(start, end time.Time) []simAction {
	f.mu.Lock()
	f.active = true
	f.mu.Unlock()
	length := end.Sub(start)
	last := start.Add(length - min(simQuiet, length/2)) // no fault at or after it
	const grid = time.Second
	at := func(off time.Duration) time.Time {
		if r := off % grid; r != 0 {
			off += grid - r
		}
		return start.Add(off)
	}
	var acts []simAction
	add := func(t time.Time, what string, do func()) {
		if t.Before(last) {
			acts = append(acts, simAction{at: t, what: what, do: do})
		}
	}
	for off := simCheckpoint; off < length; off += simCheckpoint {
		acts = append(acts, simAction{at: at(off), what: "checkpoint"})
	}
	day := 24 * time.Hour
	days := int((length + day - 1) / day)
	if f.p.outages { // one schedule for every shard: the token server is shared
		rng := rand.New(rand.NewPCG(uint64(f.o.seed), 0x6f757461676573))
		for d := range days {
			on := time.Duration(d)*day + time.Duration(rng.Int64N(int64(day-simOutage)))
			if t := at(on); t.Before(last) {
				acts = append(acts, simAction{at: t, what: "outage", do: func() { f.setOutage(true) }})
				off := minTime(at(on+simOutage), last)
				acts = append(acts, simAction{at: off, what: "outage over", do: func() { f.setOutage(false) }})
			}
		}
	}
	rng := rand.New(rand.NewPCG(uint64(f.o.seed), uint64(f.shard)<<8|2))
	chance := func(p float64) (time.Duration, bool) {
		if p == 0 || rng.Float64() >= p {
			return 0, false
		}
		return time.Duration(rng.Int64N(int64(day))), true
	}
	p := f.p
	for d := range days {
		base := time.Duration(d) * day
		for _, s := range f.h.Sessions() {
			sdk, user := s.SDK, s.UserID
			if t, ok := chance(p.renewFail); ok {
				add(at(base+t), "renew fails "+user, func() { sdk.FailNext(mock.CallRenew, 1, signaling.CodeRenewTokenTimeout) })
			}
			if t, ok := chance(p.expireLogin); ok {
				add(at(base+t), "expire login "+user, func() { sdk.ExpireNow("") })
			}
			if t, ok := chance(p.disconnect); ok {
				if on := at(base + t); on.Before(last) { // the reconnect may fall in the quiet hour
					acts = append(acts, simAction{at: on, what: "disconnect " + user, do: func() { sdk.Disconnect() }},
						simAction{at: at(base + t + simDisconnect), what: "reconnect " + user, do: func() { sdk.Reconnect() }})
				}
			}
			if t, ok := chance(p.hang); ok {
				add(at(base+t), "renew hangs "+user, func() { sdk.HangNext(mock.CallRenew, 1) })
			}
			if t, ok := chance(p.dropWarn); ok {
				add(at(base+t), "drop warning "+user, func() { sdk.DropWillExpire(1) })
			}
			if f.o.channels == 0 {
				continue
			}
			if t, ok := chance(p.streamRenewFail); ok {
				add(at(base+t), "stream renew fails "+user, func() { sdk.FailNext(mock.CallRenewStream, 1, signaling.CodeRenewTokenTimeout) })
			}
			if t, ok := chance(p.expireStream); ok {
				ch := "ch-" + strconv.Itoa(1+rng.IntN(f.o.channels))
				add(at(base+t), "expire "+ch+" "+user, func() { sdk.ExpireNow(ch) })
			}
		}
	}
	slices.SortStableFunc(acts, func(a, b simAction) int { return a.at.Compare(b.at) })
	return acts
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
