package reliability_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

// Hostile input and transport security at the library's edge: size caps on
// what the fetcher reads and what accesstoken inflates, TLS verification,
// and the refusal of plain HTTP to remote hosts.

var rtmRequest = fetcher.Request{Kind: fetcher.KindRTM, UserID: "bot"}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func response(r *http.Request, body io.Reader, length int64) *http.Response {
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(body), ContentLength: length, Request: r}
}

// endless is an io.Reader of spaces that never ends and counts what was
// read from it.
type endless struct{ n atomic.Int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n.Add(int64(len(p)))
	return len(p), nil
}

func newFetcher(t *testing.T, rt http.RoundTripper, opts ...fetcher.Option) *fetcher.HTTP {
	t.Helper()
	opts = append([]fetcher.Option{fetcher.WithTransport(rt), fetcher.WithRetry(0, 0, 0)}, opts...)
	f, err := fetcher.NewHTTP(mock.TokenServerURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFetcherReadsAtMost64KiB: an endless body is cut at the cap (the
// fetcher reads at most MaxResponseSize+1 bytes), and a valid answer padded
// to exactly the cap is accepted while one byte more is refused.
func TestFetcherReadsAtMost64KiB(t *testing.T) {
	var src endless
	f := newFetcher(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return response(r, &src, -1), nil
	}))
	_, err := f.Fetch(context.Background(), rtmRequest)
	var fe *fetcher.Error
	if !errors.Is(err, fetcher.ErrTooLarge) || !errors.As(err, &fe) || fe.Class != fetcher.Permanent {
		t.Fatalf("endless body: %v, want a permanent ErrTooLarge", err)
	}
	if n := src.n.Load(); n > fetcher.MaxResponseSize+1 {
		t.Errorf("read %d bytes of an endless body; the cap is %d", n, fetcher.MaxResponseSize)
	}
	t.Logf("endless body: read %d bytes, then %v", src.n.Load(), err)

	srv := mock.NewTokenServer(mock.TokenServerConfig{})
	padded := func(size int) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := srv.Transport().RoundTrip(r)
			if err != nil {
				return nil, err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			body = bytes.TrimRight(body, " \r\n")
			if len(body) == 0 || body[len(body)-1] != '}' || len(body) > size {
				t.Fatalf("unexpected token-server answer %q", body)
			}
			pad := bytes.Repeat([]byte(" "), size-len(body))
			body = append(append(body[:len(body)-1:len(body)-1], pad...), '}')
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
			return resp, nil
		})
	}
	if _, err := newFetcher(t, padded(fetcher.MaxResponseSize)).Fetch(context.Background(), rtmRequest); err != nil {
		t.Errorf("an answer of exactly %d bytes: %v", fetcher.MaxResponseSize, err)
	}
	if _, err := newFetcher(t, padded(fetcher.MaxResponseSize+1)).Fetch(context.Background(), rtmRequest); !errors.Is(err, fetcher.ErrTooLarge) {
		t.Errorf("an answer of %d bytes: %v, want ErrTooLarge", fetcher.MaxResponseSize+1, err)
	}
	srv.BodyNext(1, mock.BodyHuge)
	if _, err := newFetcher(t, srv.Transport()).Fetch(context.Background(), rtmRequest); !errors.Is(err, fetcher.ErrTooLarge) {
		t.Errorf("the mock's huge body: %v, want ErrTooLarge", err)
	}
}

