package fetcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// call is one shared fetch: the flight its callers wait on and the state
// of its round trip across go-retryablehttp attempts, in one allocation.
//
// A call is also the context of its HTTP requests (it embeds the flight's
// context, takes its values from the caller's, and its Value answers
// callKey with the call), so that the client-wide go-retryablehttp hooks of
// the fetcher can find the fetch they serve without a client or closures
// per fetch.
type call struct {
	context.Context
	vals context.Context // the first caller's context, for its values
	fl   flight
	h    *HTTP
	req  Request // normalized
	out  outgoing

	rreq     retryablehttp.Request
	url      url.URL
	body     bytes.Reader // the request body of the first attempt
	respBody []byte       // the body of the last response, read by readBody
	bodyRead bool         // respBody belongs to the current attempt
	tries    int
	hdrVals  [6]string // room for the request's header values
}

// callKey is the context key under which a call finds itself.
type callKey struct{}

// Value answers callKey with c, other keys with the caller's values, and
// then with the flight's context's (the context package finds the flight's
// cancellation this way: the caller's context, detached from its own
// cancellation or never cancelled, answers nothing for it).
func (c *call) Value(key any) any {
	if key == (callKey{}) {
		return c
	}
	if v := c.vals.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}

func (c *call) flight() *flight { return &c.fl }

// run fetches on ctx, the flight's context, with the values of vals, and
// logs the outcome.
func (c *call) run(ctx, vals context.Context) {
	c.Context, c.vals = ctx, vals
	if c.h.quiet {
		c.fl.tok, c.fl.err = c.fetch()
		return
	}
	start := c.h.clock.Now()
	c.fl.tok, c.fl.err = c.fetch()
	c.h.logResult(c.req, start, c.tries, c.fl.err)
}

// fetch performs the round trip of c (with in-request retries) and checks
// the answer. It runs once per key at a time, on the shared context.
func (c *call) fetch() (Token, error) {
	h, req := c.h, c.req
	if err := c.newRequest(); err != nil {
		return Token{}, &Error{Class: Permanent, Request: req, Err: ErrInvalidRequest, Detail: sanitize(err.Error())}
	}
	resp, doErr := h.retry.Do(&c.rreq)
	received := h.clock.Now()
	if resp != nil && !c.bodyRead {
		c.respBody, _ = readCapped(resp.Body, resp.ContentLength)
		resp.Body.Close()
	}
	if doErr != nil {
		return Token{}, h.requestError(c, req, resp, doErr)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ra, _ := parseRetryAfter(resp.Header.Get("Retry-After"), received)
		e := statusError(resp.StatusCode, resp.Header, c.respBody, ra, h.preset.name, h.preset.docsCode)
		e.Request = req
		return Token{}, e
	}
	d, e := decodeBody(h.preset, req.Kind, resp.Header.Get("Content-Type"), c.respBody)
	var tok Token
	if e == nil {
		tok, e = checkToken(d.raw, req, h.appID, received, serverTime(resp.Header), d.expiry)
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

// newRequest builds the first attempt's request for c.out. It costs three
// allocations besides the call: the Request (copied from a literal, not
// made by http.NewRequestWithContext, which also parses a URL and makes a
// Header only to have them replaced), its Header, and the body's closer;
// the URL lives in the call. The header values share one backing array of
// this call's own (mostly c.hdrVals), so that a transport that edits its
// request's headers (as some do) touches this request only.
func (c *call) newRequest() error {
	h, out := c.h, &c.out
	u := &c.url
	*u = *h.base
	if out.path != "" {
		raw := h.basePath + out.path
		p, err := url.PathUnescape(raw)
		if err != nil {
			return err
		}
		u.Path, u.RawPath = p, raw
	}
	if out.query != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += out.query
	}

	// Accept, User-Agent and WithHeader values; a Content-Type for a body
	// unless WithHeader set one; then the template's headers, unless
	// WithHeader set the same.
	hdr := make(http.Header, len(h.headers)+1+len(out.header))
	vals := c.hdrVals[:0]
	if n := h.headerValues + 1 + len(out.header); n > len(c.hdrVals) {
		vals = make([]string, 0, n)
	}
	for _, f := range h.headers {
		vals = append(vals, f.values...)
		hdr[f.key] = vals[len(vals)-len(f.values) : len(vals) : len(vals)]
	}
	if out.body != nil {
		if _, ok := hdr["Content-Type"]; !ok {
			vals = append(vals, "application/json")
			hdr["Content-Type"] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	for k, v := range out.header {
		k = http.CanonicalHeaderKey(k)
		if _, ok := h.userHeader[k]; !ok {
			vals = append(vals, v)
			hdr[k] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}

	// The methods of presets and templates are valid tokens (NewHTTP
	// checks a template's), as NewRequestWithContext would insist.
	hreq := (&http.Request{
		Method:     out.method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     hdr,
		Host:       u.Host,
	}).WithContext(c)
	if len(out.body) > 0 {
		c.body.Reset(out.body)
		hreq.Body = io.NopCloser(&c.body) // a known in-memory reader: net/http sends it with the headers
		hreq.ContentLength = int64(len(out.body))
		hreq.GetBody = c.getBody
	}
	c.rreq.Request = hreq
	c.rreq.SetResponseHandler(readBody)
	c.tries = 1
	return nil
}

// getBody returns a fresh reader of the request body, for a retry or a
// redirect.
func (c *call) getBody() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(c.out.body)), nil
}

// callOf returns the call r belongs to, nil if none.
func callOf(r *http.Request) *call {
	if r == nil {
		return nil
	}
	c, _ := r.Context().Value(callKey{}).(*call)
	return c
}

// readBody is the go-retryablehttp response handler: it reads the body of
// an answer that is not retried on its status, so that a connection lost
// while reading it is retried like any transport failure. The body goes to
// the call of the response's Request; a transport that leaves
// Response.Request unset gets it back as the response's body.
func readBody(resp *http.Response) error {
	b, err := readCapped(resp.Body, resp.ContentLength)
	resp.Body.Close()
	if c := callOf(resp.Request); c != nil {
		c.respBody, c.bodyRead = b, true
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return err
}

// prepareRetry is the go-retryablehttp PrepareRetry hook, run before each
// retry on a shallow copy of the request: it counts the attempt, forgets
// the previous answer's body and gives the request a fresh body.
func prepareRetry(r *http.Request) error {
	c := callOf(r)
	if c == nil {
		return nil
	}
	c.tries++
	c.respBody, c.bodyRead = nil, false
	if r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return err
		}
		r.Body = body
	}
	return nil
}

// readCapped reads a body up to MaxResponseSize; a longer body gives
// errBodyTooLarge. size is the announced length, -1 if unknown.
func readCapped(r io.Reader, size int64) ([]byte, error) {
	const limit = MaxResponseSize + 1 // reading one byte more tells a body that is too long
	n := 512
	if size >= 0 && size < MaxResponseSize {
		n = int(size) + 1 // room to see EOF without growing
	}
	b := make([]byte, 0, n)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
			if cap(b) > limit {
				b = b[:len(b):limit]
			}
		}
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		switch {
		case err != nil && err != io.EOF:
			return b, err
		case len(b) > MaxResponseSize:
			return nil, errBodyTooLarge
		case err == io.EOF:
			return b, nil
		}
	}
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

// serverTime returns the time in the response's Date header, or zero when it
// is missing or unreadable.
func serverTime(h http.Header) time.Time {
	v := h.Get("Date")
	if v == "" {
		return time.Time{}
	}
	t, err := parseHTTPDate(v)
	if err != nil {
		return time.Time{}
	}
	return t
}
