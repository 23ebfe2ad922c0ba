package renewal

import (
	"context"
	"errors"
	"strconv"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// KeyKind says which token a key holds.
type KeyKind uint8

// Key kinds.
const (
	KeyLogin  KeyKind = iota + 1 // the RTM login token of a session
	KeyStream                    // the RTC token of one stream channel
)

// Trigger is the kind of a Signal.
type Trigger uint8

// Triggers.
const (
	TriggerTimer       Trigger = iota + 1 // the scheduled renewal or retry time came
	TriggerWillExpire                     // the SDK's will-expire warning (30 s before expiry)
	TriggerRenewNow                       // a manual RenewNow
	TriggerLink                           // a LinkStateEvent
	TriggerFetchFailed                    // the key's operation failed fetching a token
	TriggerHookFailed                     // the key's operation failed in an SDK call
)

var triggerNames = [...]string{"", "timer", "will-expire", "renew-now", "link", "fetch-failed", "hook-failed"}

// String returns a lower-case name for t.
func (t Trigger) String() string {
	if int(t) < len(triggerNames) {
		return triggerNames[t]
	}
	return "Trigger(" + strconv.Itoa(int(t)) + ")"
}

// OpKind is an operation the engine runs on a key.
type OpKind uint8

// Operations chosen by Decide. (The engine also runs the first login, the
// first join, leave and logout, which Decide never chooses.)
const (
	OpNone    OpKind = iota
	OpRenew          // fetch a fresh token → RenewToken / RenewStreamToken
	OpRelogin        // Logout → fetch → Login → rejoin every stream → RestoreSession
	OpRejoin         // fetch a fresh RTC token → JoinStream (never renew)
	opLogin          // first login (Session.Start)
	opJoin           // first join (Session.JoinStream)
	opLeave          // Session.LeaveStream
	opLogout         // Session.Close with Policy.LogoutOnClose
)

var opNames = [...]string{"none", "renew", "relogin", "rejoin", "login", "join", "leave", "logout"}

// String returns a lower-case name for o.
func (o OpKind) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "OpKind(" + strconv.Itoa(int(o)) + ")"
}

// When says when an Action's operation runs.
type When uint8

// When values.
const (
	WhenNow         When = iota // at once
	WhenBackoff                 // after the key's next exponential-backoff interval
	WhenLongBackoff             // after Policy.BackoffLong (jittered)
	WhenConnected               // when the message link is CONNECTED again (or after a backoff interval)
)

// Signal is one input to Decide.
type Signal struct {
	Trigger Trigger
	Link    signaling.LinkStateEvent // TriggerLink
	Op      OpKind                   // TriggerFetchFailed, TriggerHookFailed: the operation that failed
	Err     error                    // TriggerFetchFailed, TriggerHookFailed
	// Timeout is set when Err is the engine's own per-call timeout (which
	// the fetcher package does not classify as retryable).
	Timeout bool
}

// Situation is what Decide knows about the key a signal concerns.
type Situation struct {
	Key      KeyKind
	Phase    Phase
	Link     signaling.LinkState // last known state of the session's message link
	InFlight OpKind              // operation running on this key, OpNone when idle
	// Relogin is set when a relogin of the session is running, waiting to
	// run, or scheduled as a retry (and, for a stream key, while the
	// session is kicked or stopped).
	Relogin bool
	Expired bool // the key's deadline has passed (wall clock)
	// Forced is set when the failing operation was already the one forced
	// refetch allowed after INVALID_TOKEN.
	Forced        bool
	ReloginOnKick bool
}

// Action is Decide's answer: run Op (if not OpNone) at When, first
// cancelling the key's running operation when Supersede is set, and report
// an event of kind Report (if not zero) with Class.
type Action struct {
	Op        OpKind
	When      When
	Force     bool // the one forced refetch after INVALID_TOKEN
	Supersede bool
	Report    EventKind
	Class     string
}

// Decide maps a signal and the situation of its key to an action. It is
// pure: the engine applies the action. The zero Action means "nothing to
// do" (including "joins the operation already running").
func Decide(s Situation, sig Signal) Action {
	switch sig.Trigger {
	case TriggerTimer, TriggerWillExpire, TriggerRenewNow:
		return decideRenew(s, sig)
	case TriggerLink:
		if s.Key == KeyLogin {
			return decideLoginLink(s, sig.Link)
		}
		return decideStreamLink(s, sig.Link)
	case TriggerFetchFailed:
		return decideFetchFailed(s, sig)
	case TriggerHookFailed:
		return decideHookFailed(s, sig)
	}
	return Action{}
}

// recoverOp is the operation that installs a fresh token on a key whose
// token can no longer be renewed in place.
func recoverOp(k KeyKind) OpKind {
	if k == KeyLogin {
		return OpRelogin
	}
	return OpRejoin
}

