package signaling

import "context"

// SDK is the part of a Signaling client the renewal engine drives for the
// login (RTM) token. An application implements it around its SDK binding.
//
// Each method must block until the SDK reports the outcome of the call (the
// matching onLoginResult, onLogoutResult or onRenewTokenResult) or ctx ends,
// and return nil only on success. A failure reported by the SDK should be
// returned as an *[Error] carrying the SDK's code, so the engine can tell an
// expired token from a rate limit. Synchronous return values of wrapper
// libraries reflect only local argument checks; adapters must not treat them
// as the outcome.
//
// Methods may be called from the engine's worker goroutines, never
// concurrently for the same client: the engine serializes login, logout and
// renew per client.
type SDK interface {
	// Login logs in with an RTM token.
	Login(ctx context.Context, token string) error
	// Logout logs out. The engine calls it before a re-login after FAILED,
	// because SDK wrappers refuse a second login until logout has run.
	Logout(ctx context.Context) error
	// RenewToken replaces the login token of a connected client.
	RenewToken(ctx context.Context, token string) error
}

// StreamSDK is the optional stream-channel part of a Signaling client. An
// [SDK] that also implements StreamSDK can have stream channels joined and
// their RTC tokens renewed by the engine. The blocking and error contract of
// [SDK] applies.
type StreamSDK interface {
	// JoinStream creates (if needed) and joins the stream channel with an
	// RTC token.
	JoinStream(ctx context.Context, channel, token string) error
	// RenewStreamToken replaces the RTC token of a joined stream channel.
	RenewStreamToken(ctx context.Context, channel, token string) error
	// LeaveStream leaves the stream channel.
	LeaveStream(ctx context.Context, channel string) error
}

// SessionRestorer is optionally implemented by an [SDK] that needs to restore
// state the SDK drops on a re-login (message-channel subscriptions, presence).
// The engine calls RestoreSession after a re-login, once the stream channels
// have been rejoined; channels lists the stream channels that were rejoined.
type SessionRestorer interface {
	RestoreSession(ctx context.Context, channels []string) error
}
