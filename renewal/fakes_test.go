package renewal

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// Test doubles for the renewal engine's internal tests. They run inside
// synctest bubbles: every wait is on a channel or a context.

// wallClock is a wall clock that can be moved independently of the
// monotonic (synctest) clock, to simulate suspends and clock jumps.
type wallClock struct{ offset atomic.Int64 }

func (w *wallClock) now() time.Time       { return time.Now().Round(0).Add(time.Duration(w.offset.Load())) }
func (w *wallClock) jump(d time.Duration) { w.offset.Add(int64(d)) }

// fakeFetcher mints tokens with a fixed lifetime; fail, when set, decides
// per request whether to fail; gate, when set, blocks each fetch until a
// value arrives (ignoring ctx when ignoreCtx is set).
type fakeFetcher struct {
	mu        sync.Mutex
	life      time.Duration
	wall      func() time.Time
	n         int
	reqs      []fetcher.Request
	fail      func(req fetcher.Request) error
	gate      chan struct{}
	ignoreCtx bool
}

func (f *fakeFetcher) Fetch(ctx context.Context, req fetcher.Request) (fetcher.Token, error) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.reqs = append(f.reqs, req)
	fail, gate, ignore := f.fail, f.gate, f.ignoreCtx
	f.mu.Unlock()
	if gate != nil {
		if ignore {
			<-gate
		} else {
			select {
			case <-gate:
			case <-ctx.Done():
				return fetcher.Token{}, fmt.Errorf("fake fetch: %w", ctx.Err())
			}
		}
	}
	if fail != nil {
		if err := fail(req); err != nil {
			return fetcher.Token{}, err
		}
	}
	now := time.Now().Round(0)
	if f.wall != nil {
		now = f.wall()
	}
	return fetcher.Token{
		Raw:     fmt.Sprintf("007fake-%s-%s-%04d-padding", req.Kind, req.Channel, n),
		Request: req, IssuedAt: now, ExpiresAt: now.Add(f.life), ReceivedAt: now, Lifetime: f.life,
	}, nil
}

func (f *fakeFetcher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *fakeFetcher) setFail(fn func(fetcher.Request) error) {
	f.mu.Lock()
	f.fail = fn
	f.mu.Unlock()
}

var errServerDown = &fetcher.Error{Class: fetcher.Retryable, StatusCode: 503, Err: fetcher.ErrStatus, Detail: "503"}

// sdkCall is one recorded SDK call.
type sdkCall struct {
	method, channel, token string
	at                     time.Time
}

// fakeSDK implements SDK, StreamSDK and SessionRestorer. Per method it can
// return queued errors, hang until ctx ends, hang ignoring ctx until
// released, or panic. It checks that login, logout and renew never overlap.
type fakeSDK struct {
	mu       sync.Mutex
	calls    []sdkCall
	errs     map[string][]error
	hang     map[string]int
	hangHard map[string]chan struct{}
	panics   map[string]int
	active   int
	overlap  int
	parked   int // calls waiting for their context to end
	restored [][]string
}

func newFakeSDK() *fakeSDK {
	return &fakeSDK{errs: map[string][]error{}, hang: map[string]int{}, hangHard: map[string]chan struct{}{}, panics: map[string]int{}}
}

func (f *fakeSDK) failNext(method string, errs ...error) {
	f.mu.Lock()
	f.errs[method] = append(f.errs[method], errs...)
	f.mu.Unlock()
}

func (f *fakeSDK) do(ctx context.Context, method, ch, tok string) error {
	f.mu.Lock()
	f.calls = append(f.calls, sdkCall{method, ch, tok, time.Now()})
	login := method == "login" || method == "logout" || method == "renew"
	if login {
		f.active++
		if f.active > 1 {
			f.overlap++
		}
	}
	var err error
	if q := f.errs[method]; len(q) > 0 {
		err, f.errs[method] = q[0], q[1:]
	}
	hang := f.hang[method] > 0
	if hang {
		f.hang[method]--
	}
	hard := f.hangHard[method]
	delete(f.hangHard, method)
	pan := f.panics[method] > 0
	if pan {
		f.panics[method]--
	}
	f.mu.Unlock()
	defer func() {
		if login {
			f.mu.Lock()
			f.active--
			f.mu.Unlock()
		}
	}()
	switch {
	case pan:
		panic("fake SDK exploded holding " + tok)
	case hard != nil:
		<-hard
		return ctx.Err()
	case hang:
		f.mu.Lock()
		f.parked++
		f.mu.Unlock()
		<-ctx.Done()
		f.mu.Lock()
		f.parked--
		f.mu.Unlock()
		return ctx.Err()
	}
	return err
}

func (f *fakeSDK) Login(ctx context.Context, tok string) error { return f.do(ctx, "login", "", tok) }
func (f *fakeSDK) Logout(ctx context.Context) error            { return f.do(ctx, "logout", "", "") }
func (f *fakeSDK) RenewToken(ctx context.Context, tok string) error {
	return f.do(ctx, "renew", "", tok)
}
func (f *fakeSDK) JoinStream(ctx context.Context, ch, tok string) error {
	return f.do(ctx, "join", ch, tok)
}
func (f *fakeSDK) RenewStreamToken(ctx context.Context, ch, tok string) error {
	return f.do(ctx, "renewStream", ch, tok)
}
func (f *fakeSDK) LeaveStream(ctx context.Context, ch string) error {
	return f.do(ctx, "leave", ch, "")
}
func (f *fakeSDK) RestoreSession(ctx context.Context, chs []string) error {
	f.mu.Lock()
	f.restored = append(f.restored, append([]string(nil), chs...))
	f.mu.Unlock()
	return f.do(ctx, "restore", "", "")
}