func decideRenew(s Situation, sig Signal) Action {
	if s.Phase == PhaseKicked || s.Phase == PhaseGaveUp {
		if sig.Trigger == TriggerRenewNow && s.InFlight == OpNone && !(s.Key == KeyStream && s.Relogin) {
			return Action{Op: recoverOp(s.Key), Class: "manual"}
		}
		return Action{}
	}
	if s.InFlight != OpNone || (s.Key == KeyStream && s.Relogin) {
		return Action{} // joins the running operation
	}
	if s.Phase == PhaseNew || s.Phase == PhaseClosed {
		return Action{}
	}
	if s.Expired {
		return Action{Op: recoverOp(s.Key), Report: EventExpired, Class: "expired"}
	}
	if s.Key == KeyLogin && s.Link != signaling.LinkConnected {
		switch {
		case s.Phase == PhaseWaiting && sig.Trigger == TriggerWillExpire:
			return Action{} // already waiting; the warning changes nothing
		case s.Phase == PhaseWaiting && sig.Trigger == TriggerTimer:
			// The fallback retry: try anyway, in case the CONNECTED event
			// was lost; the SDK answers NOT_CONNECTED if the link is down.
			return Action{Op: OpRenew}
		}
		return Action{Op: OpRenew, When: WhenConnected}
	}
	if sig.Trigger == TriggerWillExpire && s.Phase == PhaseBackoff {
		return Action{} // a retry is already scheduled; do not add a fetch
	}
	return Action{Op: OpRenew}
}

func decideLoginLink(s Situation, ev signaling.LinkStateEvent) Action {
	switch ev.Current {
	case signaling.LinkConnected:
		if s.Phase == PhaseWaiting && s.InFlight == OpNone {
			if s.Expired {
				return Action{Op: OpRelogin, Report: EventExpired, Class: "expired"}
			}
			return Action{Op: OpRenew}
		}
		return Action{}
	case signaling.LinkFailed:
	default:
		return Action{}
	}
	if s.InFlight == OpRelogin || s.InFlight == opLogin {
		return Action{} // our own relogin is running; its result decides
	}
	c := ev.ReasonCode.Class()
	if s.Relogin && c != signaling.ClassKick && c != signaling.ClassFatalConfig {
		return Action{} // a relogin retry is already scheduled; keep its backoff
	}
	switch c {
	case signaling.ClassToken:
		return Action{Op: OpRelogin, Supersede: true, Class: c.String()}
	case signaling.ClassKick:
		if s.ReloginOnKick {
			return Action{Op: OpRelogin, When: WhenBackoff, Supersede: true, Report: EventKicked, Class: c.String()}
		}
		return Action{Supersede: true, Report: EventKicked, Class: c.String()}
	case signaling.ClassFatalConfig:
		return Action{Supersede: true, Report: EventGaveUp, Class: c.String()}
	case signaling.ClassBackoff:
		w := WhenBackoff
		if ev.ReasonCode == signaling.ReasonLoginTooFrequent || ev.ReasonCode == signaling.ReasonOperationRateExceedLimitation {
			w = WhenLongBackoff
		}
		return Action{Op: OpRelogin, When: w, Supersede: true, Class: c.String()}
	case signaling.ClassTransient:
		return Action{Op: OpRelogin, When: WhenBackoff, Supersede: true, Class: c.String()}
	case signaling.ClassEscalate:
		return Action{Op: OpRelogin, When: WhenLongBackoff, Supersede: true, Class: c.String()}
	}
	return Action{} // info
}

func decideStreamLink(s Situation, ev signaling.LinkStateEvent) Action {
	if ev.Current != signaling.LinkFailed || s.Relogin {
		return Action{}
	}
	if s.InFlight == OpRejoin || s.InFlight == opJoin || s.InFlight == opLeave {
		return Action{}
	}
	switch c := ev.ReasonCode.Class(); c {
	case signaling.ClassToken:
		return Action{Op: OpRejoin, Supersede: true, Class: c.String()}
	case signaling.ClassKick:
		if s.ReloginOnKick {
			return Action{Op: OpRejoin, When: WhenBackoff, Supersede: true, Report: EventKicked, Class: c.String()}
		}
		return Action{Supersede: true, Report: EventKicked, Class: c.String()}
	case signaling.ClassFatalConfig:
		return Action{Supersede: true, Report: EventGaveUp, Class: c.String()}
	case signaling.ClassBackoff, signaling.ClassTransient:
		w := WhenBackoff
		if ev.ReasonCode == signaling.ReasonOperationRateExceedLimitation {
			w = WhenLongBackoff
		}
		return Action{Op: OpRejoin, When: w, Supersede: true, Class: c.String()}
	case signaling.ClassEscalate:
		return Action{Op: OpRejoin, When: WhenLongBackoff, Supersede: true, Class: c.String()}
	}
	return Action{}
}

