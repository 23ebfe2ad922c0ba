package tokenclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// ErrInvalidConfig wraps every configuration error from New.
var ErrInvalidConfig = errors.New("tokenclient: invalid config")

// Config configures a Client. UserID, Fetcher and SDK are required; every
// other field has a documented default. New validates it once.
type Config struct {
	// UserID is the Signaling user ID: the RTM token's user and the account
	// of every stream-channel token. Required; at most 64 bytes.
	UserID string
	// Fetcher fetches tokens from the application's token server, for
	// example the *fetcher.HTTP returned by fetcher.NewHTTP(url). Required.
	Fetcher fetcher.Fetcher
	// SDK is the application's adapter around its Signaling client (see the
	// package documentation). Required. Implement signaling.StreamSDK too
	// to use stream channels, and signaling.SessionRestorer to restore
	// subscriptions after a relogin.
	SDK signaling.SDK
	// Role is the RTC role asked for stream-channel tokens. Zero means
	// fetcher.RolePublisher.
	Role fetcher.Role
	// TTL is the token lifetime asked of the token server. Zero asks for the
	// server's default (usually one hour); otherwise 1 s … 24 h.
	TTL time.Duration
	// Policy says when and how tokens are renewed. The zero value takes the
	// defaults documented on renewal.Policy: renew at max(2 min, 20 % of the
	// lifetime) before the deadline with up to 10 % jitter, except that the
	// first renewal of a token from a login or a join is drawn between 1 s
	// after receipt and that time (renewal.FirstRenewalSpread); back off
	// from 1 s to 1 min (5 min for permanent errors), never auto-relogin
	// after a kick, no logout on Close.
	Policy renewal.Policy
	// Engine is a shared renewal engine, started by its owner, that runs
	// this client's renewals alongside others. Nil means a private engine,
	// created by New, started by Start and closed by Close.
	Engine *renewal.Engine
	// Clock is the private engine's clock. Nil means the real clock. Must
	// be nil with a shared Engine (configure the engine instead).
	Clock clock.Clock
	// Workers is the private engine's worker count. Zero means 2. Must be
	// zero with a shared Engine.
	Workers int
	// Seed seeds the private engine's jitter. Must be zero with a shared
	// Engine.
	Seed int64
	// Logger receives the private engine's logs. Nil discards them. Must be
	// nil with a shared Engine.
	Logger *slog.Logger
	// OnEvent receives the client's renewal events (renewed, fetch failed,
	// relogin, kicked, clock jump, …). It is called from engine goroutines,
	// in order, and must not block; it may call State and RenewNow but not
	// Close, Start, JoinStream or LeaveStream. Nil drops them (they are
	// logged either way).
	OnEvent func(renewal.Event)
}

// Client keeps one Signaling client authenticated: it logs in with a
// fetched token, joins stream channels, renews every token before it
// expires and recovers when one expires anyway. It is safe for concurrent
// use; WillExpire, LinkState and RenewNow never block.
type Client struct {
	eng     *renewal.Engine
	private bool
	sess    *renewal.Session
}

// New validates cfg and returns a client. It starts nothing: no goroutine
// runs until Start.
func New(cfg Config) (*Client, error) {
	eng := cfg.Engine
	private := eng == nil
	if !private {
		switch {
		case cfg.Clock != nil:
			return nil, fmt.Errorf("%w: Clock is set with a shared Engine; configure the engine instead", ErrInvalidConfig)
		case cfg.Workers != 0:
			return nil, fmt.Errorf("%w: Workers is set with a shared Engine", ErrInvalidConfig)
		case cfg.Seed != 0:
			return nil, fmt.Errorf("%w: Seed is set with a shared Engine", ErrInvalidConfig)
		case cfg.Logger != nil:
			return nil, fmt.Errorf("%w: Logger is set with a shared Engine", ErrInvalidConfig)
		}
	} else {
		if cfg.Workers < 0 {
			return nil, fmt.Errorf("%w: Workers %d is negative", ErrInvalidConfig, cfg.Workers)
		}
		workers := cfg.Workers
		if workers == 0 {
			workers = 2
		}
		var err error
		// No engine-wide OnEvent: the engine also reports a clock jump to
		// each session, so passing cfg.OnEvent here would deliver it twice.
		eng, err = renewal.NewEngine(renewal.Config{Clock: cfg.Clock, Workers: workers, Seed: cfg.Seed,
			Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	sess, err := eng.NewSession(renewal.SessionConfig{
		UserID: cfg.UserID, Fetcher: cfg.Fetcher, SDK: cfg.SDK, Role: cfg.Role, TTL: cfg.TTL,
		Policy: cfg.Policy, OnEvent: cfg.OnEvent,
	})
	if err != nil {
		if errors.Is(err, renewal.ErrInvalidConfig) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		return nil, fmt.Errorf("tokenclient: %w", err)
	}
	return &Client{eng: eng, private: private, sess: sess}, nil
}

// Start starts the private engine (if any), fetches an RTM token, logs in
// and schedules renewal. It blocks until the login succeeded or failed, or
// ctx ended; after a failure Start may be called again.
func (c *Client) Start(ctx context.Context) error {
	if c.private {
		if err := c.eng.Start(); err != nil && !errors.Is(err, renewal.ErrAlreadyStarted) {
			return fmt.Errorf("tokenclient: %w", err)
		}
	}
	if err := c.sess.Start(ctx); err != nil {
		return fmt.Errorf("tokenclient: start: %w", err)
	}
	return nil
}

// JoinStream fetches an RTC token for channel, joins it through the SDK
// adapter and keeps its token renewed. It blocks like Start.
func (c *Client) JoinStream(ctx context.Context, channel string) error {
	if err := c.sess.JoinStream(ctx, channel); err != nil {
		return fmt.Errorf("tokenclient: %w", err)
	}
	return nil
}

// LeaveStream stops renewing channel's token and leaves it through the SDK
// adapter.
func (c *Client) LeaveStream(ctx context.Context, channel string) error {
	if err := c.sess.LeaveStream(ctx, channel); err != nil {
		return fmt.Errorf("tokenclient: %w", err)
	}
	return nil
}

// WillExpire forwards the SDK's onTokenPrivilegeWillExpire(channel) ("" is
// the login token). It never blocks; call it from the SDK's callback.
func (c *Client) WillExpire(channel string) { c.sess.WillExpire(channel) }

// LinkState forwards the SDK's onLinkStateEvent. It never blocks and copies
// ev.
func (c *Client) LinkState(ev signaling.LinkStateEvent) { c.sess.LinkState(ev) }

// RenewNow asks for an immediate renewal of channel's token ("" is the
// login token). It never blocks. After a kick or a fatal configuration
// error it starts the relogin path: the way to resume once fixed.
func (c *Client) RenewNow(channel string) { c.sess.RenewNow(channel) }

// State returns a snapshot of the client's tokens: the login first, then
// each stream channel.
func (c *Client) State() []renewal.KeyState { return c.sess.State() }

// Engine returns the engine running the client's renewals (the private one
// or the shared Config.Engine), for Activity and Stats.
func (c *Client) Engine() *renewal.Engine { return c.eng }

// Close stops renewing (logging out if Policy.LogoutOnClose) and, with a
// private engine, stops its goroutines. It waits for that or for ctx; it is
// idempotent.
func (c *Client) Close(ctx context.Context) error {
	err := c.sess.Close(ctx)
	if c.private {
		err = errors.Join(err, c.eng.Close(ctx))
	}
	if err != nil {
		return fmt.Errorf("tokenclient: close: %w", err)
	}
	return nil
}
