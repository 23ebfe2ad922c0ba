package fetcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

// TestRetriesResendBody: every attempt carries the whole request body, and
// the log counts the attempts.
func TestRetriesResendBody(t *testing.T) {
	tok := rtmToken(t, "alice")
	n := 0
	srv := serve(func(w http.ResponseWriter, r *http.Request) {
		if n++; n < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		answerToken(tok)(w, r)
	})
	var logs bytes.Buffer
	h := newTestHTTP(t, srv, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if _, err := h.Fetch(background(t), rtmAlice); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	reqs := srv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d attempts, want 3", len(reqs))
	}
	const want = `{"tokenType":"rtm","uid":"alice","expire":3600}`
	for i, r := range reqs {
		if string(r.Body) != want {
			t.Errorf("attempt %d sent body %q, want %q", i+1, r.Body, want)
		}
	}
	if !strings.Contains(logs.String(), "attempts=3") {
		t.Errorf("log does not count 3 attempts:\n%s", logs.String())
	}
}

// TestConcurrentRetriesResendOwnBodies: fetches for different users share
// one retry client; each retried attempt sends its own fetch's body.
func TestConcurrentRetriesResendOwnBodies(t *testing.T) {
	const users = 16
	toks := make(map[string]string, users)
	for i := range users {
		u := "user-" + strconv.Itoa(i)
		toks[u] = rtmToken(t, u)
	}
	var mu sync.Mutex
	attempts := map[string]int{}
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		var req struct {
			UID string `json:"uid"`
		}
		if err := json.Unmarshal(b, &req); err != nil || toks[req.UID] == "" {
			t.Errorf("attempt sent body %q", b)
		}
		mu.Lock()
		attempts[req.UID]++
		n := attempts[req.UID]
		mu.Unlock()
		status, body := http.StatusServiceUnavailable, `{"error":"busy"}`
		if n == 3 {
			status, body = http.StatusOK, `{"token":"`+toks[req.UID]+`"}`
		}
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	h := newTestHTTP(t, rt)
	var wg sync.WaitGroup
	for u, want := range toks {
		wg.Go(func() {
			got, err := h.Fetch(background(t), Request{Kind: KindRTM, UserID: u})
			if err != nil || got.Raw != want {
				t.Errorf("%s: Fetch = %v, %v", u, got, err)
			}
		})
	}
	wg.Wait()
	for u := range toks {
		if attempts[u] != 3 {
			t.Errorf("%s: %d attempts, want 3", u, attempts[u])
		}
	}
}

// TestLastAttemptsBodyDescribesFailure: a body read by an earlier attempt
// (here a 200 whose connection broke mid-body) never stands in for the
// body of the answer the fetch ends with.
func TestLastAttemptsBodyDescribesFailure(t *testing.T) {
	var n atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if n.Add(1) == 1 {
			body := io.NopCloser(io.MultiReader(strings.NewReader(`{"error":"first"`), errReader{syscall.ECONNRESET}))
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: body, Request: r}, nil
		}
		return &http.Response{StatusCode: 503, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"error":"second"}`)), Request: r}, nil
	})
	h := newTestHTTP(t, rt, WithRetry(1, 0, 0))
	_, err := h.Fetch(background(t), rtmAlice)
	e := wantErr(t, err, Retryable, ErrStatus, `"second"`)
	if e.StatusCode != 503 || strings.Contains(e.Detail, "first") {
		t.Errorf("error %v (status %d) does not describe the last answer", err, e.StatusCode)
	}
	if n.Load() != 2 {
		t.Errorf("%d attempts, want 2", n.Load())
	}
}

// TestTransportEditingHeaders: a transport that edits its request's
// headers in place touches that request only; every later request, and
// concurrent ones, go out with the configured headers.
func TestTransportEditingHeaders(t *testing.T) {
	tok := rtmToken(t, "alice")
	var mu sync.Mutex
	var bad []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got := r.Header.Get("Accept") + "|" + r.Header.Get("User-Agent") + "|" + r.Header.Get("X-Key") + "|" +
			r.Header.Get("Content-Type")
		if got != "application/json|tokenkeeper-fetcher|k1|application/json" || len(r.Header["X-Key"]) != 1 {
			mu.Lock()
			bad = append(bad, got)
			mu.Unlock()
		}
		r.Header["Accept"][0] = "text/mangled"
		r.Header["X-Key"][0] = "mangled"
		r.Header.Add("X-Key", "extra")
		r.Header.Set("User-Agent", "mangled")
		delete(r.Header, "Content-Type")
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"token":"` + tok + `"}`)), Request: r}, nil
	})
	h := newTestHTTP(t, rt, WithHeader("X-Key", "k1"))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 5 {
				// Distinct TTLs make distinct keys: no sharing, 40 requests.
				req := rtmAlice
				req.TTL = time.Duration(i+1) * time.Minute
				if _, err := h.Fetch(context.Background(), req); err != nil && !errors.Is(err, ErrMismatch) {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d requests went out with edited headers, e.g. %q", len(bad), bad[0])
	}
}