// zipBomb returns an AccessToken2 whose payload inflates to size bytes of
// zeros.
func zipBomb(t *testing.T, size int) string {
	t.Helper()
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(make([]byte, size))
	zw.Close()
	return "007" + base64.StdEncoding.EncodeToString(z.Bytes())
}

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestInflateCappedAt64KiB: a token that inflates past MaxPayloadSize is
// refused without inflating it — directly and when a token server hands it
// out inside a small answer.
func TestInflateCappedAt64KiB(t *testing.T) {
	if _, err := accesstoken.Parse(zipBomb(t, accesstoken.MaxPayloadSize+1)); !errors.Is(err, accesstoken.ErrTooLarge) {
		t.Fatalf("payload of MaxPayloadSize+1: %v, want ErrTooLarge", err)
	}
	bomb := zipBomb(t, 16<<20) // 16 MiB of zeros in ~22 KiB of text: fits in a 64 KiB answer
	var err error
	n := allocated(func() { _, err = accesstoken.Parse(bomb) })
	if !errors.Is(err, accesstoken.ErrTooLarge) {
		t.Fatalf("zip bomb: %v, want ErrTooLarge", err)
	}
	if n > 1<<20 {
		t.Errorf("parsing a %d-character zip bomb allocated %d bytes", len(bomb), n)
	}
	t.Logf("16 MiB zip bomb (%d characters) refused after allocating %d bytes", len(bomb), n)

	body := `{"token":"` + bomb + `"}`
	if len(body) > fetcher.MaxResponseSize {
		t.Fatalf("answer of %d bytes", len(body))
	}
	f := newFetcher(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return response(r, strings.NewReader(body), int64(len(body))), nil
	}))
	n = allocated(func() { _, err = f.Fetch(context.Background(), rtmRequest) })
	var fe *fetcher.Error
	if !errors.Is(err, fetcher.ErrBadToken) || !errors.Is(err, accesstoken.ErrTooLarge) || !errors.As(err, &fe) || fe.Class != fetcher.Permanent {
		t.Fatalf("zip bomb from a token server: %v, want a permanent ErrBadToken wrapping accesstoken.ErrTooLarge", err)
	}
	if n > 2<<20 {
		t.Errorf("fetching a zip bomb allocated %d bytes", n)
	}
}

// TestTLSVerified: against a server with a self-signed certificate the
// fetcher fails with a certificate error, and succeeds only when the caller
// supplies a client that trusts that certificate.
func TestTLSVerified(t *testing.T) {
	srv := mock.NewTokenServer(mock.TokenServerConfig{})
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	ts.StartTLS()
	defer ts.Close()

	f, err := fetcher.NewHTTP(ts.URL, fetcher.WithRetry(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Fetch(context.Background(), rtmRequest)
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	if !errors.As(err, &unknown) && !errors.As(err, &verify) {
		t.Fatalf("self-signed server: %v, want a certificate verification error", err)
	}
	if !errors.Is(err, fetcher.ErrTransport) {
		t.Errorf("certificate error %v does not wrap fetcher.ErrTransport", err)
	}
	if srv.Requests() != 0 {
		t.Errorf("the request reached the server (%d requests) despite the bad certificate", srv.Requests())
	}

	trusted, err := fetcher.NewHTTP(ts.URL, fetcher.WithHTTPClient(ts.Client()), fetcher.WithRetry(0, 0, 0),
		fetcher.WithAppID(srv.AppID()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trusted.Fetch(context.Background(), rtmRequest); err != nil {
		t.Fatalf("with a client that trusts the certificate: %v", err)
	}
}

// TestPlainHTTPOnlyToLoopback: plain http to anything but a loopback
// address is refused unless the caller opts in.
func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	for _, u := range []string{"http://tokens.example.com", "http://10.0.0.7:8080/getToken", "http://0.0.0.0:8080",
		"http://192.0.2.1", "http://127.0.0.1.example.com", "http://localhost.example.com:80"} {
		if _, err := fetcher.NewHTTP(u); !errors.Is(err, fetcher.ErrInsecureURL) {
			t.Errorf("NewHTTP(%q) = %v, want ErrInsecureURL", u, err)
		}
		if _, err := fetcher.NewHTTP(u, fetcher.WithInsecureHTTP()); err != nil {
			t.Errorf("NewHTTP(%q, WithInsecureHTTP()) = %v", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "https://tokens.example.com"} {
		if _, err := fetcher.NewHTTP(u); err != nil {
			t.Errorf("NewHTTP(%q) = %v, want success", u, err)
		}
	}
}
