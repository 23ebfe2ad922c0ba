package renewal

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
)

// DefaultWorkers is the worker-pool size when Config.Workers is zero.
const DefaultWorkers = 4

// DefaultWatchdogInterval is the watchdog period when
// Config.WatchdogInterval is zero.
const DefaultWatchdogInterval = time.Minute

// clockJumpTolerance is the disagreement between wall-clock and monotonic
// elapsed time, between two wakes of the scheduler, above which the engine
// reports a clock jump.
const clockJumpTolerance = 2 * time.Second

// Config configures an Engine. The zero value is valid.
type Config struct {
	// Clock is the source of time for every wait: the scheduler's timer,
	// fetch and hook timeouts, backoff. Nil means clock.New() (the real
	// clock). A *clock.Mock makes the engine run on simulated time; see
	// Engine.Activity.
	Clock clock.Clock
	// Workers is the number of goroutines that run fetches and SDK calls
	// for all sessions. Zero means DefaultWorkers (4).
	Workers int
	// Seed seeds the deterministic jitter. Renewal times depend only on
	// the seed, the user ID, the channel and the key's generation, never on
	// goroutine scheduling. Zero is a valid seed.
	Seed int64
	// Logger receives the engine's log lines. Nil discards them. Tokens are
	// never logged.
	Logger *slog.Logger
	// WatchdogInterval is how often the scheduler wakes even with nothing
	// due, to notice a suspend or a wall-clock jump (Go timers pause during
	// a suspend). Zero means DefaultWatchdogInterval (1 min); negative turns
	// the watchdog off.
	WatchdogInterval time.Duration
	// OnEvent receives engine-wide events (EventClockJump). It is called
	// synchronously from engine goroutines and must not block.
	OnEvent func(Event)
}

type engineState uint8

const (
	engineNew engineState = iota
	engineRunning
	engineClosed
)

// Engine renews the tokens of any number of sessions with one scheduler
// goroutine (a min-heap of due times and one timer) and a bounded pool of
// workers. Create it with NewEngine, start it with Start, stop it with
// Close. An Engine is safe for concurrent use.
type Engine struct {
	clk      clock.Clock
	workers  int
	seed     int64
	log      *slog.Logger
	watchdog time.Duration
	// wall, when set by a test, returns the wall-clock time, so tests can
	// make wall and monotonic time disagree. Nil derives the wall clock
	// from the clock's reading (see wallAt).
	wall func() time.Time

	ctx    context.Context // engine-owned; parent of every operation's context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed chan struct{} // closed by Close

	mu         sync.Mutex
	cond       *sync.Cond // workers wait on it for tasks
	state      engineState
	heap       keyHeap
	seq        uint64
	tasks      []*op // dispatched, waiting for a worker
	running    []*op // by worker slot
	inFlight   int   // dispatched operations not yet finished
	delivering int   // event queues being delivered
	ready      []*eventQueue
	nextWatch  int64
	lastWall   int64
	lastMono   time.Time
	sessions   map[*Session]struct{}
	users      map[string]*Session
	events     eventQueue
	stats      Stats

	sigMu sync.Mutex
	sigq  []signal
	wake  chan struct{} // capacity 1
}

// Stats counts notable engine events since NewEngine.
type Stats struct {
	HookTimeouts uint64 // SDK calls or fetches that ran past their timeout
	HookPanics   uint64 // SDK calls or fetches that panicked
	ClockJumps   uint64
	Dropped      uint64 // operation results dropped because a newer generation superseded them
}

// NewEngine validates cfg and returns an engine. It starts no goroutine;
// call Start.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.Workers < 0 {
		return nil, configErr("Workers %d is negative", cfg.Workers)
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler) // formats nothing: a TextHandler on io.Discard formatted every line
	}
	switch {
	case cfg.WatchdogInterval == 0:
		cfg.WatchdogInterval = DefaultWatchdogInterval
	case cfg.WatchdogInterval < 0:
		cfg.WatchdogInterval = 0
	}
	e := &Engine{
		clk:      cfg.Clock,
		workers:  cfg.Workers,
		seed:     cfg.Seed,
		log:      cfg.Logger,
		watchdog: cfg.WatchdogInterval,
		closed:   make(chan struct{}),
		running:  make([]*op, cfg.Workers),
		sessions: make(map[*Session]struct{}),
		users:    make(map[string]*Session),
		events:   eventQueue{fn: cfg.OnEvent},
		wake:     make(chan struct{}, 1),
	}
	e.cond = sync.NewCond(&e.mu)
	return e, nil
}

// Start starts the scheduler and the workers. It returns ErrAlreadyStarted
// on a second call and ErrClosed after Close.
func (e *Engine) Start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch e.state {
	case engineRunning:
		return ErrAlreadyStarted
	case engineClosed:
		return ErrClosed
	}
	e.state = engineRunning
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.lastMono, e.lastWall = e.clk.Now(), e.nowWall()
	if e.watchdog > 0 {
		e.nextWatch = e.lastWall + int64(e.watchdog)
	}
	e.wg.Add(1 + e.workers)
	go e.loop()
	for i := 0; i < e.workers; i++ {
		go e.worker(i)
	}
	return nil
}

