package fetcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/hashicorp/go-retryablehttp"
)

// HTTP fetches tokens from a token server over HTTP(S). Create it with
// [NewHTTP]; it is safe for concurrent use, and concurrent identical
// requests (equal [Request.Key]) share one round trip and its outcome.
type HTTP struct {
	base       *url.URL
	preset     *presetSpec
	client     *http.Client
	header     http.Header // every request's headers: defaults, then WithHeader's
	userHeader http.Header // WithHeader's alone; they win over a template's
	appID      string
	clock      clock.Clock
	retryMax   int
	waitMin    time.Duration
	waitMax    time.Duration
	ttl        time.Duration
	timeout    time.Duration
	log        *slog.Logger
	insecure   bool
	flights    flights
}

var _ Fetcher = (*HTTP)(nil)

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
	return &HTTP{
		base:       base,
		preset:     o.preset.s,
		client:     &c,
		header:     header,
		userHeader: o.header,
		appID:      o.appID,
		clock:      o.clock,
		retryMax:   o.retryMax,
		waitMin:    o.waitMin,
		waitMax:    o.waitMax,
		ttl:        o.defaultTTL,
		timeout:    o.timeout,
		log:        o.logger,
		insecure:   o.insecure,
	}, nil
}

// parseServerURL checks a token server URL.
func parseServerURL(s string, insecure bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("fetcher: server URL: %w: %w", err, ErrInvalidConfig)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("fetcher: server URL %q: want http(s)://host[:port][/path]: %w", s, ErrInvalidConfig)
	}
	if u.Scheme == "http" && !insecure && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("fetcher: server URL %q uses plain http to a non-loopback host "+
			"(tokens would cross the network in clear); use https, or allow it with WithInsecureHTTP: %w", s, ErrInsecureURL)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
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
func redirectPolicy(insecure bool, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errTooManyRedirects
		}
		if req.URL.Scheme != "https" && !(insecure && req.URL.Scheme == "http") && !isLoopback(req.URL.Hostname()) {
			return errInsecureRedirect
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

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
	tok, err, _ := h.flights.do(ctx, norm.Key(), h.timeout, func(fctx context.Context) (Token, error) {
		return h.fetch(fctx, norm, out)
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

// attempt holds the state of one fetch across go-retryablehttp attempts.
type attempt struct {
	body     []byte
	bodyRead bool
	tries    int
}

// fetch performs the round trip (with in-request retries) and checks the
// answer. It runs once per key at a time, on the shared context.
func (h *HTTP) fetch(ctx context.Context, req Request, out outgoing) (tok Token, err error) {
	start := h.clock.Now()
	var a attempt
	defer func() { h.logResult(req, start, a.tries, err) }()

	rreq, err := h.newRequest(ctx, out, &a)
	if err != nil {
		return Token{}, &Error{Class: Permanent, Request: req, Err: ErrInvalidRequest, Detail: sanitize(err.Error())}
	}
	rc := &retryablehttp.Client{
		HTTPClient:   h.client,
		RetryMax:     h.retryMax,
		RetryWaitMin: h.waitMin,
		RetryWaitMax: h.waitMax,
		CheckRetry:   h.checkRetry,
		Backoff:      h.backoff,
		RequestLogHook: func(_ retryablehttp.Logger, _ *http.Request, n int) {
			a.tries = n + 1
			a.body, a.bodyRead = nil, false
		},
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	resp, doErr := rc.Do(rreq)
	received := h.clock.Now()
	if resp != nil && !a.bodyRead {
		a.body, _ = readCapped(resp.Body)
		resp.Body.Close()
	}
	if doErr != nil {
		return Token{}, h.requestError(ctx, req, resp, doErr)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ra, _ := parseRetryAfter(resp.Header.Get("Retry-After"), received)
		e := statusError(resp.StatusCode, resp.Header, a.body, ra, h.preset.name, h.preset.docsCode)
		e.Request = req
		return Token{}, e
	}
	d, e := decodeBody(h.preset, req.Kind, resp.Header.Get("Content-Type"), a.body)
	if e == nil {
		tok, e = checkToken(d.raw, req, h.appID, received, d.expiry)
	}
	if e != nil {
		e.Request = req
		e.StatusCode = resp.StatusCode
		return Token{}, e
	}
	return tok, nil
}

// requestError turns a failed go-retryablehttp Do into an error.
func (h *HTTP) requestError(ctx context.Context, req Request, resp *http.Response, err error) error {
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &Error{Class: Retryable, Request: req, StatusCode: status, Err: joinErrors(ErrTransport, ctxErr),
				Detail: "no usable answer within " + h.timeout.String()}
		}
		return fmt.Errorf("fetcher: %s token: %w", req.Kind, ctxErr)
	}
	if errors.Is(err, errBodyTooLarge) {
		return &Error{Class: Permanent, Request: req, StatusCode: status, Err: ErrTooLarge,
			Detail: "the response body exceeds " + strconv.Itoa(MaxResponseSize>>10) + " KiB"}
	}
	class, detail, sentinel := classifyTransport(err)
	return &Error{Class: class, Request: req, StatusCode: status, Err: joinErrors(sentinel, err), Detail: detail}
}

// newRequest builds the go-retryablehttp request for out.
func (h *HTTP) newRequest(ctx context.Context, out outgoing, a *attempt) (*retryablehttp.Request, error) {
	u := *h.base
	if out.path != "" {
		raw := strings.TrimSuffix(h.base.EscapedPath(), "/") + out.path
		p, err := url.PathUnescape(raw)
		if err != nil {
			return nil, err
		}
		u.Path, u.RawPath = p, raw
	}
	if out.query != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += out.query
	}
	hreq, err := http.NewRequestWithContext(ctx, out.method, "", nil)
	if err != nil {
		return nil, err
	}
	hreq.URL, hreq.Host = &u, u.Host
	rreq := &retryablehttp.Request{Request: hreq}
	if out.body != nil {
		if err := rreq.SetBody(out.body); err != nil {
			return nil, err
		}
	}
	hdr := h.header.Clone() // Accept, User-Agent and WithHeader values
	if out.body != nil {
		if _, ok := hdr["Content-Type"]; !ok {
			hdr["Content-Type"] = []string{"application/json"}
		}
	}
	for k, v := range out.header {
		if _, ok := h.userHeader[http.CanonicalHeaderKey(k)]; !ok {
			hdr.Set(k, v)
		}
	}
	hreq.Header = hdr
	rreq.SetResponseHandler(func(resp *http.Response) error {
		b, err := readCapped(resp.Body)
		resp.Body.Close()
		a.body, a.bodyRead = b, true
		return err
	})
	return rreq, nil
}

// readCapped reads a body up to MaxResponseSize; a longer body gives
// errBodyTooLarge.
func readCapped(r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, MaxResponseSize+1))
	if err != nil {
		return buf.Bytes(), err
	}
	if n > MaxResponseSize {
		return nil, errBodyTooLarge
	}
	return buf.Bytes(), nil
}

