package mock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/tokenclient"
)

// DefaultHarnessStart is the simulated time at which a [Harness] starts
// when HarnessConfig.Start is zero: a fixed instant, so runs repeat exactly.
var DefaultHarnessStart = time.Date(2026, time.January, 5, 9, 0, 0, 0, time.UTC)

// HarnessConfig configures a [Harness]. The zero value is usable: one
// session "bot" with no stream channels and one-hour tokens.
type HarnessConfig struct {
	// Seed makes the run repeatable: the token server's salts and the
	// engine's jitter derive from it. The same seed and the same calls give
	// the same timeline.
	Seed int64
	// Start is the simulated time at which the run begins. If zero,
	// DefaultHarnessStart.
	Start time.Time
	// Sessions is the number of Signaling clients. If zero, one.
	Sessions int
	// UserID is the user ID of a single session, or the prefix of the
	// numbered user IDs ("bot-1", "bot-2", …) when Sessions > 1. If empty,
	// "bot".
	UserID string
	// Channels are the stream channels every session joins after login.
	Channels []string
	// TTL is the token lifetime asked of the token server. If zero, one
	// hour.
	TTL time.Duration
	// Policy is every session's renewal policy; zero fields take the
	// engine's defaults.
	Policy renewal.Policy
	// Workers is the engine's worker count. If zero, one: with one worker
	// every run with the same seed is identical. More workers are faster
	// and still correct, but the order of simultaneous events may vary.
	Workers int
	// Resolution, when positive, rounds every step of simulated time up to
	// a multiple of it, so one step handles every event in the window.
	// Large simulations use it to trade timing precision (signals are
	// delivered up to Resolution late) for speed. Zero steps to each due
	// time exactly.
	Resolution time.Duration
	// Logger receives the engine's and the fakes' log lines. Nil discards
	// them. Tokens are never logged.
	Logger *slog.Logger
	// OnEvent, if set, receives every session's renewal events after the
	// harness has counted them. It must not block.
	OnEvent func(renewal.Event)
}

// Harness wires a [TokenServer], one fake [Signaling] per session and a
// tokenclient.Client per session on one renewal engine, all on a
// *clock.Mock, so tests can simulate days of token expiry in milliseconds
// and assert on what happened.
//
// Advance is deterministic: it steps the mock clock to each instant at which
// something is due (an engine timer, a will-expire or FAILED signal of a
// fake SDK, a token-server response delayed by latency), and before each
// step waits until the whole system is idle. Waiting never sleeps on the
// real clock for a fixed time; the harness watches the engine's
// [renewal.Engine.Activity] and the fakes' counters of calls blocked on the
// clock.
//
// A Harness is driven from one goroutine: Start, Advance, Close and the
// assertion helpers must not be called concurrently. The fakes may be
// scripted (faults, kicks) from that goroutine between Advance calls.
type Harness struct {
	// Clock is the mock clock everything runs on. Advance moves it; do not
	// move it directly while sessions run.
	Clock *clock.Mock
	// Server is the token server every session fetches from (in memory,
	// with the agora-token-service preset).
	Server *TokenServer
	// Engine is the renewal engine shared by every session.
	Engine *renewal.Engine

	cfg      HarnessConfig
	sessions []*HarnessSession
	sched    sigSchedule
	started  bool
	closed   bool
	start    time.Time
}

// HarnessSession is one simulated Signaling client of a [Harness].
type HarnessSession struct {
	// UserID is the session's Signaling user ID.
	UserID string
	// SDK is the fake Signaling SDK the client drives; script faults on it.
	SDK *Signaling
	// Client is the tokenclient.Client that keeps the session
	// authenticated.
	Client *tokenclient.Client

	h      *Harness
	idx    int
	item   *sigItem // position in the signal schedule (guarded by h.sched.mu)
	mu     sync.Mutex
	counts [32]int // renewal events by kind
}

// NewHarness builds a harness. It starts nothing; call Start.
func NewHarness(cfg HarnessConfig) (*Harness, error) {
	if cfg.Sessions < 0 || cfg.Workers < 0 || cfg.Resolution < 0 || cfg.TTL < 0 {
		return nil, errors.New("mock: HarnessConfig has a negative Sessions, Workers, Resolution or TTL")
	}
	if cfg.Sessions == 0 {
		cfg.Sessions = 1
	}
	if cfg.UserID == "" {
		cfg.UserID = "bot"
	}
	if cfg.TTL == 0 {
		cfg.TTL = time.Hour
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultHarnessStart
	}
	clk := clock.NewMock()
	clk.Set(cfg.Start)
	h := &Harness{Clock: clk, cfg: cfg, start: cfg.Start}
	h.Server = NewTokenServer(TokenServerConfig{Clock: clk, Seed: cfg.Seed, Logger: cfg.Logger})
	eng, err := renewal.NewEngine(renewal.Config{
		Clock: clk, Workers: cfg.Workers, Seed: cfg.Seed, Logger: cfg.Logger,
		WatchdogInterval: -1, // a mock clock never suspends; the watchdog would only add steps
	})
	if err != nil {
		return nil, fmt.Errorf("mock: harness engine: %w", err)
	}
	h.Engine = eng
	f, err := fetcher.NewHTTP(TokenServerURL,
		fetcher.WithTransport(h.Server.Transport()),
		fetcher.WithClock(clk),
		fetcher.WithAppID(h.Server.AppID()),
		fetcher.WithRetry(0, 0, 0), // the engine retries on the mock clock; in-request waits would use real time
	)
	if err != nil {
		return nil, fmt.Errorf("mock: harness fetcher: %w", err)
	}
	h.sched.init(cfg.Sessions)
	for i := 0; i < cfg.Sessions; i++ {
		user := cfg.UserID
		if cfg.Sessions > 1 {
			user += "-" + strconv.Itoa(i+1)
		}
		hs := &HarnessSession{UserID: user, h: h, idx: i}
		hs.SDK = NewSignaling(SignalingConfig{
			AppID: h.Server.AppID(), Certificate: h.Server.Certificate(), UserID: user,
			Clock: clk, Logger: cfg.Logger,
		})
		c, err := tokenclient.New(tokenclient.Config{
			UserID:  user,
			Fetcher: f,
			SDK:     &trackedSDK{s: hs},
			TTL:     cfg.TTL,
			Policy:  cfg.Policy,
			Engine:  eng,
			OnEvent: hs.onEvent,
		})
		if err != nil {
			return nil, fmt.Errorf("mock: harness session %q: %w", user, err)
		}
		hs.Client = c
		hs.SDK.OnWillExpire(c.WillExpire)
		hs.SDK.OnLinkState(c.LinkState)
		h.sessions = append(h.sessions, hs)
		h.sched.add(hs)
	}
	return h, nil
}

