package mock

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// SDKOp names a call of the fake [Signaling], for fault injection and the
// timeline.
type SDKOp int

// Calls of the fake Signaling.
const (
	CallLogin       SDKOp = iota + 1 // Login
	CallLogout                       // Logout
	CallRenew                        // RenewToken
	CallJoin                         // JoinStream
	CallRenewStream                  // RenewStreamToken
	CallLeave                        // LeaveStream
	CallRestore                      // RestoreSession
)

var sdkOpNames = [...]string{"", "login", "logout", "renewToken", "join", "renewStreamToken", "leave", "restoreSession"}

// String returns the operation name used in [signaling.Error.Op]: "login",
// "logout", "renewToken", "join", "renewStreamToken", "leave" or
// "restoreSession".
func (o SDKOp) String() string {
	if o.valid() {
		return sdkOpNames[o]
	}
	return "SDKOp(" + strconv.Itoa(int(o)) + ")"
}

func (o SDKOp) valid() bool { return o >= CallLogin && o <= CallRestore }

// ErrSignalingPanic is the error a call of the fake [Signaling] panics with
// after [Signaling.PanicNext]; recover() yields an error wrapping it.
var ErrSignalingPanic = errors.New("mock: injected signaling panic")

type sigFaultKind int

const (
	sigFaultFail sigFaultKind = iota + 1
	sigFaultHang
	sigFaultPanic
)

type sigFault struct {
	kind sigFaultKind
	code signaling.ErrorCode
}

// FailNext makes the next n calls of op fail with code, returned as a
// *[signaling.Error], without any other effect: no token is checked and no
// state changes. Faults queued for the same op by FailNext, HangNext and
// PanicNext apply in the order they were queued. A zero code or an unknown
// op queues nothing.
func (s *Signaling) FailNext(op SDKOp, n int, code signaling.ErrorCode) {
	if code == signaling.CodeOK {
		return
	}
	s.queueFault(op, n, sigFault{kind: sigFaultFail, code: code})
}

// HangNext makes the next n calls of op block until their context ends and
// then return ctx.Err(), like an SDK whose result callback never arrives.
// While blocked, a call counts in [Signaling.Blocked].
func (s *Signaling) HangNext(op SDKOp, n int) {
	s.queueFault(op, n, sigFault{kind: sigFaultHang})
}

// PanicNext makes the next n calls of op panic with an error wrapping
// [ErrSignalingPanic], to test that the caller recovers from panicking
// hooks. The fake's state is unchanged and its lock is not held.
func (s *Signaling) PanicNext(op SDKOp, n int) {
	s.queueFault(op, n, sigFault{kind: sigFaultPanic})
}

// ResetFaults drops every queued fault and pending DropWillExpire.
func (s *Signaling) ResetFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
	s.dropWarn = 0
}

// DropWillExpire makes the next n will-expire signals go undelivered, like
// the SDK bugs that skip the warning. They are still recorded (as dropped)
// and counted in [SignalingStats.DroppedWillExpire].
func (s *Signaling) DropWillExpire(n int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropWarn += n
}

// Blocked returns how many calls are currently blocked by HangNext.
func (s *Signaling) Blocked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blocked
}

func (s *Signaling) queueFault(op SDKOp, n int, f sigFault) {
	if !op.valid() || n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[op] = append(s.faults[op], f)
	}
}

// begin is the common start of every call: a context that has already
// ended, then the next queued fault for op. A non-nil error ends the call.
func (s *Signaling) begin(ctx context.Context, op SDKOp, kind EntryKind, channel string) error {
	s.mu.Lock()
	if err := ctx.Err(); err != nil {
		s.recordCallLocked(s.clock.Now(), kind, op, channel, err, "context ended before the call: "+err.Error())
		s.mu.Unlock()
		return err
	}
	q := s.faults[op]
	if len(q) == 0 {
		s.mu.Unlock()
		return nil
	}
	f := q[0]
	s.faults[op] = q[1:]
	s.stats.InjectedFaults++
	now := s.clock.Now()
	switch f.kind {
	case sigFaultFail:
		err := &signaling.Error{Op: op.String(), Channel: channel, Code: f.code}
		s.recordCallLocked(now, kind, op, channel, err, "injected failure")
		s.mu.Unlock()
		return err
	case sigFaultPanic:
		s.recordCallLocked(now, kind, op, channel, ErrSignalingPanic, "injected panic")
		s.mu.Unlock()
		panic(fmt.Errorf("%w: %s", ErrSignalingPanic, op))
	default: // sigFaultHang
		s.blocked++
		s.mu.Unlock()
		<-ctx.Done()
		s.mu.Lock()
		s.blocked--
		err := ctx.Err()
		s.recordCallLocked(s.clock.Now(), kind, op, channel, err, "injected hang until the context ended: "+err.Error())
		s.mu.Unlock()
		return err
	}
}