// TestFetchContext: the round trip runs on a context that keeps the
// caller's values, not its deadline, and is bounded by WithTimeout plus at
// most its timer slack (a second for an hour).
func TestFetchContext(t *testing.T) {
	type key struct{}
	tok := rtmToken(t, "alice")
	var sawValue any
	var deadline time.Time
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sawValue = r.Context().Value(key{})
		deadline, _ = r.Context().Deadline()
		return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r,
			Body: io.NopCloser(strings.NewReader(`{"token":"` + tok + `"}`))}, nil
	})
	h := newTestHTTP(t, rt, WithTimeout(time.Hour))
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"endless", func() (context.Context, context.CancelFunc) {
			return context.WithValue(context.Background(), key{}, "v"), func() {}
		}},
		{"short deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.WithValue(context.Background(), key{}, "v"), time.Minute)
		}},
	} {
		ctx, cancel := tc.ctx()
		start := time.Now()
		if _, err := h.Fetch(ctx, rtmAlice); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		end := time.Now()
		cancel()
		if sawValue != "v" {
			t.Errorf("%s: the transport saw value %v, want the caller's", tc.name, sawValue)
		}
		if deadline.Before(start.Add(time.Hour)) || deadline.After(end.Add(time.Hour+time.Second)) {
			t.Errorf("%s: the round trip's deadline is %v after the call, want WithTimeout's hour plus at most 1s", tc.name, deadline.Sub(start))
		}
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadCapped(t *testing.T) {
	for _, size := range []int{0, 1, 511, 512, 513, 4096, MaxResponseSize - 1, MaxResponseSize, MaxResponseSize + 1, 3 * MaxResponseSize} {
		body := bytes.Repeat([]byte("x"), size)
		for _, announced := range []int64{int64(size), -1, 0, int64(size) + 100, MaxResponseSize * 2} {
			for _, oneByte := range []bool{false, true} {
				var r io.Reader = bytes.NewReader(body)
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				cr := &countingReader{r: r}
				got, err := readCapped(cr, announced)
				if cr.n > MaxResponseSize+1 {
					t.Errorf("size %d, announced %d: read %d bytes, more than the cap", size, announced, cr.n)
				}
				if size > MaxResponseSize {
					if !errors.Is(err, errBodyTooLarge) || got != nil {
						t.Errorf("size %d, announced %d: %d bytes, %v; want errBodyTooLarge", size, announced, len(got), err)
					}
					continue
				}
				if err != nil || !bytes.Equal(got, body) {
					t.Errorf("size %d, announced %d, one byte %v: %d bytes, %v", size, announced, oneByte, len(got), err)
				}
			}
		}
	}
	// A read error is returned with what was read before it.
	got, err := readCapped(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(syscall.ECONNRESET)), -1)
	if !errors.Is(err, syscall.ECONNRESET) || string(got) != "abc" {
		t.Errorf("read error: %q, %v", got, err)
	}
}

// TestResponseWithoutRequest: a transport that leaves Response.Request
// unset still gets its error answers read (body read errors:
// TestBodyReadErrorRetried).
func TestResponseWithoutRequest(t *testing.T) {
	// A 503 whose body explains itself, without Response.Request.
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 503, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"error":"maintenance"}`))}, nil
	})
	_, err := newTestHTTP(t, rt, WithRetry(0, 0, 0)).Fetch(background(t), rtmAlice)
	wantErr(t, err, Retryable, ErrStatus, `"maintenance"`)
}
