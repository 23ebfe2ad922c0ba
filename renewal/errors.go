package renewal

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
)

// Sentinel errors. Errors returned by this package wrap them; test with
// errors.Is.
var (
	// ErrInvalidConfig wraps every configuration error from NewEngine and
	// NewSession.
	ErrInvalidConfig = errors.New("renewal: invalid config")
	// ErrClosed is returned by calls on a closed engine or session.
	ErrClosed = errors.New("renewal: closed")
	// ErrNotStarted is returned when an engine or session is used before
	// its Start.
	ErrNotStarted = errors.New("renewal: not started")
	// ErrAlreadyStarted is returned by a second Start.
	ErrAlreadyStarted = errors.New("renewal: already started")
	// ErrNoStreamSDK is returned by JoinStream when the session's SDK does
	// not implement signaling.StreamSDK.
	ErrNoStreamSDK = errors.New("renewal: SDK does not implement signaling.StreamSDK")
	// ErrUnknownChannel is returned by LeaveStream for a channel the
	// session has not joined.
	ErrUnknownChannel = errors.New("renewal: unknown stream channel")
	// ErrAlreadyJoined is returned by JoinStream for a channel the session
	// already manages.
	ErrAlreadyJoined = errors.New("renewal: stream channel already joined")
	// ErrKicked is reported (in Event.Err and KeyState.LastErr) when the
	// server removed the session (same user ID logged in elsewhere, kicked,
	// login rejected) and Policy.ReloginOnKick is off.
	ErrKicked = errors.New("renewal: kicked")
	// ErrGaveUp is reported when a fatal configuration error (wrong app ID,
	// user ID, channel, service not enabled) stops renewal of a key. Call
	// RenewNow after fixing the configuration to try again.
	ErrGaveUp = errors.New("renewal: gave up")
	// ErrSameToken is the failure recorded when the token server returned
	// the token already in use; the engine never renews with it.
	ErrSameToken = errors.New("renewal: token server returned the token already in use")
	// ErrStaleToken is the failure recorded when a fetched token's deadline
	// has already passed.
	ErrStaleToken = errors.New("renewal: fetched token is already expired")
	// ErrHookPanic wraps the value of a panicking hook (SDK call or fetch).
	ErrHookPanic = errors.New("renewal: hook panicked")
	// ErrHookTimeout wraps a hook that did not return before its timeout.
	ErrHookTimeout = errors.New("renewal: hook timed out")
)

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// redactedError hides a token that an adapter or fetcher put into its error
// text, while keeping the original reachable through Unwrap for errors.Is,
// errors.As and signaling.CodeOf.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// scrub returns err, or a wrapper whose message has every occurrence of the
// given tokens replaced by their redacted form.
func scrub(err error, tokens ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, t := range tokens {
		if len(t) >= 4 && strings.Contains(msg, t) {
			msg = strings.ReplaceAll(msg, t, fetcher.Redact(t))
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}
