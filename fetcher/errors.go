package fetcher

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Class says whether a failed fetch is worth retrying.
type Class int

// Error classes.
const (
	// Retryable failures are transient: 5xx, 429, timeouts, refused or
	// reset connections. Retrying later may succeed.
	Retryable Class = iota + 1
	// Permanent failures will fail again the same way: 400/401/403/404, a
	// token for the wrong app, user or channel, a malformed response, a bad
	// request. Retrying without a configuration change is pointless.
	Permanent
)

// String returns "retryable" or "permanent".
func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Sentinel errors, wrapped by *Error; test with errors.Is.
var (
	ErrInvalidRequest = errors.New("invalid request")           // refused before sending
	ErrInsecureURL    = errors.New("insecure token server URL") // plain http to a non-loopback host
	ErrStatus         = errors.New("unexpected HTTP status")
	ErrTooLarge       = errors.New("response too large")
	ErrBadResponse    = errors.New("malformed response") // not JSON, wrong shape, no token field
	ErrBadToken       = errors.New("token does not decode")
	ErrMismatch       = errors.New("token is for a different app, user or channel")
	ErrExpired        = errors.New("token already expired")
	ErrTransport      = errors.New("transport failure")             // timeouts, refused and reset connections
	ErrInvalidConfig  = errors.New("invalid fetcher configuration") // from NewHTTP, Custom or PresetByName
)

// Error is a failed fetch. It wraps one of the sentinel errors (and the
// underlying cause, when there is one), and never contains a token.
type Error struct {
	Class      Class
	Request    Request
	StatusCode int           // HTTP status, 0 when no response arrived
	RetryAfter time.Duration // from a Retry-After header, 0 when absent
	Detail     string        // what was wrong, in words; never a token
	Err        error         // a sentinel above, possibly joined with a cause
}

// Error formats e as "fetcher: KIND token for WHO: DETAIL", where WHO names
// the RTM user or the RTC channel and user when the request has them.
func (e *Error) Error() string {
	msg := "fetcher: " + e.Request.Kind.String() + " token"
	if who := e.Request.describe(); who != "" {
		msg += " for " + who
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	} else if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the wrapped errors.
func (e *Error) Unwrap() error { return e.Err }

// IsRetryable reports whether err is a fetch failure worth retrying. Context
// cancellation is not retryable; errors that carry no class are treated as
// retryable, because a fetcher that cannot say is more likely down than
// misconfigured.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class == Retryable
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// RetryAfter returns the server's requested wait carried by err, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}
