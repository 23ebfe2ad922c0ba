package fetcher

import (
	"context"
	"strconv"
	"time"
)

// Kind is the kind of token a [Request] asks for.
type Kind int

// Token kinds.
const (
	// KindRTM is a Signaling login token for a user ID.
	KindRTM Kind = iota + 1
	// KindRTC is a token to join one stream channel, bound to the channel
	// name and a numeric uid or a string account.
	KindRTC
)

// String returns "rtm", "rtc" or a number.
func (k Kind) String() string {
	switch k {
	case KindRTM:
		return "rtm"
	case KindRTC:
		return "rtc"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Role is the RTC role a stream-channel token grants.
type Role int

// RTC roles with Agora's numeric values.
const (
	// RolePublisher may join and publish (privileges 1–4). It is the default
	// when a Request leaves Role zero.
	RolePublisher Role = 1
	// RoleSubscriber may only join (privilege 1).
	RoleSubscriber Role = 2
)

// String returns "publisher", "subscriber" or a number.
func (r Role) String() string {
	switch r {
	case RolePublisher, 0:
		return "publisher"
	case RoleSubscriber:
		return "subscriber"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// Request says which token to fetch.
//
// An RTM request sets Kind = KindRTM and UserID. An RTC request sets
// Kind = KindRTC, Channel, and either Account (a string user account, used
// verbatim; "0" is an account, not the wildcard) or UID (a numeric uid; 0 is
// the wildcard that lets any uid join). Signaling stream channels identify
// users by their string user ID, so RTC requests made by tokenclient set
// Account to the user ID.
type Request struct {
	Kind    Kind
	UserID  string // RTM: the Signaling user ID
	Channel string // RTC: the stream channel name
	UID     uint32 // RTC: numeric uid, used when Account is empty
	Account string // RTC: string user account
	Role    Role   // RTC: zero means RolePublisher
	// TTL is the lifetime to ask the server for. Zero asks for the
	// fetcher's default (one hour); the server may ignore it. Values outside
	// 1 s … 24 h are refused before sending, because servers wrap them
	// through 32 bits.
	TTL time.Duration
}

// Key returns a string identifying the token r asks for; identical requests
// have equal keys. Fetchers use it to share one round trip between
// concurrent identical requests.
func (r Request) Key() string {
	// Appended on the stack, so that the key costs one allocation.
	var buf [128]byte
	b := buf[:0]
	if r.Kind == KindRTM {
		b = append(b, "rtm\x00"...)
		b = append(b, r.UserID...)
	} else {
		b = append(b, r.Kind.String()...)
		b = append(b, 0)
		b = append(b, r.Channel...)
		b = append(b, 0)
		if r.Account != "" {
			b = append(b, '@')
			b = append(b, r.Account...)
		} else {
			b = append(b, '#')
			b = strconv.AppendUint(b, uint64(r.UID), 10)
		}
		role := r.Role
		if role == 0 {
			role = RolePublisher
		}
		b = append(b, 0)
		b = strconv.AppendInt(b, int64(role), 10)
	}
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(r.TTL), 10)
	return string(b)
}

// Token is a token fetched for a [Request], checked and decoded.
type Token struct {
	// Raw is the token string as received (surrounding whitespace trimmed).
	// Never log it; use [Redact].
	Raw string
	// Request is the request the token was fetched for.
	Request Request
	// IssuedAt is the token's own issue time, on the token server's clock.
	IssuedAt time.Time
	// ExpiresAt is the token's own expiry (issue time + lifetime), on the
	// token server's clock.
	ExpiresAt time.Time
	// ReceivedAt is the local time the response arrived.
	ReceivedAt time.Time
	// ServerTime is the token server's clock when it answered, from the
	// response's Date header (one-second resolution); zero when the server
	// sent none.
	ServerTime time.Time
	// Lifetime is the lifetime written in the token.
	Lifetime time.Duration
}

// Deadline returns the local time by which the token must be replaced,
// measured from local receipt so that neither clock's offset matters: the
// token's remaining life when it was served is added to ReceivedAt.
//
// With ServerTime known, the remaining life is ExpiresAt − ServerTime, both
// on the server's clock, less one second for the Date header's resolution:
// a token issued a while before it was served (cached) gets its true
// remaining life, and a client clock running ahead of or behind the server's
// changes nothing. Without ServerTime the deadline is the earlier of
// ReceivedAt + Lifetime (immune to a server clock that runs ahead) and
// ExpiresAt (honest about a cached token or a server clock that runs
// behind). The result is never later than ReceivedAt + Lifetime.
func (t Token) Deadline() time.Time {
	d := t.ReceivedAt.Add(t.Lifetime)
	if !t.ServerTime.IsZero() && !t.ExpiresAt.IsZero() {
		if left := t.ExpiresAt.Sub(t.ServerTime) - time.Second; left < t.Lifetime {
			return t.ReceivedAt.Add(left)
		}
		return d
	}
	if !t.ExpiresAt.IsZero() && t.ExpiresAt.Before(d) {
		return t.ExpiresAt
	}
	return d
}

// Fetcher fetches tokens from a token server.
//
// Fetch must be safe for concurrent use, must honour ctx (returning promptly
// with an error wrapping ctx.Err() when it ends) and must return either a
// checked token for exactly the request or an error. Errors should be, or
// wrap, an *[Error] so callers can tell retryable from permanent failures.
type Fetcher interface {
	Fetch(ctx context.Context, req Request) (Token, error)
}

// Func adapts a function to the [Fetcher] interface.
type Func func(ctx context.Context, req Request) (Token, error)

// Fetch calls f(ctx, req).
func (f Func) Fetch(ctx context.Context, req Request) (Token, error) { return f(ctx, req) }

// Redact returns a form of a token or secret that is safe to log: its first
// six characters, an ellipsis and its length. Strings of twelve characters or
// fewer are replaced entirely.
func Redact(s string) string {
	if len(s) <= 12 {
		return "[redacted]"
	}
	return s[:6] + "…(" + strconv.Itoa(len(s)) + " chars)"
}