// logResult logs the outcome of one shared fetch. It never logs a token,
// a header value or a body.
func (h *HTTP) logResult(req Request, start time.Time, tries int, err error) {
	level := slog.LevelDebug
	if _, ok := err.(*Error); ok {
		level = slog.LevelWarn
	}
	if !h.log.Enabled(context.Background(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("kind", req.Kind.String()),
		slog.String("preset", h.preset.name),
		slog.Int("attempts", tries),
		slog.Duration("elapsed", h.clock.Since(start)),
	}
	if req.Kind == KindRTC {
		attrs = append(attrs, slog.String("channel", req.Channel))
	}
	var e *Error
	switch {
	case err == nil:
		h.log.LogAttrs(context.Background(), slog.LevelDebug, "fetcher: token fetched", attrs...)
	case errors.As(err, &e):
		attrs = append(attrs, slog.String("class", e.Class.String()), slog.Int("status", e.StatusCode),
			slog.String("detail", e.Detail))
		if e.RetryAfter > 0 {
			attrs = append(attrs, slog.Duration("retryAfter", e.RetryAfter))
		}
		h.log.LogAttrs(context.Background(), slog.LevelWarn, "fetcher: fetch failed", attrs...)
	default:
		attrs = append(attrs, slog.String("error", err.Error()))
		h.log.LogAttrs(context.Background(), slog.LevelDebug, "fetcher: fetch abandoned", attrs...)
	}
}
