package mock

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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
	// numbered user IDs ("bot-1", "bot-2", …) when Sessions > 1 or
	// FirstUser is set. If empty, "bot".
	UserID string
	// FirstUser, when positive, numbers the user IDs from it ("bot-101",
	// "bot-102", … for 101) even for a single session, so several harnesses
	// (shards of one large simulation) give every session a distinct user
	// ID. Zero numbers from 1, and only when Sessions > 1.
	FirstUser int
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
	// Resolution, when positive, delivers the fakes' time-based signals
	// (will-expire warnings, FAILED at a deadline) at the next multiple of
	// it, counted from Start: up to Resolution late, several in one step.
	// The engine's own timers (renewals, retries, timeouts) stay exact, so
	// a run stays repeatable. Steps cost no real time, so Resolution is
	// rarely needed; zero delivers every signal at its exact instant.
	Resolution time.Duration
	// Logger receives the engine's and the fakes' log lines. Nil discards
	// them (without formatting them). Tokens are never logged.
	Logger *slog.Logger
	// WrapTransport, if set, wraps the in-memory transport through which
	// every session fetches from Server, to add faults the TokenServer does
	// not script (a random share of failed requests, say). The wrapper is
	// called from the engine's workers; with Workers = 1, one request at a
	// time, in a deterministic order.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// OnEvent, if set, receives every session's renewal events after the
	// harness has counted them. It must not block.
	OnEvent func(renewal.Event)
}

// Harness wires a [TokenServer], one fake [Signaling] per session and a
// tokenclient.Client per session on one renewal engine, all on a simulated
// clock ([HarnessClock], built on clock.Mock), so tests can simulate days
// of token expiry in milliseconds and assert on what happened.
//
// Advance is deterministic: it steps the clock to each instant at which
// something is due (an engine timer, a will-expire or FAILED signal of a
// fake SDK, a token-server response delayed by latency), one instant at a
// time, and before each step waits until the whole system is idle. No
// fixed real-time sleep decides anything: the harness watches the engine's
// [renewal.Engine.Activity] and the fakes' counters of calls blocked on the
// clock. It works inside a testing/synctest bubble too.
//
// A step costs no real time beyond the work it causes: the clock is a
// [HarnessClock], which pauses (1 ms, inherited from clock.Mock) only to
// fire a timer — a hanging hook's timeout, a token-server latency.
//
// Assert with [Harness.Check] (or [HarnessSession.Check]), [Harness.Summary],
// [Harness.Events], [Harness.Renewals], [Harness.ServerRequests],
// [Harness.MaxLoggedOut] and the timelines ([Harness.SessionTimeline]).
//
// A Harness is driven from one goroutine: Start, Advance, Close, the
// session calls and the assertion helpers must not be called concurrently.
// The fakes and the server may be scripted (faults, kicks, forced expiries)
// from that goroutine between harness calls; callbacks that scripting fires
// are held until the harness runs again (see Start), so with Workers = 1
// the same seed and the same script give the same run, event for event.
type Harness struct {
	// Clock is the simulated clock everything runs on. Advance moves it.
	// Moving it directly (Set, Add: a clock jump) does not wake the engine;
	// call Engine.Poke after it.
	Clock *HarnessClock
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
	held     heldSignals
	start    time.Time
}

// engineClock is the clock the harness gives the engine: Clock for the time
// and every timer but the scheduler's, whose timers are parked on a mock
// that never moves. The harness knows from Engine.Activity when the
// scheduler has something due, steps Clock to that instant and pokes the
// scheduler; a timer would only wake it a second time (and, on a mock,
// cost a real-time pause). The engine arms its fetch and hook timeouts with
// AfterFunc, which stays on Clock, so a hanging call times out exactly when
// Clock reaches its deadline.
type engineClock struct {
	*HarnessClock
	parked *clock.Mock
}

// Timer returns a timer that never fires by itself; see engineClock.
func (c engineClock) Timer(d time.Duration) *clock.Timer { return c.parked.Timer(d) }

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

// ErrHarnessConfig is wrapped by the errors NewHarness returns for a
// configuration it cannot run.
var ErrHarnessConfig = errors.New("mock: invalid HarnessConfig")

// NewHarness builds a harness. It starts nothing; call Start. Errors wrap
// ErrHarnessConfig.
func NewHarness(cfg HarnessConfig) (*Harness, error) {
	if cfg.Sessions < 0 || cfg.Workers < 0 || cfg.Resolution < 0 || cfg.TTL < 0 || cfg.FirstUser < 0 {
		return nil, fmt.Errorf("%w: a negative Sessions, Workers, Resolution, TTL or FirstUser", ErrHarnessConfig)
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
	if cfg.Logger == nil {
		// The engine's own default formats every line before discarding it.
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	clk := newHarnessClock(cfg.Start)
	h := &Harness{Clock: clk, cfg: cfg, start: cfg.Start}
	h.Server = NewTokenServer(TokenServerConfig{Clock: clk, Seed: cfg.Seed, Logger: cfg.Logger})
	parked := clock.NewMock()
	parked.Set(cfg.Start)
	eng, err := renewal.NewEngine(renewal.Config{
		Clock: engineClock{HarnessClock: clk, parked: parked}, Workers: cfg.Workers, Seed: cfg.Seed, Logger: cfg.Logger,
		WatchdogInterval: -1, // a mock clock never suspends; the watchdog would only add steps
	})
	if err != nil {
		return nil, fmt.Errorf("%w: engine: %w", ErrHarnessConfig, err)
	}
	h.Engine = eng
	var rt http.RoundTripper = h.Server.Transport()
	if cfg.WrapTransport != nil {
		rt = cfg.WrapTransport(rt)
	}
	f, err := fetcher.NewHTTP(TokenServerURL,
		fetcher.WithTransport(rt),
		fetcher.WithClock(clk),
		fetcher.WithAppID(h.Server.AppID()),
		fetcher.WithRetry(0, 0, 0), // the engine retries on the mock clock; in-request waits would use real time
		fetcher.WithLogger(cfg.Logger),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: fetcher: %w", ErrHarnessConfig, err)
	}
	h.sched.init(cfg.Sessions)
	for i := 0; i < cfg.Sessions; i++ {
		user := cfg.UserID
		if cfg.Sessions > 1 || cfg.FirstUser > 0 {
			user += "-" + strconv.Itoa(max(cfg.FirstUser, 1)+i)
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
			return nil, fmt.Errorf("%w: session %q: %w", ErrHarnessConfig, user, err)
		}
		hs.Client = c
		hs.SDK.OnWillExpire(hs.willExpire)
		hs.SDK.OnLinkState(hs.linkState)
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
