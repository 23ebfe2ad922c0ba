package accesstoken

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them (test with errors.Is) and adds context; none ever contains a token or
// a certificate.
var (
	// ErrMalformed means the token is not a well-formed 007 or 006 token:
	// bad base64, a broken zlib stream, or a field cut short.
	ErrMalformed = errors.New("accesstoken: malformed token")
	// ErrUnsupportedVersion means the token does not start with "007" or
	// "006", or an operation is not available for the token's version.
	ErrUnsupportedVersion = errors.New("accesstoken: unsupported token version")
	// ErrTooLarge means the token text, or its inflated payload, exceeds the
	// size caps (MaxTokenLen, MaxPayloadSize).
	ErrTooLarge = errors.New("accesstoken: token too large")
	// ErrInvalidSignature means the signature does not match the
	// certificate (or the channel name and uid, for 006).
	ErrInvalidSignature = errors.New("accesstoken: invalid signature")
	// ErrInvalidCertificate means an app certificate is not 32 hexadecimal
	// characters.
	ErrInvalidCertificate = errors.New("accesstoken: invalid app certificate")
	// ErrInvalidAppID means an app ID is not 32 hexadecimal characters.
	ErrInvalidAppID = errors.New("accesstoken: invalid app ID")
	// ErrNoServices means Build was asked for a token without services.
	ErrNoServices = errors.New("accesstoken: no services")
	// ErrInvalidService means Build was given a service it cannot encode:
	// an unknown type, a duplicate privilege id, or a field too long for its
	// 16-bit length prefix.
	ErrInvalidService = errors.New("accesstoken: invalid service")
)

// errShort is the cause recorded in a ParseError when a field runs past the
// end of the payload.
var errShort = errors.New("unexpected end of data")

// ParseError reports a payload field that could not be read. It unwraps to
// ErrMalformed and to its cause.
type ParseError struct {
	Offset int    // byte offset of the field in the inflated payload
	Field  string // field name as in the format spec, e.g. "appId" or "services[1].channelName"
	Err    error  // the cause, e.g. "unexpected end of data"
}

// Error formats e as "accesstoken: malformed token: FIELD at byte N: CAUSE".
func (e *ParseError) Error() string {
	msg := ErrMalformed.Error() + ": " + e.Field + " at byte " + strconv.Itoa(e.Offset)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrMalformed and the cause, so errors.Is matches both.
func (e *ParseError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrMalformed}
	}
	return []error{ErrMalformed, e.Err}
}
