package reliability_test

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
	"github.com/tokenkeeper/tokenkeeper/tokenclient"
)

// A rig wires the library by hand — mock.TokenServer, a fetcher.HTTP of
// our own, one renewal.Engine, tokenclient.Clients and mock.Signaling fakes
// — for the scenarios the Harness cannot express: a client whose wall
// clock differs from the world's, a transport that sees every minted
// token, a logger on the fetcher. It runs on the real clock inside a
// testing/synctest bubble (so time is fake and instant) and must be built
// and used inside one. The fakes fire their signals from Signaling.Run
// goroutines.

// rigConfig configures a rig. Zero fields take the defaults noted.
type rigConfig struct {
	seed     int64
	users    []string // default {"bot"}
	channels []string
	ttl      time.Duration // default 1 h
	policy   renewal.Policy
	logger   *slog.Logger // nil: discard
	onEvent  func(renewal.Event)
	// clientClock is the clock of the engine and the fetcher (the client's
	// process). Nil: the real clock.
	clientClock clock.Clock
	// worldClock is the clock of the token server and the fakes. Nil: the
	// real clock.
	worldClock clock.Clock
	// transport wraps the token server's in-memory transport.
	transport func(http.RoundTripper) http.RoundTripper
	// onToken sees every token the clients hand to an SDK.
	onToken func(string)
}

type rig struct {
	t    *testing.T
	cfg  rigConfig
	srv  *mock.TokenServer
	eng  *renewal.Engine
	sess []*rigSession

	stop context.CancelFunc
	wg   sync.WaitGroup

	mu     sync.Mutex
	events []renewal.Event
	errs   []error // every error the library returned to the rig
}

type rigSession struct {
	user   string
	sdk    *mock.Signaling
	client *tokenclient.Client
}