// Close stops the engine: it cancels every running operation (through the
// contexts handed to fetchers and hooks), fails operations still queued
// and any waiting Start, JoinStream or LeaveStream with ErrClosed, and waits
// for the scheduler and every worker to return, or for ctx to end (then it
// returns ctx.Err(); a hook that ignores its context keeps its worker until
// it returns). Close is idempotent; later calls wait the same way.
// Sessions of a closed engine are closed without logout.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.state != engineClosed {
		started := e.state == engineRunning
		e.state = engineClosed
		close(e.closed)
		if started {
			e.cancel()
		}
		for _, o := range e.tasks {
			e.abandon(o)
		}
		e.tasks = nil
		for s := range e.sessions {
			e.closeSessionLocked(s)
		}
		e.cond.Broadcast()
	}
	e.mu.Unlock()
	e.flush()
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// Activity is what a harness driving a mock clock needs to know to step
// time deterministically. See Engine.Activity.
type Activity struct {
	// InFlight counts operations dispatched and not finished (running in a
	// worker or waiting for one) plus event queues being delivered to
	// OnEvent.
	InFlight int
	// Running counts operations held by a worker (at most Config.Workers).
	Running int
	// Calls counts running operations that are inside a fetch or SDK call
	// right now; the timeout of each is part of Next.
	Calls int
	// Due counts queued signals, scheduled keys due at or before the
	// clock's now but not yet dispatched, a due watchdog tick, and calls
	// whose timeout has passed or whose operation was cancelled but which
	// have not returned yet.
	Due int
	// Next is the earliest future instant at which the engine will act: the
	// next scheduled key, the watchdog, and the timeout of every running
	// fetch or SDK call. Zero when nothing is pending.
	Next time.Time
}

// Activity reports the engine's pending work, for harnesses that drive a
// clock.Mock and must know when the system is idle without sleeping.
//
// Invariant: every transition that leads to follow-up work updates these
// figures under one lock, so when a harness observes InFlight == 0 and
// Due == 0, everything the engine will do next is reflected in Next (a
// finished operation pushes its next heap entry before it stops counting as
// in flight). Advancing the clock to Next is then safe.
//
// When the harness's own fakes park calls until the clock reaches their
// timeout (a hook that hangs), the engine is also quiescent when Due == 0,
// Running == Calls == the number of calls the fakes know to be parked, and
// either InFlight == Running or every worker is running. A call that
// ignores its context counts as Due once its timeout has passed, until it
// returns.
//
// With Workers = 1 and a fixed Seed a run is deterministic: heap ties are
// broken by insertion order and signals are handled FIFO.
func (e *Engine) Activity() Activity {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.nowWall()
	a := Activity{InFlight: e.inFlight + e.delivering}
	e.sigMu.Lock()
	a.Due = len(e.sigq)
	e.sigMu.Unlock()
	a.Due += e.heap.countDue(now)
	if e.state == engineRunning && e.nextWatch != 0 && e.nextWatch <= now {
		a.Due++
	}
	for _, o := range e.running {
		if o == nil {
			continue
		}
		a.Running++
		if o.stepDeadline != 0 {
			a.Calls++
			// A call past its timeout, or of an operation already cancelled
			// (superseded, closing), is about to return: it is due, not
			// parked, even while a fake still counts it as blocked.
			if o.stepDeadline <= now || o.ctx.Err() != nil {
				a.Due++
			}
		}
	}
	next := e.nextWake(now)
	if next != 0 {
		a.Next = time.Unix(0, next).UTC()
	}
	return a
}

// nextWake returns the earliest instant after now at which the scheduler
// must wake, or 0. e.mu must be held.
func (e *Engine) nextWake(now int64) int64 {
	var next int64
	consider := func(t int64) {
		if t > now && (next == 0 || t < next) {
			next = t
		}
	}
	if len(e.heap) > 0 {
		consider(e.heap[0].due)
	}
	if e.state == engineRunning {
		consider(e.nextWatch)
	}
	for _, o := range e.running {
		if o != nil && o.stepDeadline != 0 && !o.timeoutReported {
			consider(o.stepDeadline)
		}
	}
	return next
}

// nowWall returns the wall-clock now as Unix nanoseconds.
func (e *Engine) nowWall() int64 { return e.wallNow().UnixNano() }

// wallNow returns the wall-clock now (no monotonic reading).
func (e *Engine) wallNow() time.Time { return e.wallAt(e.clk.Now()) }

// wallAt returns the wall-clock time of a clock reading mono: the reading
// itself with its monotonic part stripped, unless a test replaced e.wall
// to make the two clocks disagree. Taking both from one reading matters: a
// mock clock moved between two reads would look like a clock jump.
func (e *Engine) wallAt(mono time.Time) time.Time {
	if e.wall != nil {
		return e.wall()
	}
	return mono.Round(0)
}

// Poke wakes the scheduler so it re-reads the clock at once. A harness that
// moves a *clock.Mock calls it after every move: the mock measures a new
// timer from its own current time, so a timer the scheduler arms while the
// harness is moving the clock may be registered late; a poke makes the
// scheduler look at the moved clock and re-arm. Poke never blocks and is
// harmless on a real clock.
func (e *Engine) Poke() { e.notify() }

// notify wakes the scheduler without blocking.
func (e *Engine) notify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}
