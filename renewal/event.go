package renewal

import (
	"strconv"
	"time"
)

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	_ EventKind = iota
	// EventScheduled: a proactive renewal was scheduled. Lead is the time
	// it leaves before the deadline, RetryIn the wait until it runs.
	EventScheduled
	// EventRenewed: a fresh token was installed with RenewToken or
	// RenewStreamToken. Lead is the time that was left before the old
	// token's deadline.
	EventRenewed
	// EventFetchFailed: a token fetch failed. Class is "retryable" or
	// "permanent", RetryIn the wait before the next attempt.
	EventFetchFailed
	// EventRenewFailed: an SDK call failed (renew, login, join). Class is
	// the decision taken ("retry", "token", "kick", …), RetryIn the wait.
	EventRenewFailed
	// EventRelogin: the relogin path started (logout → fetch → login →
	// rejoin → restore). Reason names the trigger.
	EventRelogin
	// EventLoggedIn: Login succeeded (first login or relogin).
	EventLoggedIn
	// EventRejoined: a stream channel was joined again with a fresh token
	// (after its token expired, or during a relogin).
	EventRejoined
	// EventJoined: a stream channel was joined for the first time.
	EventJoined
	// EventExpired: a deadline passed with no fresh token installed.
	EventExpired
	// EventTokenTooShort: a token's lifetime is below Policy.MinTTL; it is
	// used and renewed at half its life, but the SDK's warning may come
	// first.
	EventTokenTooShort
	// EventClockJump: the wall clock and the monotonic clock disagree (a
	// suspend, or the wall clock was set). RetryIn holds the difference
	// (wall minus monotonic elapsed time).
	EventClockJump
	// EventGaveUp: a fatal configuration error stopped renewal of the key;
	// RenewNow tries again.
	EventGaveUp
	// EventKicked: the server removed the session or a stream channel; no
	// automatic relogin unless Policy.ReloginOnKick.
	EventKicked
	// EventHookTimeout: an SDK call or fetch ran past its timeout. The
	// worker running it stays blocked until it returns; hooks must honour
	// their context.
	EventHookTimeout
	// EventHookPanic: an SDK call or fetch panicked; the panic was recovered
	// and counts as a failure.
	EventHookPanic
	// EventRestoreFailed: SessionRestorer.RestoreSession failed after a
	// relogin. The relogin itself stands.
	EventRestoreFailed
	// EventLeft: a stream channel was left (LeaveStream).
	EventLeft
	// EventIgnored: a signal was ignored (unknown channel, after Close,
	// nothing to do). Delivered only to the debug log, never to OnEvent.
	EventIgnored
)

var eventKindNames = [...]string{"", "scheduled", "renewed", "fetch-failed", "renew-failed", "relogin",
	"logged-in", "rejoined", "joined", "expired", "token-too-short", "clock-jump", "gave-up", "kicked",
	"hook-timeout", "hook-panic", "restore-failed", "left", "ignored"}

// String returns a lower-case name for k.
func (k EventKind) String() string {
	if int(k) > 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one thing the engine did or saw. Fields that do not apply to a
// kind are zero. Events never carry a token; Err never contains one.
type Event struct {
	Kind       EventKind
	Time       time.Time // wall-clock time of the event
	UserID     string    // the session; "" for engine-wide events
	Channel    string    // the stream channel; "" for the login token
	Generation uint64    // the key's generation when the event happened
	// Lead is, for EventRenewed/EventLoggedIn/EventRejoined, the time that
	// was left before the previous token's deadline (negative: renewed
	// after it); for EventScheduled, the time the renewal leaves before the
	// deadline.
	Lead    time.Duration
	RetryIn time.Duration // wait before the next attempt or scheduled renewal
	Class   string        // failure class or decision ("retryable", "permanent", "token", …)
	Attempt int           // consecutive failures of the key so far
	Err     error
	Reason  string // what triggered it ("timer", "will-expire", "link FAILED TOKEN_EXPIRED", …)
}

// Phase is where a key stands.
type Phase uint8

// Key phases.
const (
	PhaseNew      Phase = iota // no token yet (first login or join running)
	PhaseFresh                 // a valid token is installed and its renewal scheduled
	PhaseRenewing              // a renewal is running
	PhaseBackoff               // the last attempt failed; a retry is scheduled
	PhaseWaiting               // waiting for the link to be CONNECTED before renewing
	PhaseExpired               // the deadline passed with no fresh token installed
	PhaseRelogin               // the relogin path (login key) or a rejoin (stream) is running
	PhaseKicked                // removed by the server; nothing runs until RenewNow
	PhaseGaveUp                // stopped by a fatal configuration error; nothing runs until RenewNow
	PhaseClosed                // the session or channel was closed
)

var phaseNames = [...]string{"new", "fresh", "renewing", "backoff", "waiting", "expired", "relogin",
	"kicked", "gave-up", "closed"}

// String returns a lower-case name for p.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "Phase(" + strconv.Itoa(int(p)) + ")"
}

// KeyState is a snapshot of one key: the login token (Channel "") or a
// stream channel.
type KeyState struct {
	UserID      string
	Channel     string
	Phase       Phase
	Deadline    time.Time // zero before the first token
	NextRenewal time.Time // zero when nothing is scheduled
	Generation  uint64
	Attempts    int   // consecutive failures
	LastErr     error // the last failure since the last success
}
