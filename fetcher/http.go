package fetcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/hashicorp/go-retryablehttp"
)

// HTTP fetches tokens from a token server over HTTP(S). Create it with
// [NewHTTP]; it is safe for concurrent use, and concurrent identical
// requests (equal [Request.Key]) share one round trip and its outcome.
type HTTP struct {
	base     *url.URL
	preset   *presetSpec
	client   *http.Client
	basePath string // base's escaped path without a trailing "/"
	retry    *retryablehttp.Client
	// headers are every request's headers: defaults, then WithHeader's,
	// with headerValues values in all.
	headers      []headerField
	headerValues int
	userHeader   http.Header // WithHeader's alone; they win over a template's
	appID        string
	clock        clock.Clock
	retryMax     int
	waitMin      time.Duration
	waitMax      time.Duration
	ttl          time.Duration
	timeout      time.Duration
	log          *slog.Logger
	quiet        bool // log discards everything: skip timing and logging
	flights      flights
}

var _ Fetcher = (*HTTP)(nil)

// headerField is a header sent with every request.
type headerField struct {
	key    string // canonical
	values []string
}

// NewHTTP returns a fetcher for the token server at serverURL, e.g.
// "https://tokens.example.com" (a path prefix is kept: the preset's routes
// are appended to it). The URL must use https, or plain http to a loopback
// host unless [WithInsecureHTTP] is given; otherwise the error wraps
// [ErrInsecureURL]. Invalid options give errors wrapping [ErrInvalidConfig].
// NewHTTP starts no goroutines and sends nothing.
func NewHTTP(serverURL string, opts ...Option) (*HTTP, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	if o.preset.err != nil {
		o.errs = append(o.errs, o.preset.err)
	}
	if len(o.errs) > 0 {
		return nil, errors.Join(o.errs...)
	}
	base, err := parseServerURL(serverURL, o.insecure)
	if err != nil {
		return nil, err
	}
	var c http.Client
	if o.client != nil {
		c = *o.client
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = DefaultAttemptTimeout
		c.Transport = t
	}
	if o.transport != nil {
		c.Transport = o.transport
	}
	c.CheckRedirect = redirectPolicy(o.insecure, c.CheckRedirect)
	header := http.Header{"Accept": {"application/json"}, "User-Agent": {"tokenkeeper-fetcher"}}
	for k, vs := range o.header {
		header[k] = append([]string(nil), vs...)
	}
	var fields []headerField
	n := 0
	for k, vs := range header {
		fields = append(fields, headerField{k, vs})
		n += len(vs)
	}
	h := &HTTP{
		base:         base,
		basePath:     strings.TrimSuffix(base.EscapedPath(), "/"),
		preset:       o.preset.s,
		client:       &c,
		headers:      fields,
		headerValues: n,
		userHeader:   o.header,
		appID:        o.appID,
		clock:        o.clock,
		retryMax:     o.retryMax,
		waitMin:      o.waitMin,
		waitMax:      o.waitMax,
		ttl:          o.defaultTTL,
		timeout:      o.timeout,
		log:          o.logger,
		quiet:        o.logger.Handler() == slog.DiscardHandler,
	}
	// One go-retryablehttp client serves every fetch; its hooks find the
	// fetch they serve through the request's context (see call).
	h.retry = &retryablehttp.Client{
		HTTPClient:   h.client,
		RetryMax:     h.retryMax,
		RetryWaitMin: h.waitMin,
		RetryWaitMax: h.waitMax,
		CheckRetry:   h.checkRetry,
		Backoff:      h.backoff,
		PrepareRetry: prepareRetry,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return h, nil
}

// parseServerURL checks a token server URL. Errors never repeat the URL's
// password or query, where credentials sometimes travel.
func parseServerURL(s string, insecure bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("fetcher: the server URL does not parse: %w", ErrInvalidConfig)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("fetcher: server URL %q: want http(s)://host[:port][/path]: %w", shownURL(u), ErrInvalidConfig)
	}
	if u.Scheme == "http" && !insecure && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("fetcher: server URL %q uses plain http to a non-loopback host "+
			"(tokens would cross the network in clear); use https, or allow it with WithInsecureHTTP: %w", shownURL(u), ErrInsecureURL)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// shownURL is u without its user info and query, for messages.
func shownURL(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return v.String()
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectPolicy follows at most 10 redirects, never to a plain-http URL
// that NewHTTP would refuse, then defers to next (the caller's own policy).
// A redirect to another host carries only the generic headers: those of
// WithHeader and of a template (an Origin, an API key) stay with the host
// they were meant for.
func redirectPolicy(insecure bool, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errTooManyRedirects
		}
		if req.URL.Scheme != "https" && !(insecure && req.URL.Scheme == "http") && !isLoopback(req.URL.Hostname()) {
			return errInsecureRedirect
		}
		if !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			for k := range req.Header {
				switch k {
				case "Accept", "User-Agent", "Content-Type":
				default:
					delete(req.Header, k)
				}
			}
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

// String describes h by its preset and server URL (without user info or
// query). It exists so that printing a fetcher with fmt's %v or %+v never
// shows the values of its headers (an Authorization, an API key).
func (h *HTTP) String() string {
	return "fetcher.HTTP(" + h.preset.name + " at " + shownURL(h.base) + ")"
}

// GoString is like String, for fmt's %#v.
func (h *HTTP) GoString() string { return h.String() }

// CloseIdleConnections closes the idle connections of the fetcher's HTTP
// client.
func (h *HTTP) CloseIdleConnections() { h.client.CloseIdleConnections() }

// Fetch fetches and checks a token for req. See the package documentation
// for the checks; errors are *[Error] values, or wrap ctx.Err() when ctx
// ends first. A caller whose ctx ends stops waiting at once, without
// cancelling a round trip that other callers of the same request share.
func (h *HTTP) Fetch(ctx context.Context, req Request) (Token, error) {
	if err := ctx.Err(); err != nil {
		return Token{}, ctxError(req, ctx)
	}
	norm, expire, e := h.normalize(req)
	if e != nil {
		e.Request = req
		return Token{}, e
	}
	out, err := h.preset.build(norm, expire)
	if err != nil {
		return Token{}, &Error{Class: Permanent, Request: req, Err: ErrInvalidRequest, Detail: err.Error()}
	}
	tok, err := h.flights.do(ctx, norm.Key(), h.timeout, func() job {
		return &call{h: h, req: norm, out: out}
	})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return Token{}, ctxError(req, ctx)
		}
		var e *Error
		if errors.As(err, &e) {
			// The outcome is shared: give each caller its own copy, naming
			// the request as that caller made it.
			c := *e
			c.Request = req
			return Token{}, &c
		}
		return Token{}, err
	}
	tok.Request = req
	return tok, nil
}

