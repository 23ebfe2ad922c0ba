package fetcher

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxRetryAfter caps a server's Retry-After; anything longer is a
// misconfiguration, and a day is the longest a token lives anyway.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date,
// the latter measured against now. ok is false when v is absent or invalid.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// retryableStatus reports whether an HTTP status is a transient failure.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout ||
		(code >= 500 && code <= 599 && code != http.StatusNotImplemented)
}

// checkRetry is the go-retryablehttp CheckRetry policy: retry transient
// transport failures and statuses, unless the server asks for a longer wait
// than in-request retries may take; that Retry-After is reported to the
// caller instead.
func (h *HTTP) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return false, nil
		}
		class, _, _ := classifyTransport(err)
		return class == Retryable, nil
	}
	if !retryableStatus(resp.StatusCode) {
		return false, nil
	}
	if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), h.clock.Now()); ok && ra > h.waitMax {
		return false, nil
	}
	return true, nil
}

// backoff is the go-retryablehttp Backoff: the server's Retry-After when it
// sent one (checkRetry has made sure it is at most maxWait), else an
// exponential wait from minWait, capped at maxWait, with equal jitter (a
// random point in its upper half) so that clients retrying together spread
// out.
func (h *HTTP) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), h.clock.Now()); ok {
			return min(ra, maxWait)
		}
	}
	d := maxWait
	if attempt < 32 && minWait > 0 && minWait<<attempt > 0 && minWait<<attempt < maxWait {
		d = minWait << attempt
	}
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// errBodyTooLarge is returned by the response handler for a body over
// MaxResponseSize.
var errBodyTooLarge = errors.New("response body too large")

// errInsecureRedirect and errTooManyRedirects come from CheckRedirect.
var (
	errInsecureRedirect = errors.New("redirect to an insecure URL refused")
	errTooManyRedirects = errors.New("stopped after 10 redirects")
)

// classifyTransport classifies an error from sending a request or reading
// its response: a describable, retryable network failure, or a permanent
// one (certificate verification, refused redirects). The detail never holds
// the request URL.
func classifyTransport(err error) (class Class, detail string, sentinel error) {
	var (
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		dnsErr   *net.DNSError
		netErr   net.Error
		urlErr   *url.Error
		inner    = err
		describe string
	)
	if errors.As(err, &urlErr) {
		inner = urlErr.Err
	}
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &invalid):
		return Permanent, "TLS certificate verification failed: " + sanitize(inner.Error()), ErrTransport
	case errors.Is(err, errInsecureRedirect):
		return Permanent, "the server redirected to a plain-http URL (allow it with WithInsecureHTTP)", ErrInsecureURL
	case errors.Is(err, errTooManyRedirects):
		return Permanent, "stopped after 10 redirects", ErrTransport
	case errors.Is(err, syscall.ECONNREFUSED):
		describe = "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		describe = "connection reset"
	case errors.Is(err, syscall.EPIPE):
		describe = "broken pipe"
	case errors.As(err, &dnsErr):
		describe = "DNS lookup of " + sanitize(dnsErr.Name) + " failed: " + sanitize(dnsErr.Err)
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		describe = "timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		describe = "connection closed before a complete response"
	default:
		describe = "network error: " + sanitize(inner.Error())
	}
	return Retryable, describe, ErrTransport
}
