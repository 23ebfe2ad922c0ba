package fetcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The spec's placeholder credentials.
const (
	testAppID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	testCert  = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	otherApp  = "ffffffffffffffffffffffffffffffff"
)

// t0 is the fixed "now" of the tests that use a mock clock.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func mockClock() *clock.Mock {
	c := clock.NewMock()
	c.Set(t0)
	return c
}

// mint builds a 007 token issued at issued for the services.
func mint(t testing.TB, app string, issued time.Time, expire uint32, svcs ...accesstoken.Service) string {
	t.Helper()
	tok, err := accesstoken.Build(accesstoken.Params{
		AppID: app, Certificate: testCert, IssueTs: uint32(issued.Unix()), Expire: expire, Salt: 42, Services: svcs,
	})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return tok
}

func rtmToken(t testing.TB, user string) string {
	return mint(t, testAppID, t0, 3600, accesstoken.RTMService(user, 3600))
}

func rtcToken(t testing.TB, channel, account string, role accesstoken.Role) string {
	return mint(t, testAppID, t0, 3600, accesstoken.RTCService(channel, account, role, 3600))
}

// seen is one request as the fake server received it.
type seen struct {
	Method, Path, RawPath, Query string
	Header                       http.Header
	Body                         []byte
}

// fakeServer is an http.Handler answering with a scripted function, served
// in memory by its transport. It records every request.
type fakeServer struct {
	mu     sync.Mutex
	reqs   []seen
	answer func(w http.ResponseWriter, r *http.Request)
}

func (s *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.reqs = append(s.reqs, seen{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Header.Clone(), body})
	s.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.answer(w, r)
}

func (s *fakeServer) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

// RoundTrip serves the request in memory.
func (s *fakeServer) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	sr := r.Clone(r.Context())
	sr.RequestURI = r.URL.RequestURI()
	if r.Body == nil {
		sr.Body = http.NoBody
	}
	s.ServeHTTP(rec, sr)
	if r.Body != nil {
		r.Body.Close()
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// serve returns a fakeServer answering with f.
func serve(f func(w http.ResponseWriter, r *http.Request)) *fakeServer { return &fakeServer{answer: f} }

// jsonAnswer answers 200 with v as JSON.
func jsonAnswer(v any) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
}

// newTestHTTP returns a fetcher for s with no retry waits and a mock clock
// at t0.
func newTestHTTP(t testing.TB, s http.RoundTripper, opts ...Option) *HTTP {
	t.Helper()
	all := append([]Option{WithTransport(s), WithClock(mockClock()), WithRetry(2, 0, 0)}, opts...)
	h, err := NewHTTP("https://tokens.example.com", all...)
	if err != nil {
		t.Fatalf("NewHTTP: %v", err)
	}
	return h
}

var (
	rtmAlice = Request{Kind: KindRTM, UserID: "alice"}
	rtcRoom  = Request{Kind: KindRTC, Channel: "room-1", Account: "alice"}
)

// asError returns err as *Error or fails the test.
func asError(t testing.TB, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *fetcher.Error", err, err)
	}
	return e
}

// wantErr checks class and sentinel of err and that its text contains the
// fragments and no token.
func wantErr(t testing.TB, err error, class Class, sentinel error, fragments ...string) *Error {
	t.Helper()
	e := asError(t, err)
	if e.Class != class {
		t.Errorf("class = %v, want %v (%v)", e.Class, class, err)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error %v does not wrap %v", err, sentinel)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q lacks %q", err, f)
		}
	}
	noToken(t, err.Error())
	return e
}

var tokenLike = regexp.MustCompile(`00[67][A-Za-z0-9+/=_-]{16,}`)

// noToken fails when s contains something that looks like a token.
func noToken(t testing.TB, s string) {
	t.Helper()
	if m := tokenLike.FindString(s); m != "" {
		t.Errorf("text contains a token (%.12s…): %q", m, s)
	}
}

// background is a context for tests outside synctest bubbles.
func background(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
