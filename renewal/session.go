package renewal

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// SessionConfig configures one Signaling client kept authenticated by an
// engine.
type SessionConfig struct {
	// UserID is the Signaling user ID: the RTM token's user and the account
	// of every RTC token. Required; at most 64 bytes of valid UTF-8.
	UserID string
	// Fetcher fetches the tokens. Required.
	Fetcher fetcher.Fetcher
	// SDK is the application's adapter around its Signaling client.
	// Required. If it also implements signaling.StreamSDK, stream channels
	// can be joined; if it implements signaling.SessionRestorer, it is
	// called after every relogin.
	SDK signaling.SDK
	// Role is the RTC role asked for stream-channel tokens. Zero means
	// fetcher.RolePublisher.
	Role fetcher.Role
	// TTL is the token lifetime asked of the token server. Zero asks for
	// the server's default; otherwise 1 s … 24 h.
	TTL time.Duration
	// Policy says when and how to renew; zero fields take defaults.
	Policy Policy
	// OnEvent receives the session's events, in order, synchronously from
	// engine goroutines. It must not block (hand slow work to another
	// goroutine). It may call the session's non-blocking methods (State,
	// RenewNow, …) but not Close, Start, JoinStream or LeaveStream, which
	// wait for engine goroutines. Nil drops the events; they are logged
	// either way.
	OnEvent func(Event)
}

type sessionState uint8

const (
	sessionNew sessionState = iota
	sessionStarting
	sessionRunning
	sessionClosing
	sessionClosed
)

// Session is one Signaling client: its login key and one key per joined
// stream channel. Create it with Engine.NewSession. A Session is safe for
// concurrent use; its signal methods never block.
type Session struct {
	e        *Engine
	userID   string
	fetcher  fetcher.Fetcher
	sdk      signaling.SDK
	stream   signaling.StreamSDK       // nil when the SDK has no stream channels
	restorer signaling.SessionRestorer // nil when not implemented
	role     fetcher.Role
	ttl      time.Duration
	policy   Policy
	done     chan struct{} // closed when Close has finished

	// guarded by e.mu
	state          sessionState
	login          *key
	streams        map[string]*key
	link           signaling.LinkState
	busy           int // operations of the session in flight
	streamBusy     int // of which on stream keys
	pendingStreams int // stream keys with a pending operation
	reloginWait    bool
	logoutPending  bool
	closeErr       error
	events         eventQueue
}

// NewSession validates cfg and registers a session with e. It starts
// nothing; call Start. User IDs are unique per engine.
func (e *Engine) NewSession(cfg SessionConfig) (*Session, error) {
	switch {
	case cfg.UserID == "":
		return nil, configErr("SessionConfig.UserID is empty")
	case len(cfg.UserID) > 64 || !utf8.ValidString(cfg.UserID):
		return nil, configErr("SessionConfig.UserID is longer than 64 bytes or not UTF-8")
	case cfg.Fetcher == nil:
		return nil, configErr("SessionConfig.Fetcher is nil")
	case cfg.SDK == nil:
		return nil, configErr("SessionConfig.SDK is nil")
	case cfg.TTL != 0 && (cfg.TTL < time.Second || cfg.TTL > 24*time.Hour):
		return nil, configErr("SessionConfig.TTL %v is outside 1s…24h", cfg.TTL)
	case cfg.Role != 0 && cfg.Role != fetcher.RolePublisher && cfg.Role != fetcher.RoleSubscriber:
		return nil, configErr("SessionConfig.Role %v is unknown", cfg.Role)
	}
	p, err := cfg.Policy.normalize()
	if err != nil {
		return nil, err
	}
	s := &Session{
		e: e, userID: cfg.UserID, fetcher: cfg.Fetcher, sdk: cfg.SDK, role: cfg.Role, ttl: cfg.TTL,
		policy: p, done: make(chan struct{}), streams: make(map[string]*key),
		link: signaling.LinkIdle, events: eventQueue{fn: cfg.OnEvent},
	}
	s.stream, _ = cfg.SDK.(signaling.StreamSDK)
	s.restorer, _ = cfg.SDK.(signaling.SessionRestorer)
	s.login = &key{sess: s, hidx: -1}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == engineClosed {
		return nil, ErrClosed
	}
	if e.users[cfg.UserID] != nil {
		return nil, configErr("a session for user %q already exists on this engine", cfg.UserID)
	}
	e.sessions[s] = struct{}{}
	e.users[cfg.UserID] = s
	return s, nil
}

// UserID returns the session's user ID.
func (s *Session) UserID() string { return s.userID }

func (s *Session) rtmRequest() fetcher.Request {
	return fetcher.Request{Kind: fetcher.KindRTM, UserID: s.userID, TTL: s.ttl}
}

