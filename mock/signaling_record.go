package mock

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// EntryKind is what a timeline [Entry] of the fake [Signaling] records.
type EntryKind int

// Entry kinds. Calls whose token was rejected are recorded as
// EntryRejected or EntryExpiredUse; other failed calls keep the kind of the
// call with a non-zero Code (or OK false and no code for a cancelled
// context).
const (
	EntryLogin       EntryKind = iota + 1 // Login
	EntryLogout                           // Logout
	EntryRenew                            // RenewToken that installed a new login token
	EntryRenewNoop                        // RenewToken or RenewStreamToken with the token already in use
	EntryJoin                             // JoinStream
	EntryLeave                            // LeaveStream
	EntryRenewStream                      // RenewStreamToken that installed a new token
	EntryRestore                          // RestoreSession
	EntryWillExpire                       // a will-expire signal, delivered or dropped
	EntryLinkState                        // a link-state event
	EntryRejected                         // a token refused for a reason other than expiry
	EntryExpiredUse                       // an expired token was used
)

var entryKindNames = [...]string{"", "login", "logout", "renew", "renew-noop", "join", "leave",
	"renew-stream", "restore", "will-expire", "link-state", "rejected", "expired-use"}

// String returns a short lower-case name for k.
func (k EntryKind) String() string {
	if k > 0 && int(k) < len(entryKindNames) {
		return entryKindNames[k]
	}
	return "EntryKind(" + strconv.Itoa(int(k)) + ")"
}

// Entry is one line of the fake [Signaling]'s timeline. It never contains a
// token: at most its first six characters and its length.
type Entry struct {
	Time    time.Time           // on the fake's clock; for signals, the time they were due
	Kind    EntryKind           //
	Op      SDKOp               // the call that made the entry; zero for signals
	Channel string              // the stream channel, or "" for the login token or session
	OK      bool                // the call succeeded, or the signal was delivered
	Code    signaling.ErrorCode // the SDK error code a failed call returned
	Detail  string              // free text for people: redacted token, deadline, event
}

// String formats e as one readable timeline line, for example
//
//	2026-11-25T10:00:00Z  renew         login token         ok  token 007eJx…(139 chars), deadline 2026-11-26T10:00:00Z
func (e Entry) String() string {
	var target string
	switch {
	case e.Channel != "":
		target = "channel " + strconv.Quote(e.Channel)
	case e.Kind == EntryLinkState:
		target = "message link"
	case e.Kind == EntryLogout || e.Kind == EntryRestore:
		target = "session"
	default:
		target = "login token"
	}
	var result string
	switch {
	case e.Kind == EntryLinkState:
		result = "event"
	case e.Kind == EntryWillExpire && e.OK:
		result = "delivered"
	case e.Kind == EntryWillExpire:
		result = "dropped"
	case e.OK:
		result = "ok"
	case e.Code != 0:
		result = fmt.Sprintf("%s(%d)", e.Code, int(e.Code))
	default:
		result = "failed"
	}
	line := fmt.Sprintf("%-20s  %-12s  %-18s  %s", e.Time.UTC().Format(time.RFC3339Nano), e.Kind, target, result)
	if e.Detail != "" {
		line += "  " + e.Detail
	}
	return line
}

// SignalingStats counts what happened to a fake [Signaling].
type SignalingStats struct {
	Logins         int // successful logins
	Logouts        int // successful logouts
	Renewals       int // login-token renewals that installed a new token
	RenewNoops     int // renewals (login or stream) with the token already in use
	Joins          int // successful stream joins
	Leaves         int // successful stream leaves
	StreamRenewals int // stream-token renewals that installed a new token
	Restores       int // successful RestoreSession calls

	WillExpireSignals int // will-expire signals delivered
	DroppedWillExpire int // will-expire signals swallowed by DropWillExpire
	FailedSignals     int // FAILED link events: token deadlines, ExpireNow, Kick

	// ExpiredTokenUses counts every call made with an expired token (past
	// its token or privilege deadline, or forced to expire by ExpireNow).
	// A client that renews on time keeps it at zero.
	ExpiredTokenUses int
	// RejectedTokens counts tokens refused for any other reason: malformed,
	// bad signature, wrong app, user, channel or privilege.
	RejectedTokens int
	FailedCalls    int // calls that returned an error, for any reason
	InjectedFaults int // faults consumed: FailNext, HangNext, PanicNext

	// LoggedOut is the total time the message link was not CONNECTED since
	// the first successful login, up to now.
	LoggedOut time.Duration
	// MaxLoggedOut is the longest single stretch of LoggedOut.
	MaxLoggedOut time.Duration
}

// Timeline returns a copy of every entry recorded so far, oldest first.
func (s *Signaling) Timeline() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.timeline)
}

// Stats returns the counters, with a logged-out stretch still in progress
// counted up to the clock's current time.
func (s *Signaling) Stats() SignalingStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	if s.outCounted {
		d := max(s.clock.Now().Sub(s.outSince), 0)
		st.LoggedOut += d
		st.MaxLoggedOut = max(st.MaxLoggedOut, d)
	}
	return st
}

// recordLocked appends e to the timeline and logs it at debug level.
func (s *Signaling) recordLocked(e Entry) {
	s.timeline = append(s.timeline, e)
	s.log.Debug("mock signaling", slog.String("entry", e.String()))
}

// recordCallLocked records the outcome of a call and counts a failure.
// err is nil on success; an *signaling.Error supplies the code.
func (s *Signaling) recordCallLocked(now time.Time, kind EntryKind, op SDKOp, channel string, err error, detail string) {
	e := Entry{Time: now, Kind: kind, Op: op, Channel: channel, OK: err == nil, Detail: detail}
	if err != nil {
		s.stats.FailedCalls++
		if code, ok := signaling.CodeOf(err); ok {
			e.Code = code
		} else if detail == "" {
			e.Detail = err.Error()
		}
	}
	s.recordLocked(e)
}
