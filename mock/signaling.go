package mock

import (
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// WillExpireLead is how long before a token's deadline the fake [Signaling]
// fires its will-expire signal, like the SDK's onTokenPrivilegeWillExpire.
const WillExpireLead = 30 * time.Second

// Defaults of [SignalingConfig].
const (
	sigDefaultUserID          = "user-1"
	sigDefaultLoginRateLimit  = 20
	sigDefaultLoginRateWindow = time.Second
	sigMaxChannelName         = 64
)

// SignalingConfig configures a fake [Signaling]. The zero value is usable:
// every field has a documented default.
type SignalingConfig struct {
	// AppID is the app the client belongs to. If empty, DefaultAppID.
	AppID string
	// Certificate is the app certificate tokens are verified with. If
	// empty, DefaultCertificate. Never logged.
	Certificate string
	// UserID is the user the client logs in as: the RTM user ID of login
	// tokens and the RTC account of stream tokens. If empty, "user-1".
	UserID string
	// Clock is the time source for expiry checks and signals. If nil, the
	// real clock (clock.New()).
	Clock clock.Clock
	// Logger receives one debug record per timeline entry. If nil, nothing
	// is logged. Tokens are never logged in full.
	Logger *slog.Logger
	// LoginRateLimit is how many logins are accepted per LoginRateWindow
	// (a sliding window, like the SDK's client-side limiter); more fail with
	// OPERATION_RATE_EXCEED_LIMITATION. If zero or negative, 20.
	LoginRateLimit int
	// LoginRateWindow is the window of LoginRateLimit. If zero or
	// negative, one second.
	LoginRateWindow time.Duration
}

// Signaling is a fake Agora Signaling (RTM 2.x) client. It implements
// [signaling.SDK], [signaling.StreamSDK] and [signaling.SessionRestorer] and
// behaves like the SDK around tokens:
//
//   - Every token it is given is parsed and checked: signature with the
//     certificate, app ID, service, user or channel, privilege, and expiry
//     on its clock. A bad token fails the call with the SDK's error code.
//   - It fires WillExpire [WillExpireLead] before each installed token's
//     deadline, and at the deadline a FAILED / SERVER_REJECT / TOKEN_EXPIRED
//     link event: on the MESSAGE service for the login token (the session
//     ends and stream channels are dropped), on the STREAM service for a
//     stream token (that channel is left).
//   - It keeps the Go wrapper's quirk: once a login succeeded or the link
//     went FAILED, Login fails until Logout has run.
//
// The fake starts no goroutines and arms no timers. Time-based signals fire
// only when the owner calls [Signaling.Tick] (see [Signaling.NextDue]), or
// from [Signaling.Run], so a harness on a clock.Mock decides exactly when
// and on which goroutine callbacks run.
//
// Signaling is safe for concurrent use. Callbacks are invoked without the
// fake's lock held, on the goroutine whose call caused them, so they may
// call back into the fake. Events caused by concurrent calls may reach the
// callbacks interleaved.
type Signaling struct {
	appID, cert, userID string
	clock               clock.Clock
	log                 *slog.Logger
	rateLimit           int
	rateWindow          time.Duration

	wake chan struct{} // nudges Run when the signal schedule changes

	mu           sync.Mutex
	onWillExpire func(channel string)
	onLinkState  func(signaling.LinkStateEvent)

	state      signaling.LinkState
	login      *sigInstalled            // the login token; nil when not logged in
	streams    map[string]*sigInstalled // joined stream channels and their tokens
	needLogout bool                     // the wrapper quirk: Login refused until Logout
	revoked    map[[32]byte]bool        // tokens forced to expire by ExpireNow
	loginTimes []time.Time              // accepted logins in the rate window

	faults     map[SDKOp][]sigFault
	dropWarn   int // WillExpire signals still to drop
	blocked    int // calls hanging in HangNext
	timeline   []Entry
	stats      SignalingStats
	outSince   time.Time // start of the current logged-out stretch
	outCounted bool      // the link left CONNECTED at outSince and has not returned
}

// sigInstalled is a token in use: for the login or one stream channel.
type sigInstalled struct {
	sum      [32]byte  // SHA-256 of the token text; the text itself is not kept
	redacted string    // safe form for the timeline
	deadline time.Time // min(token expiry, privilege expiry)
	warnAt   time.Time // when WillExpire is due
	warned   bool      // WillExpire fired or was dropped
}

// NewSignaling returns a fake Signaling client, logged out (link IDLE).
func NewSignaling(cfg SignalingConfig) *Signaling {
	s := &Signaling{
		appID:      cfg.AppID,
		cert:       cfg.Certificate,
		userID:     cfg.UserID,
		clock:      cfg.Clock,
		log:        cfg.Logger,
		rateLimit:  cfg.LoginRateLimit,
		rateWindow: cfg.LoginRateWindow,
		wake:       make(chan struct{}, 1),
		streams:    make(map[string]*sigInstalled),
		revoked:    make(map[[32]byte]bool),
		faults:     make(map[SDKOp][]sigFault),
	}
	if s.appID == "" {
		s.appID = DefaultAppID
	}
	if s.cert == "" {
		s.cert = DefaultCertificate
	}
	if s.userID == "" {
		s.userID = sigDefaultUserID
	}
	if s.clock == nil {
		s.clock = clock.New()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.rateLimit <= 0 {
		s.rateLimit = sigDefaultLoginRateLimit
	}
	if s.rateWindow <= 0 {
		s.rateWindow = sigDefaultLoginRateWindow
	}
	return s
}

// OnWillExpire registers the will-expire callback, like the SDK's
// onTokenPrivilegeWillExpire: channel is "" for the login token, else the
// stream channel whose token expires in [WillExpireLead]. A later call
// replaces the callback; nil removes it.
func (s *Signaling) OnWillExpire(f func(channel string)) {
	s.mu.Lock()
	s.onWillExpire = f
	s.mu.Unlock()
}

// OnLinkState registers the link-state callback, like the SDK's
// onLinkStateEvent. A later call replaces the callback; nil removes it.
func (s *Signaling) OnLinkState(f func(signaling.LinkStateEvent)) {
	s.mu.Lock()
	s.onLinkState = f
	s.mu.Unlock()
}

// UserID returns the user the fake expects tokens for.
func (s *Signaling) UserID() string { return s.userID }

// String names the fake SDK by its user. It exists so that printing a
// Signaling with fmt's %v or %+v never shows the certificate it verifies
// tokens with, nor the tokens it holds.
func (s *Signaling) String() string { return "mock.Signaling(user " + strconv.Quote(s.userID) + ")" }

// GoString is like String, for fmt's %#v.
func (s *Signaling) GoString() string { return s.String() }

// State returns the state of the message (login) link.
func (s *Signaling) State() signaling.LinkState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Joined returns the joined stream channels, sorted by name.
func (s *Signaling) Joined() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joinedLocked()
}

// CurrentToken returns the deadline of the token in use for channel ("" for
// the login token), and whether there is one.
func (s *Signaling) CurrentToken(channel string) (deadline time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.tokenLocked(channel)
	if in == nil {
		return time.Time{}, false
	}
	return in.deadline, true
}

func (s *Signaling) joinedLocked() []string {
	chs := make([]string, 0, len(s.streams))
	for ch := range s.streams {
		chs = append(chs, ch)
	}
	slices.Sort(chs)
	return chs
}

func (s *Signaling) tokenLocked(channel string) *sigInstalled {
	if channel == "" {
		return s.login
	}
	return s.streams[channel]
}

// setStateLocked moves the message link to next at time at, keeping the
// logged-out accounting of [SignalingStats] up to date.
func (s *Signaling) setStateLocked(next signaling.LinkState, at time.Time) {
	prev := s.state
	s.state = next
	switch {
	case next == signaling.LinkConnected && prev != signaling.LinkConnected:
		if s.outCounted {
			s.addOutLocked(at.Sub(s.outSince))
		}
		s.outCounted = false
	case prev == signaling.LinkConnected && next != signaling.LinkConnected:
		s.outSince = at
		s.outCounted = true
	}
}

func (s *Signaling) addOutLocked(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.stats.LoggedOut += d
	s.stats.MaxLoggedOut = max(s.stats.MaxLoggedOut, d)
}

// nudge tells a running [Signaling.Run] that the schedule changed.
func (s *Signaling) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sigDelivery is one callback invocation collected under the lock and made
// after it is released.
type sigDelivery struct {
	willExpire bool
	channel    string
	event      signaling.LinkStateEvent
}

// deliver invokes the registered callbacks for ds, in order, without the
// lock held.
func (s *Signaling) deliver(ds []sigDelivery) {
	if len(ds) == 0 {
		return
	}
	s.mu.Lock()
	onWill, onLink := s.onWillExpire, s.onLinkState
	s.mu.Unlock()
	for _, d := range ds {
		switch {
		case d.willExpire && onWill != nil:
			onWill(d.channel)
		case !d.willExpire && onLink != nil:
			onLink(d.event.Clone())
		}
	}
}