func newRig(t *testing.T, cfg rigConfig) *rig {
	t.Helper()
	if len(cfg.users) == 0 {
		cfg.users = []string{"bot"}
	}
	if cfg.ttl == 0 {
		cfg.ttl = time.Hour
	}
	if cfg.clientClock == nil {
		cfg.clientClock = clock.New()
	}
	if cfg.worldClock == nil {
		cfg.worldClock = clock.New()
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	r := &rig{t: t, cfg: cfg}
	r.srv = mock.NewTokenServer(mock.TokenServerConfig{Clock: cfg.worldClock, Seed: cfg.seed, Logger: cfg.logger})
	rt := r.srv.Transport()
	if cfg.transport != nil {
		rt = cfg.transport(rt)
	}
	f, err := fetcher.NewHTTP(mock.TokenServerURL, fetcher.WithTransport(rt), fetcher.WithClock(cfg.clientClock),
		fetcher.WithAppID(r.srv.AppID()), fetcher.WithLogger(cfg.logger))
	if err != nil {
		t.Fatalf("fetcher: %v", err)
	}
	r.eng, err = renewal.NewEngine(renewal.Config{Clock: cfg.clientClock, Workers: 2, Seed: cfg.seed,
		Logger: cfg.logger, OnEvent: r.onEvent})
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	for _, u := range cfg.users {
		s := &rigSession{user: u}
		s.sdk = mock.NewSignaling(mock.SignalingConfig{AppID: r.srv.AppID(), Certificate: r.srv.Certificate(),
			UserID: u, Clock: cfg.worldClock, Logger: cfg.logger})
		var sdk signaling.SDK = s.sdk
		if cfg.onToken != nil {
			sdk = tokenSpy{Signaling: s.sdk, seen: cfg.onToken}
		}
		s.client, err = tokenclient.New(tokenclient.Config{UserID: u, Fetcher: f, SDK: sdk, TTL: cfg.ttl,
			Policy: cfg.policy, Engine: r.eng, OnEvent: r.onEvent})
		if err != nil {
			t.Fatalf("client %q: %v", u, err)
		}
		s.sdk.OnWillExpire(s.client.WillExpire)
		s.sdk.OnLinkState(s.client.LinkState)
		r.sess = append(r.sess, s)
	}
	return r
}

func (r *rig) onEvent(ev renewal.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	if r.cfg.onEvent != nil {
		r.cfg.onEvent(ev)
	}
}

// keep records an error the library returned.
func (r *rig) keep(err error) error {
	if err != nil {
		r.mu.Lock()
		r.errs = append(r.errs, err)
		r.mu.Unlock()
	}
	return err
}

// start starts the engine and the fakes' signal loops, logs every session
// in and joins its channels.
func (r *rig) start() {
	r.t.Helper()
	if err := r.eng.Start(); err != nil {
		r.t.Fatalf("engine start: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	r.stop = stop
	for _, s := range r.sess {
		r.wg.Add(1)
		go func() { defer r.wg.Done(); s.sdk.Run(ctx) }()
	}
	for _, s := range r.sess {
		if err := r.keep(s.client.Start(ctx)); err != nil {
			r.t.Fatalf("start %q: %v", s.user, err)
		}
		for _, ch := range r.cfg.channels {
			if err := r.keep(s.client.JoinStream(ctx, ch)); err != nil {
				r.t.Fatalf("%q join %q: %v", s.user, ch, err)
			}
		}
	}
	synctest.Wait()
}

// close closes the clients, the engine and the signal loops.
func (r *rig) close() {
	ctx := context.Background()
	for _, s := range r.sess {
		if err := r.keep(s.client.Close(ctx)); err != nil {
			r.t.Errorf("close %q: %v", s.user, err)
		}
	}
	if err := r.keep(r.eng.Close(ctx)); err != nil {
		r.t.Errorf("engine close: %v", err)
	}
	r.stop()
	r.wg.Wait()
}

// sleep lets d of (fake) time pass and waits until the bubble is idle.
func (r *rig) sleep(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// healthy: every session is CONNECTED and joined to all its channels.
func (r *rig) healthy() bool {
	for _, s := range r.sess {
		if s.sdk.State() != signaling.LinkConnected || !slices.Equal(s.sdk.Joined(), sorted(r.cfg.channels)) {
			return false
		}
	}
	return true
}

// settled: healthy, and every key holds a fresh token.
func (r *rig) settled() bool {
	if !r.healthy() {
		return false
	}
	for _, s := range r.sess {
		for _, k := range s.client.State() {
			if k.Phase != renewal.PhaseFresh {
				return false
			}
		}
	}
	return true
}

// pollUntil lets time pass a second at a time until cond holds or limit
// has passed; it returns the time that passed and whether cond held. The
// result is exact to the second.
func (r *rig) pollUntil(limit time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) >= limit {
			return time.Since(start), false
		}
		r.sleep(time.Second)
	}
}

// count returns the number of events of kind k from the i-th on.
func (r *rig) count(k renewal.EventKind, from int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events[from:] {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

func (r *rig) nEvents() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// stats sums the fakes' counters.
func (r *rig) stats() mock.SignalingStats {
	var sum mock.SignalingStats
	for _, s := range r.sess {
		st := s.sdk.Stats()
		sum.Logins += st.Logins
		sum.Renewals += st.Renewals + st.StreamRenewals
		sum.WillExpireSignals += st.WillExpireSignals
		sum.FailedSignals += st.FailedSignals
		sum.ExpiredTokenUses += st.ExpiredTokenUses
		sum.RejectedTokens += st.RejectedTokens
		sum.LoggedOut += st.LoggedOut
		sum.MaxLoggedOut = max(sum.MaxLoggedOut, st.MaxLoggedOut)
	}
	return sum
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// tokenSpy is an SDK adapter that shows every token to seen before passing
// the call to the fake.
type tokenSpy struct {
	*mock.Signaling
	seen func(string)
}

func (s tokenSpy) Login(ctx context.Context, token string) error {
	s.seen(token)
	return s.Signaling.Login(ctx, token)
}

func (s tokenSpy) RenewToken(ctx context.Context, token string) error {
	s.seen(token)
	return s.Signaling.RenewToken(ctx, token)
}

func (s tokenSpy) JoinStream(ctx context.Context, channel, token string) error {
	s.seen(token)
	return s.Signaling.JoinStream(ctx, channel, token)
}

func (s tokenSpy) RenewStreamToken(ctx context.Context, channel, token string) error {
	s.seen(token)
	return s.Signaling.RenewStreamToken(ctx, channel, token)
}

// offsetClock is a clock.Clock whose Now is another clock's plus an offset
// the test moves; its timers run on the other clock. Moving the offset
// models a wall clock that is set, or a suspend (the wall clock moves on,
// timers do not). Since time.Time.Add shifts a monotonic reading with the
// wall reading, the times it returns move both together: a consumer cannot
// tell the jump from elapsed time.
type offsetClock struct {
	clock.Clock
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) jump(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

func (c *offsetClock) offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.off
}

func (c *offsetClock) Now() time.Time                  { return c.Clock.Now().Add(c.offset()) }
func (c *offsetClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c *offsetClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }
func (c *offsetClock) WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	return c.Clock.WithDeadline(parent, d.Add(-c.offset()))
}