func (s *Session) rtcRequest(channel string) fetcher.Request {
	return fetcher.Request{Kind: fetcher.KindRTC, Channel: channel, Account: s.userID, Role: s.role, TTL: s.ttl}
}

// keyFor returns the key of channel ("" = login), or nil. e.mu held.
func (s *Session) keyFor(channel string) *key {
	if channel == "" {
		return s.login
	}
	k := s.streams[channel]
	if k == nil || k.flags&flagRemoving != 0 {
		return nil
	}
	return k
}

// forEachStream calls f for every stream key in channel-name order, not a
// map's, so that what f does — events, heap ties, SDK calls queued — comes
// in the same order on every run. It runs on rare paths (a relogin, a
// stop, a close, a clock jump), where the sort costs nothing that matters.
func (s *Session) forEachStream(f func(*key)) {
	if len(s.streams) <= 1 {
		for _, k := range s.streams {
			f(k)
		}
		return
	}
	ks := make([]*key, 0, len(s.streams))
	for _, k := range s.streams {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b *key) int { return strings.Compare(a.channel, b.channel) })
	for _, k := range ks {
		f(k)
	}
}

func (s *Session) forEachKey(f func(*key)) {
	f(s.login)
	s.forEachStream(f)
}

// reloginBusy reports whether a relogin is running or waiting to run.
func (s *Session) reloginBusy() bool {
	return s.reloginWait || (s.login.op != nil && s.login.op.kind == OpRelogin)
}

// loginDown reports whether the login is not usable for stream work: a
// relogin is running, waiting, or scheduled, or the session was kicked.
func (s *Session) loginDown() bool {
	l := s.login
	return s.reloginBusy() || (l.hidx >= 0 && l.dueOp == OpRelogin) ||
		l.phase == PhaseRelogin || l.phase == PhaseKicked || l.phase == PhaseGaveUp
}

func mapKeys[K comparable, V any](m map[K]V) iter.Seq[K] { return maps.Keys(m) }

// Start fetches an RTM token, logs in and schedules the renewal. It blocks
// until the login succeeded, failed (the error wraps the fetch or SDK
// error; the session can be started again) or ctx ended (the login is
// cancelled). The engine must be started.
func (s *Session) Start(ctx context.Context) error {
	e := s.e
	e.mu.Lock()
	if err := s.checkUsable(); err != nil {
		e.mu.Unlock()
		return err
	}
	if s.state != sessionNew {
		e.mu.Unlock()
		return ErrAlreadyStarted
	}
	s.state = sessionStarting
	o := newOp(opLogin, s.login, "start", make(chan error, 1))
	done := o.done
	e.dispatch(o)
	e.mu.Unlock()
	return s.wait(ctx, o, done)
}

// checkUsable reports why the session cannot take a call. e.mu held.
func (s *Session) checkUsable() error {
	switch {
	case s.e.state == engineClosed || s.state >= sessionClosing:
		return ErrClosed
	case s.e.state == engineNew:
		return ErrNotStarted
	}
	return nil
}

// wait waits for a foreground operation; if ctx ends first, the operation
// is cancelled and its (dropped) result awaited.
func (s *Session) wait(ctx context.Context, o *op, done chan error) error {
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	e := s.e
	e.mu.Lock()
	k := o.k
	switch {
	case k.pending == o:
		e.setPending(k, nil)
		if o.kind == opJoin && s.streams[k.channel] == k && k.flags&flagJoined == 0 {
			delete(s.streams, k.channel)
		}
		e.mu.Unlock()
		return ctx.Err()
	case k.op == o:
		k.gen++
		o.cancel()
	}
	e.mu.Unlock()
	<-done
	return ctx.Err()
}

// JoinStream fetches an RTC token for channel, joins it and schedules its
// renewal. It blocks like Start. It returns ErrNoStreamSDK when the SDK
// does not implement signaling.StreamSDK and ErrAlreadyJoined for a channel
// already managed.
func (s *Session) JoinStream(ctx context.Context, channel string) error {
	e := s.e
	e.mu.Lock()
	if err := s.checkUsable(); err != nil {
		e.mu.Unlock()
		return err
	}
	switch {
	case s.state != sessionRunning:
		e.mu.Unlock()
		return ErrNotStarted
	case s.stream == nil:
		e.mu.Unlock()
		return ErrNoStreamSDK
	case channel == "":
		e.mu.Unlock()
		return fmt.Errorf("renewal: JoinStream: empty channel name: %w", ErrUnknownChannel)
	case s.streams[channel] != nil:
		e.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrAlreadyJoined, channel)
	}
	k := &key{sess: s, channel: channel, hidx: -1}
	s.streams[channel] = k
	o := newOp(opJoin, k, "join", make(chan error, 1))
	done := o.done
	if s.reloginBusy() {
		e.setPending(k, o)
	} else {
		e.dispatch(o)
	}
	e.mu.Unlock()
	return s.wait(ctx, o, done)
}