// ctxError wraps the end of the caller's context.
func ctxError(req Request, ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("fetcher: %s token: %w (%w)", req.Kind, err, cause)
	}
	return fmt.Errorf("fetcher: %s token: %w", req.Kind, err)
}

// normalize validates req, fills in the default TTL, and returns the
// lifetime to ask for in seconds.
func (h *HTTP) normalize(req Request) (Request, uint32, *Error) {
	bad := func(format string, args ...any) (Request, uint32, *Error) {
		return req, 0, fail(Permanent, ErrInvalidRequest, nil, format, args...)
	}
	switch req.Kind {
	case KindRTM:
		if req.UserID == "" {
			return bad("empty user ID")
		}
	case KindRTC:
		if req.Channel == "" {
			return bad("empty channel name")
		}
		if req.Role != 0 && req.Role != RolePublisher && req.Role != RoleSubscriber {
			return bad("unknown role %d", int(req.Role))
		}
		if req.Role == 0 {
			req.Role = RolePublisher
		}
	default:
		return bad("unknown token kind %d", int(req.Kind))
	}
	if req.TTL == 0 {
		req.TTL = h.ttl
	}
	if req.TTL < MinTTL || req.TTL > MaxTTL {
		return bad("requested lifetime %v is outside %v … %v", req.TTL, MinTTL, MaxTTL)
	}
	return req, uint32((req.TTL + time.Second - 1) / time.Second), nil
}
