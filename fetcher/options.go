package fetcher

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/benbjohnson/clock"
)

// Defaults of the HTTP fetcher.
const (
	// DefaultTTL is the lifetime asked for when a Request leaves TTL zero.
	DefaultTTL = time.Hour
	// MinTTL and MaxTTL bound a requested lifetime. Agora tokens last at
	// most 24 h, and servers wrap larger values through 32 bits.
	MinTTL = time.Second
	MaxTTL = 24 * time.Hour
	// DefaultRetryMax is the number of in-request retries of a transient
	// failure (so at most DefaultRetryMax+1 attempts).
	DefaultRetryMax = 2
	// DefaultRetryWaitMin and DefaultRetryWaitMax bound the jittered wait
	// between in-request retries.
	DefaultRetryWaitMin = 100 * time.Millisecond
	DefaultRetryWaitMax = 2 * time.Second
	// DefaultTimeout bounds one whole fetch, retries included.
	DefaultTimeout = 30 * time.Second
	// DefaultAttemptTimeout bounds the wait for the response headers of one
	// HTTP attempt of the default client (dialing and TLS have their own
	// bounds in net/http's default transport), so that a hung attempt is
	// retried within the fetch.
	DefaultAttemptTimeout = 10 * time.Second
	// MaxResponseSize is the largest response body the fetcher reads.
	MaxResponseSize = 64 << 10
)

// An Option configures [NewHTTP].
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	preset     Preset
	client     *http.Client
	transport  http.RoundTripper
	header     http.Header
	appID      string
	clock      clock.Clock
	retryMax   int
	waitMin    time.Duration
	waitMax    time.Duration
	defaultTTL time.Duration
	timeout    time.Duration
	logger     *slog.Logger
	insecure   bool
	errs       []error
}

func defaultOptions() options {
	return options{
		preset:     PresetAgoraTokenService,
		header:     make(http.Header),
		clock:      clock.New(),
		retryMax:   DefaultRetryMax,
		waitMin:    DefaultRetryWaitMin,
		waitMax:    DefaultRetryWaitMax,
		defaultTTL: DefaultTTL,
		timeout:    DefaultTimeout,
		logger:     slog.New(slog.DiscardHandler),
	}
}

func (o *options) errorf(format string, args ...any) {
	o.errs = append(o.errs, fmt.Errorf("fetcher: "+format+": %w", append(args, ErrInvalidConfig)...))
}

// WithPreset selects how requests are built and responses read. The default
// is [PresetAgoraTokenService]; a zero Preset also means the default.
func WithPreset(p Preset) Option {
	return optionFunc(func(o *options) {
		if p.s == nil && p.err == nil {
			p = PresetAgoraTokenService
		}
		o.preset = p
	})
}

// WithHTTPClient sets the HTTP client used for every attempt. The fetcher
// works on a shallow copy, so c is not modified; the copy's CheckRedirect
// additionally refuses redirects to insecure URLs. The default client uses a
// clone of http.DefaultTransport whose ResponseHeaderTimeout is
// [DefaultAttemptTimeout]. WithTransport takes precedence over the client's
// Transport.
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(o *options) {
		if c == nil {
			o.errorf("WithHTTPClient: nil client")
			return
		}
		o.client = c
	})
}

// WithTransport sets the round tripper of the HTTP client, e.g. an in-memory
// transport in tests.
func WithTransport(rt http.RoundTripper) Option {
	return optionFunc(func(o *options) {
		if rt == nil {
			o.errorf("WithTransport: nil transport")
			return
		}
		o.transport = rt
	})
}

// WithHeader adds a header sent with every request, e.g. an Origin that a
// server pinning CORS origins allows, or an Authorization. Header values are
// never logged nor put in errors. It may be given several times; values for
// the same key accumulate.
func WithHeader(key, value string) Option {
	return optionFunc(func(o *options) {
		k := textproto.TrimString(key)
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			o.errorf("WithHeader: invalid header name %q", key)
			return
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			o.errorf("WithHeader: value for %q contains a line break or NUL", k)
			return
		}
		o.header.Add(k, value)
	})
}

// WithAppID makes the fetcher refuse a token whose app ID is not id, with
// [ErrMismatch].
func WithAppID(id string) Option {
	return optionFunc(func(o *options) { o.appID = id })
}

// WithClock sets the clock used for [Token.ReceivedAt], the expiry check and
// HTTP-date Retry-After values. The default is the real clock. Waits between
// in-request retries are made by go-retryablehttp on the real clock; with a
// clock.Mock, pass WithRetry(0, 0, 0) and retry at a higher level.
func WithClock(c clock.Clock) Option {
	return optionFunc(func(o *options) {
		if c == nil {
			o.errorf("WithClock: nil clock")
			return
		}
		o.clock = c
	})
}

// WithRetry sets the in-request retries of transient failures (5xx, 429,
// 408, timeouts, refused and reset connections): at most max retries, with a
// jittered exponential wait between minWait and maxWait. A Retry-After the
// server sends is honoured when it is at most maxWait; a longer one ends the
// fetch at once with an *[Error] carrying it in RetryAfter, for the caller's
// scheduler to honour. max 0 disables retries. The default is
// [DefaultRetryMax] retries between [DefaultRetryWaitMin] and
// [DefaultRetryWaitMax].
func WithRetry(max int, minWait, maxWait time.Duration) Option {
	return optionFunc(func(o *options) {
		if max < 0 || minWait < 0 || maxWait < minWait {
			o.errorf("WithRetry(%d, %v, %v): want max >= 0 and 0 <= minWait <= maxWait", max, minWait, maxWait)
			return
		}
		o.retryMax, o.waitMin, o.waitMax = max, minWait, maxWait
	})
}

// WithDefaultTTL sets the lifetime asked for when a Request leaves TTL zero
// (default [DefaultTTL]). It must lie within [MinTTL] … [MaxTTL].
func WithDefaultTTL(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d < MinTTL || d > MaxTTL {
			o.errorf("WithDefaultTTL(%v): want %v … %v", d, MinTTL, MaxTTL)
			return
		}
		o.defaultTTL = d
	})
}

// WithTimeout bounds one whole fetch, retries included (default
// [DefaultTimeout]). The bound applies to the round trip shared by concurrent
// identical requests, which runs detached from any single caller's context.
// Fetches that start close together share one deadline timer, so a fetch
// may run up to an eighth of d (at most a second) longer than d; a caller's
// own context still ends its wait exactly. (Like an http.Transport, a
// fetcher thus keeps state between fetches: don't share one across
// testing/synctest bubbles.)
// Like the in-request retry waits, it runs on the real clock, not the one
// given to WithClock: under a clock.Mock the caller's context (the renewal
// engine's fetch timeout, on the mock clock) is what bounds a hung server.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.errorf("WithTimeout(%v): want a positive duration", d)
			return
		}
		o.timeout = d
	})
}

// WithLogger sets a logger for attempts, retries and failures (default:
// discard). Tokens, header values and request bodies are never logged.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		if l != nil {
			o.logger = l
		}
	})
}

// WithInsecureHTTP allows plain http to hosts other than loopback, e.g. a
// token server on a private network. Without it NewHTTP refuses such URLs
// with [ErrInsecureURL], and redirects to them are refused too.
func WithInsecureHTTP() Option {
	return optionFunc(func(o *options) { o.insecure = true })
}
