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
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

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

// serverTime returns the time in the response's Date header, or zero when it
// is missing or unreadable.
func serverTime(h http.Header) time.Time {
	t, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return time.Time{}
	}
	return t
}