// retryOp is the operation to retry after a failure of op: a renewal whose
// deadline passed turns into the recovery path; the first login and join
// are not retried (their caller gets the error).
func retryOp(s Situation, op OpKind) OpKind {
	switch op {
	case opLogin, opJoin, opLeave, opLogout:
		return OpNone
	case OpRenew:
		if s.Expired {
			return recoverOp(s.Key)
		}
	}
	return op
}

func decideFetchFailed(s Situation, sig Signal) Action {
	op := retryOp(s, sig.Op)
	if errors.Is(sig.Err, context.Canceled) && !sig.Timeout {
		return Action{} // superseded or closed
	}
	if sig.Timeout || fetcher.IsRetryable(sig.Err) || errors.Is(sig.Err, ErrSameToken) || errors.Is(sig.Err, ErrStaleToken) {
		return Action{Op: op, When: WhenBackoff, Report: EventFetchFailed, Class: fetcher.Retryable.String()}
	}
	return Action{Op: op, When: WhenLongBackoff, Report: EventFetchFailed, Class: fetcher.Permanent.String()}
}

// Error-code groups for hook failures.
func isFatalCode(c signaling.ErrorCode) bool {
	switch c {
	case signaling.CodeNotInitialized, signaling.CodeInvalidAppID, signaling.CodeInvalidUserID,
		signaling.CodeLoginNotAuthorized, signaling.CodeInconsistentAppID,
		signaling.CodeInstanceAlreadyReleased, signaling.CodeInvalidParameter:
		return true
	}
	return false
}

func isKickCode(c signaling.ErrorCode) bool {
	return c == signaling.CodeLoginRejected || c == signaling.CodeDuplicateUserID
}

func decideHookFailed(s Situation, sig Signal) Action {
	if errors.Is(sig.Err, context.Canceled) && !sig.Timeout {
		return Action{}
	}
	code, hasCode := signaling.CodeOf(sig.Err)
	op := retryOp(s, sig.Op)
	if op == OpNone {
		return Action{Report: EventRenewFailed, Class: "caller"}
	}
	if hasCode {
		switch {
		case isFatalCode(code):
			return Action{Report: EventGaveUp, Class: "fatal-config"}
		case isKickCode(code):
			if s.ReloginOnKick {
				return Action{Op: recoverOp(s.Key), When: WhenBackoff, Report: EventKicked, Class: "kick"}
			}
			return Action{Report: EventKicked, Class: "kick"}
		case code == signaling.CodeOperationRateExceedLimitation:
			return Action{Op: op, When: WhenLongBackoff, Report: EventRenewFailed, Class: "backoff"}
		}
	}
	if sig.Op != OpRenew {
		// Relogin or rejoin: a refused fresh token means the token server
		// mints bad tokens; retry slowly. Anything else: retry.
		if hasCode && code == signaling.CodeInvalidToken {
			return Action{Op: op, When: WhenLongBackoff, Report: EventRenewFailed, Class: "token"}
		}
		if hasCode && s.Key == KeyStream && code == signaling.CodeInvalidChannelName {
			return Action{Report: EventGaveUp, Class: "fatal-config"}
		}
		return Action{Op: op, When: WhenBackoff, Report: EventRenewFailed, Class: "retry"}
	}
	// A renewal in place failed.
	if hasCode {
		switch code {
		case signaling.CodeTokenExpired, signaling.CodeNotLogin:
			return Action{Op: recoverOp(s.Key), Report: EventRenewFailed, Class: "token"}
		case signaling.CodeInvalidToken:
			if !s.Forced && !s.Expired {
				return Action{Op: OpRenew, Force: true, Report: EventRenewFailed, Class: "token"}
			}
			return Action{Op: recoverOp(s.Key), Report: EventRenewFailed, Class: "token"}
		case signaling.CodeChannelNotJoined, signaling.CodeInvalidChannelName:
			if s.Key == KeyStream {
				return Action{Op: OpRejoin, Report: EventRenewFailed, Class: "rejoin"}
			}
		case signaling.CodeNotConnected:
			if s.Key == KeyLogin && !s.Expired {
				return Action{Op: OpRenew, When: WhenConnected, Report: EventRenewFailed, Class: "not-connected"}
			}
		}
	}
	// RENEW_TOKEN_TIMEOUT, our own timeout, a panic, anything unknown: retry
	// while the token is valid (retryOp turns an expired renewal into the
	// recovery path).
	return Action{Op: op, When: WhenBackoff, Report: EventRenewFailed, Class: "retry"}
}