// Kick ends the session as the server does when the same user logs in
// elsewhere or is banned: a FAILED / SERVER_REJECT link event with reason
// (SAME_UID_LOGIN, KICKED_OUT_BY_SERVER, LOGIN_TOO_FREQUENT, …) on the
// MESSAGE service, affecting every joined stream channel. The login token
// and stream channels are dropped, and Login needs a Logout first. The
// callback runs on the calling goroutine before Kick returns. Kick reports
// false, and does nothing, when no session is up (IDLE or FAILED).
func (s *Signaling) Kick(reason signaling.Reason) bool {
	s.mu.Lock()
	if s.login == nil {
		s.mu.Unlock()
		return false
	}
	d := s.failLoginLocked(s.clock.Now(), reason, reason.String())
	s.mu.Unlock()
	s.nudge()
	s.deliver([]sigDelivery{d})
	return true
}

// ExpireNow makes the token in use for channel ("" for the login token)
// expire at once, as if its deadline were now: the FAILED / SERVER_REJECT /
// TOKEN_EXPIRED event fires on the calling goroutine before ExpireNow
// returns, with no will-expire warning. The token counts as expired from
// then on, so using it again counts in [SignalingStats.ExpiredTokenUses].
// ExpireNow reports false, and does nothing, when no such token is in use.
func (s *Signaling) ExpireNow(channel string) bool {
	s.mu.Lock()
	in := s.tokenLocked(channel)
	if in == nil {
		s.mu.Unlock()
		return false
	}
	s.revoked[in.sum] = true
	var d sigDelivery
	if channel == "" {
		d = s.failLoginLocked(s.clock.Now(), signaling.ReasonTokenExpired, sigTokenExpiredText)
	} else {
		d = s.failStreamLocked(s.clock.Now(), channel)
	}
	s.mu.Unlock()
	s.nudge()
	s.deliver([]sigDelivery{d})
	return true
}

// Disconnect simulates a lost connection: the message link goes from
// CONNECTED to DISCONNECTED (operation HEARTBEAT_LOST, reason
// KEEP_ALIVE_TIMEOUT). Tokens and stream channels are kept, their signals
// still fire, and renewals fail with NOT_CONNECTED until [Signaling.Reconnect].
// It reports false, and does nothing, unless the link is CONNECTED.
func (s *Signaling) Disconnect() bool {
	return s.relink(signaling.LinkConnected, signaling.LinkDisconnected,
		signaling.OpHeartbeatLost, signaling.ReasonKeepAliveTimeout, false)
}

// Reconnect ends a [Signaling.Disconnect]: the link goes from DISCONNECTED
// back to CONNECTED (operation RECONNECTED, reason RECONNECT_SUCCESS,
// IsResumed true), with the session intact. It reports false, and does
// nothing, unless the link is DISCONNECTED.
func (s *Signaling) Reconnect() bool {
	return s.relink(signaling.LinkDisconnected, signaling.LinkConnected,
		signaling.OpReconnected, signaling.ReasonReconnectSuccess, true)
}

func (s *Signaling) relink(from, to signaling.LinkState, op signaling.LinkOperation, reason signaling.Reason, resumed bool) bool {
	s.mu.Lock()
	if s.state != from {
		s.mu.Unlock()
		return false
	}
	d := s.linkLocked(s.clock.Now(), signaling.LinkStateEvent{Current: to, Operation: op,
		ReasonCode: reason, Reason: reason.String(), AffectedChannels: s.joinedLocked(), IsResumed: resumed})
	s.mu.Unlock()
	s.deliver([]sigDelivery{d})
	return true
}