// LeaveStream stops renewing channel's token and calls the SDK's
// LeaveStream. The channel is forgotten even if that call fails (its error
// is returned).
func (s *Session) LeaveStream(ctx context.Context, channel string) error {
	e := s.e
	e.mu.Lock()
	if err := s.checkUsable(); err != nil {
		e.mu.Unlock()
		return err
	}
	k := s.streams[channel]
	if k == nil || k.flags&flagRemoving != 0 {
		e.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrUnknownChannel, channel)
	}
	k.flags |= flagRemoving
	e.unschedule(k)
	o := newOp(opLeave, k, "leave", make(chan error, 1))
	done := o.done
	if k.pending != nil {
		k.pending.reply(ErrClosed)
		e.setPending(k, nil)
	}
	switch {
	case k.op != nil:
		k.gen++
		k.op.cancel()
		e.setPending(k, o)
	case s.reloginBusy():
		k.gen++ // drop the running relogin's result for this channel
		e.setPending(k, o)
	default:
		e.dispatch(o)
	}
	e.mu.Unlock()
	return s.wait(ctx, o, done)
}

// WillExpire is the SDK's onTokenPrivilegeWillExpire(channel): "" names the
// login token, anything else a stream channel. It never blocks; the
// engine renews at once unless a renewal is already running or scheduled
// retries are backing off.
func (s *Session) WillExpire(channel string) {
	s.e.enqueue(signal{sess: s, trig: TriggerWillExpire, channel: channel})
}

// LinkState is the SDK's onLinkStateEvent. It never blocks; ev is copied.
func (s *Session) LinkState(ev signaling.LinkStateEvent) {
	s.e.enqueue(signal{sess: s, trig: TriggerLink, link: ev.Clone()})
}

// RenewNow asks for an immediate renewal of channel's token ("" = login).
// It never blocks. On a key stopped by a kick or a fatal error it starts
// the relogin (or rejoin) path: the way to resume after fixing the cause.
func (s *Session) RenewNow(channel string) {
	s.e.enqueue(signal{sess: s, trig: TriggerRenewNow, channel: channel})
}

// State returns a snapshot of the session's keys, login first, then stream
// channels by name.
func (s *Session) State() []KeyState {
	e := s.e
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]KeyState, 0, 1+len(s.streams))
	out = append(out, s.keyState(s.login))
	for _, ch := range slices.Sorted(mapKeys(s.streams)) {
		out = append(out, s.keyState(s.streams[ch]))
	}
	return out
}

func (s *Session) keyState(k *key) KeyState {
	ks := KeyState{UserID: s.userID, Channel: k.channel, Phase: k.phase, Generation: k.gen}
	if k.deadline != 0 {
		ks.Deadline = time.Unix(0, k.deadline).UTC()
	}
	if k.hidx >= 0 {
		ks.NextRenewal = time.Unix(0, k.due).UTC()
	}
	if k.fail != nil {
		ks.Attempts = k.fail.attempts
		ks.LastErr = k.fail.lastErr
	}
	return ks
}

// Close stops renewing the session's tokens: it cancels running
// operations, forgets every key and, with Policy.LogoutOnClose, calls
// SDK.Logout (whose error it returns). It waits for that, or for ctx. Close
// is idempotent.
func (s *Session) Close(ctx context.Context) error {
	e := s.e
	e.mu.Lock()
	e.closeSessionLocked(s)
	e.mu.Unlock()
	e.flush()
	select {
	case <-s.done:
		e.mu.Lock()
		defer e.mu.Unlock()
		return s.closeErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeSessionLocked starts closing s. e.mu held.
func (e *Engine) closeSessionLocked(s *Session) {
	if s.state >= sessionClosing {
		return
	}
	wasUp := s.state == sessionRunning
	s.state = sessionClosing
	s.forEachKey(func(k *key) {
		e.unschedule(k)
		if k.op != nil && k.op.kind != opLogout {
			k.gen++
			k.op.cancel()
		}
		if k.pending != nil {
			k.pending.reply(ErrClosed)
			e.setPending(k, nil)
		}
		k.phase = PhaseClosed
	})
	s.reloginWait = false
	delete(e.sessions, s)
	delete(e.users, s.userID)
	s.logoutPending = wasUp && s.policy.LogoutOnClose && e.state == engineRunning
	if s.busy == 0 {
		e.finishClose(s)
	}
}

// finishClose runs the closing logout, if any, then marks s closed.
func (e *Engine) finishClose(s *Session) {
	if s.state == sessionClosed {
		return
	}
	if s.logoutPending && e.state == engineRunning {
		s.logoutPending = false
		e.dispatch(newOp(opLogout, s.login, "close", nil))
		return
	}
	s.state = sessionClosed
	close(s.done)
}