// count returns how many calls of method (on channel, if given) were made.
func (f *fakeSDK) count(method string, channel ...string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.method == method && (len(channel) == 0 || c.channel == channel[0]) {
			n++
		}
	}
	return n
}

func (f *fakeSDK) methods() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if c.channel != "" {
			out = append(out, c.method+":"+c.channel)
		} else {
			out = append(out, c.method)
		}
	}
	return out
}

// loginOnlySDK has no stream support.
type loginOnlySDK struct{ f *fakeSDK }

func (l loginOnlySDK) Login(ctx context.Context, t string) error      { return l.f.Login(ctx, t) }
func (l loginOnlySDK) Logout(ctx context.Context) error               { return l.f.Logout(ctx) }
func (l loginOnlySDK) RenewToken(ctx context.Context, t string) error { return l.f.RenewToken(ctx, t) }

// recorder collects events.
type recorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recorder) on(ev Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

func (r *recorder) all(kind EventKind) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, ev := range r.evs {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func (r *recorder) count(kind EventKind) int { return len(r.all(kind)) }

// rig is an engine with one session on fakes.
type rig struct {
	t    *testing.T
	e    *Engine
	s    *Session
	f    *fakeFetcher
	sdk  *fakeSDK
	rec  *recorder
	wall *wallClock
}

type rigOpt func(*Config, *SessionConfig)

func noJitter(c *Config, s *SessionConfig) { s.Policy.JitterFraction = -1 }

// atLead opts the session out of the first-renewal spread, for tests about
// the lead itself.
func atLead(c *Config, s *SessionConfig) { s.Policy.FirstRenewal = FirstRenewalAtLead }

// newRig builds and starts an engine and a session (not yet logged in).
// Call it inside a synctest bubble.
func newRig(t *testing.T, life time.Duration, opts ...rigOpt) *rig {
	t.Helper()
	r := &rig{t: t, sdk: newFakeSDK(), rec: &recorder{}, wall: &wallClock{}}
	r.f = &fakeFetcher{life: life, wall: r.wall.now}
	cfg := Config{Workers: 2, Seed: 1}
	scfg := SessionConfig{UserID: "bot-42", Fetcher: r.f, SDK: r.sdk, OnEvent: r.rec.on}
	for _, o := range opts {
		o(&cfg, &scfg)
	}
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.wall = r.wall.now
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	s, err := e.NewSession(scfg)
	if err != nil {
		t.Fatal(err)
	}
	r.e, r.s = e, s
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

// start logs the session in and joins channels.
func (r *rig) start(channels ...string) {
	r.t.Helper()
	if err := r.s.Start(context.Background()); err != nil {
		r.t.Fatalf("Start: %v", err)
	}
	for _, ch := range channels {
		if err := r.s.JoinStream(context.Background(), ch); err != nil {
			r.t.Fatalf("JoinStream(%q): %v", ch, err)
		}
	}
}

func (r *rig) key(channel string) KeyState {
	r.t.Helper()
	for _, ks := range r.s.State() {
		if ks.Channel == channel {
			return ks
		}
	}
	r.t.Fatalf("no key %q", channel)
	return KeyState{}
}

// untilRenewal returns the time left, on the rig's wall clock, until the
// proactive renewal of channel's key ("" for the login) is due.
func (r *rig) untilRenewal(channel string) time.Duration {
	r.t.Helper()
	return r.key(channel).NextRenewal.Sub(r.wall.now())
}

// renewsAfter advances the bubble's clock by d and checks that the SDK is
// asked to renew exactly once, at the last nanosecond of it: not 1 ns
// before. It must run inside synctest.Test.
func (r *rig) renewsAfter(d time.Duration) {
	r.t.Helper()
	before := r.sdk.count("renew")
	time.Sleep(d - time.Nanosecond)
	synctest.Wait()
	if got := r.sdk.count("renew") - before; got != 0 {
		r.t.Fatalf("renewals 1 ns before %v: %d, want 0", d, got)
	}
	time.Sleep(time.Nanosecond)
	synctest.Wait()
	if got := r.sdk.count("renew") - before; got != 1 {
		r.t.Fatalf("renewals at %v: %d, want 1", d, got)
	}
}

// usualLead reports whether lead is the usual one for a 1 h token with the
// default policy: 20 % of the lifetime plus up to 10 % jitter (12–13.2 min).
func usualLead(lead time.Duration) bool {
	return lead >= 12*time.Minute && lead <= 13*time.Minute+12*time.Second
}

func linkFailed(svc signaling.ServiceType, reason signaling.Reason, chs ...string) signaling.LinkStateEvent {
	return signaling.LinkStateEvent{Current: signaling.LinkFailed, Previous: signaling.LinkConnected, Service: svc,
		Operation: signaling.OpServerReject, ReasonCode: reason, Reason: "Token expired", AffectedChannels: chs}
}

type fetcherReq = fetcher.Request

var errForbidden = &fetcher.Error{Class: fetcher.Permanent, StatusCode: 403, Err: fetcher.ErrStatus, Detail: "403"}