// Sessions returns the harness's sessions in order.
func (h *Harness) Sessions() []*HarnessSession { return h.sessions }

// Session returns session i (0-based).
func (h *Harness) Session(i int) *HarnessSession { return h.sessions[i] }

// Now returns the simulated time.
func (h *Harness) Now() time.Time { return h.Clock.Now() }

// Elapsed returns the simulated time since the harness started.
func (h *Harness) Elapsed() time.Duration { return h.Clock.Now().Sub(h.start) }

// Start starts the engine, logs every session in and joins its stream
// channels, then waits until the system is idle. Simulated time does not
// move unless a token-server latency or a hanging hook needs it to.
func (h *Harness) Start(ctx context.Context) error {
	if h.started {
		return errors.New("mock: harness already started")
	}
	h.started = true
	if err := h.Engine.Start(); err != nil {
		return fmt.Errorf("mock: harness: %w", err)
	}
	for _, s := range h.sessions {
		if err := h.drive(ctx, s.Client.Start); err != nil {
			return fmt.Errorf("mock: harness: start %q: %w", s.UserID, err)
		}
		for _, ch := range h.cfg.Channels {
			join := func(ctx context.Context) error { return s.Client.JoinStream(ctx, ch) }
			if err := h.drive(ctx, join); err != nil {
				return fmt.Errorf("mock: harness: %q join %q: %w", s.UserID, ch, err)
			}
		}
	}
	h.settle()
	return nil
}

// drive runs a blocking client call while stepping simulated time, so a
// call that waits on the mock clock (a slow token server, a hanging hook)
// completes instead of deadlocking the harness.
func (h *Harness) drive(ctx context.Context, call func(context.Context) error) error {
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		// Time moves only while the engine has work parked on the clock:
		// before the call has handed its operation to the engine, stepping
		// would let simulated time pass under a call that has not started.
		a := h.Engine.Activity()
		if a.Due != 0 || a.InFlight == 0 || !h.parked(a) {
			runtime.Gosched()
			continue
		}
		if s := h.sched.popDue(h.Clock.Now()); s != nil {
			s.SDK.Tick()
			continue
		}
		next, ok := h.nextDue()
		if !ok {
			runtime.Gosched()
			continue
		}
		h.step(next)
	}
}

// Advance moves simulated time forward by d, stepping through every due
// time and letting the system settle at each. It returns when the clock
// shows the start time plus d and the system is idle.
func (h *Harness) Advance(d time.Duration) {
	h.AdvanceTo(h.Clock.Now().Add(d))
}

// AdvanceTo is Advance to an absolute simulated time. A time in the past
// only lets the system settle.
func (h *Harness) AdvanceTo(target time.Time) {
	h.sched.markAll()
	for {
		h.settle()
		next, ok := h.nextDue()
		if !ok || next.After(target) {
			break
		}
		if r := h.cfg.Resolution; r > 0 {
			next = roundUp(next, h.start, r)
			if next.After(target) {
				next = target
			}
		}
		h.step(next)
	}
	if target.After(h.Clock.Now()) {
		h.step(target)
	}
	h.settle()
}

// step sets the mock clock to t (never backwards).
func (h *Harness) step(t time.Time) {
	if t.After(h.Clock.Now()) {
		h.Clock.Set(t)
		h.Engine.Poke()
	}
}

func roundUp(t, origin time.Time, r time.Duration) time.Time {
	off := t.Sub(origin)
	if rem := off % r; rem != 0 {
		off += r - rem
	}
	return origin.Add(off)
}

// Close closes every client and the engine, waiting for in-flight work.
// Simulated time is stepped if closing needs it (a hook hanging until its
// timeout).
func (h *Harness) Close(ctx context.Context) error {
	if h.closed {
		return nil
	}
	h.closed = true
	var errs []error
	for _, s := range h.sessions {
		errs = append(errs, h.drive(ctx, s.Client.Close))
	}
	errs = append(errs, h.drive(ctx, h.Engine.Close))
	return errors.Join(errs...)
}
