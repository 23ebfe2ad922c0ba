package fetcher

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// failingTransport fails every round trip with err, counting them.
type failingTransport struct {
	n   atomic.Int32
	err error
}

func (f *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.n.Add(1)
	if r.Body != nil {
		r.Body.Close()
	}
	return nil, f.err
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestTransportErrors(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		class    Class
		sentinel error
		attempts int32
		frag     string
	}{
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)},
			Retryable, ErrTransport, 3, "connection refused"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)},
			Retryable, ErrTransport, 3, "connection reset"},
		{"timeout", timeoutErr{}, Retryable, ErrTransport, 3, "timed out"},
		{"eof", io.EOF, Retryable, ErrTransport, 3, "closed before a complete response"},
		{"dns", &net.DNSError{Err: "no such host", Name: "tokens.example.com"}, Retryable, ErrTransport, 3, "DNS lookup"},
		{"other", errors.New("weird failure"), Retryable, ErrTransport, 3, "network error: weird failure"},
		{"bad certificate", x509.UnknownAuthorityError{}, Permanent, ErrTransport, 1, "TLS certificate verification failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &failingTransport{err: tt.err}
			h := newTestHTTP(t, ft)
			_, err := h.Fetch(background(t), rtmAlice)
			e := wantErr(t, err, tt.class, tt.sentinel, tt.frag)
			if !errors.Is(err, tt.err) {
				t.Errorf("error does not wrap the cause %v", tt.err)
			}
			if e.StatusCode != 0 {
				t.Errorf("StatusCode = %d", e.StatusCode)
			}
			if got := ft.n.Load(); got != tt.attempts {
				t.Errorf("%d attempts, want %d", got, tt.attempts)
			}
			if strings.Contains(err.Error(), "tokens.example.com/getToken") {
				t.Errorf("error text carries the URL: %v", err)
			}
		})
	}
}

// TestBodyReadErrorRetried: a connection lost while reading the body is
// retried like a transport failure, also by a transport that leaves
// Response.Request unset.
func TestBodyReadErrorRetried(t *testing.T) {
	tok := rtmToken(t, "alice")
	for _, withRequest := range []bool{true, false} {
		var n atomic.Int32
		h := newTestHTTP(t, resetOnceTransport(tok, &n, withRequest))
		got, err := h.Fetch(background(t), rtmAlice)
		if err != nil || got.Raw != tok {
			t.Fatalf("Response.Request set: %v: Fetch = %v, %v", withRequest, got, err)
		}
		if n.Load() != 2 {
			t.Errorf("Response.Request set: %v: %d attempts, want 2", withRequest, n.Load())
		}
	}
}

// resetOnceTransport answers 200 with a body whose read fails with a
// connection reset on the first attempt and the token on the next; n counts
// attempts. withRequest says whether it sets Response.Request.
func resetOnceTransport(tok string, n *atomic.Int32, withRequest bool) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body := io.NopCloser(io.MultiReader(strings.NewReader(`{"token":"`), errReader{syscall.ECONNRESET}))
		if n.Add(1) == 2 {
			body = io.NopCloser(strings.NewReader(`{"token":"` + tok + `"}`))
		}
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}
		if withRequest {
			resp.Request = r
		}
		return resp, nil
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestContextCancelledPromptly: a caller's cancellation ends Fetch at once
// with an error wrapping context.Canceled.
func TestContextCancelledPromptly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		started := make(chan struct{})
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			close(started)
			<-r.Context().Done()
			return nil, r.Context().Err()
		})
		h, _ := NewHTTP("https://x.example", WithTransport(rt))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			_, err := h.Fetch(ctx, rtmAlice)
			done <- err
		}()
		<-started
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) || IsRetryable(err) {
			t.Errorf("error %v: want context.Canceled, not retryable", err)
		}
		synctest.Wait() // the shared fetch, left by its only caller, is cancelled too
		if n := h.flights.inFlight(); n != 0 {
			t.Errorf("%d fetches still in flight", n)
		}
	})
}

func TestContextDoneBeforeFetch(t *testing.T) {
	ft := &failingTransport{err: io.EOF}
	h := newTestHTTP(t, ft)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Fetch(ctx, rtmAlice); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if ft.n.Load() != 0 {
		t.Errorf("request sent after cancellation")
	}
}

// TestDeadlineDuringRetryWait: the caller's deadline ends a fetch waiting
// between retries.
func TestDeadlineDuringRetryWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &failingTransport{err: io.EOF}
		h, _ := NewHTTP("https://x.example", WithTransport(ft), WithRetry(5, time.Minute, time.Minute),
			WithTimeout(time.Hour))
		ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
		defer cancel()
		start := time.Now()
		_, err := h.Fetch(ctx, rtmAlice)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want DeadlineExceeded", err)
		}
		if el := time.Since(start); el != 90*time.Second {
			t.Errorf("returned after %v, want 90s", el)
		}
	})
}

// TestFetchTimeout: the shared round trip is bounded by WithTimeout plus
// its timer slack (an eighth: 625 ms for 5 s) and then fails as a retryable
// transport error. Fetches starting within the slack share one deadline;
// a later one gets its own.
func TestFetchTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		})
		h, _ := NewHTTP("https://x.example", WithTransport(rt), WithTimeout(5*time.Second))
		const slack = 625 * time.Millisecond
		start := time.Now()
		_, err := h.Fetch(t.Context(), rtmAlice)
		wantErr(t, err, Retryable, ErrTransport, "no usable answer within 5s")
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 5*time.Second+slack {
			t.Errorf("error %v after %v, want 5s + %v", err, time.Since(start), slack)
		}
		// Two fetches 600 ms apart share one deadline (the second ends
		// 25 ms after its 5 s); one started 700 ms later, past the slack,
		// gets a new one (its 5 s + 625 ms).
		ends := make(chan time.Duration, 3)
		fetchAt := func(after time.Duration, user string) {
			time.Sleep(after)
			start := time.Now()
			h.Fetch(context.Background(), Request{Kind: KindRTM, UserID: user})
			ends <- time.Since(start)
		}
		go fetchAt(0, "a")
		go fetchAt(600*time.Millisecond, "b")
		go fetchAt(1300*time.Millisecond, "c")
		got := []time.Duration{<-ends, <-ends, <-ends}
		slices.Sort(got) // a and b end at the same instant
		want := []time.Duration{5*time.Second + 25*time.Millisecond, 5*time.Second + slack, 5*time.Second + slack}
		if !slices.Equal(got, want) {
			t.Errorf("fetches took %v, want %v", got, want)
		}
	})
}

// TestRedirects: a 307 for POST /getToken/ re-sends the body; a 301 for a
// GET route keeps the query; a redirect to plain http elsewhere is refused.
func TestRedirects(t *testing.T) {
	tok := rtmToken(t, "alice")
	srv := serve(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/getToken/":
			http.Redirect(w, r, "/getToken", http.StatusTemporaryRedirect)
		case "/getToken":
			b, _ := io.ReadAll(r.Body)
			if !strings.Contains(string(b), `"uid":"alice"`) {
				http.Error(w, "body lost: "+string(b), 400)
				return
			}
			answerToken(tok)(w, r)
		case "/rtm/alice":
			http.Redirect(w, r, "/rtm/alice/?"+r.URL.RawQuery, http.StatusMovedPermanently)
		case "/rtm/alice/":
			jsonAnswer(map[string]string{"rtmToken": tok})(w, r)
		case "/evil":
			http.Redirect(w, r, "http://evil.example/getToken", http.StatusFound)
		}
	})
	post := Custom(Template{URL: "/getToken/", Body: `{"uid":"{user}"}`, TokenPath: "token"})
	h := newTestHTTP(t, srv, WithPreset(post))
	if _, err := h.Fetch(background(t), rtmAlice); err != nil {
		t.Fatalf("307: %v", err)
	}
	get := Custom(Template{URL: "/rtm/{user}?expiry={expire}", TokenPath: "rtmToken"})
	h = newTestHTTP(t, srv, WithPreset(get))
	if _, err := h.Fetch(background(t), rtmAlice); err != nil {
		t.Fatalf("301: %v", err)
	}
	if q := srv.requests()[3].Query; q != "expiry=3600" {
		t.Errorf("query after 301 = %q", q)
	}
	h = newTestHTTP(t, srv, WithPreset(Custom(Template{URL: "/evil", TokenPath: "token"})))
	_, err := h.Fetch(background(t), rtmAlice)
	wantErr(t, err, Permanent, ErrInsecureURL, "plain-http")
}

// TestCrossHostRedirectDropsHeaders: a redirect to another host keeps the
// generic headers and drops WithHeader's and the template's.
func TestCrossHostRedirectDropsHeaders(t *testing.T) {
	tok := rtmToken(t, "alice")
	var hosts []string
	srv := serve(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if host == "" {
			host = r.URL.Host // a redirected client request names its host in the URL only
		}
		hosts = append(hosts, host)
		if host == "tokens.example.com" {
			http.Redirect(w, r, "https://elsewhere.example.net/getToken", http.StatusTemporaryRedirect)
			return
		}
		answerToken(tok)(w, r)
	})
	p := Custom(Template{URL: "/getToken", Body: `{"uid":"{user}"}`, TokenPath: "token", Headers: map[string]string{"X-Api-Key": "k1"}})
	h := newTestHTTP(t, srv, WithPreset(p), WithHeader("Origin", "https://app.example.com"))
	if _, err := h.Fetch(background(t), rtmAlice); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 2 || hosts[1] != "elsewhere.example.net" {
		t.Fatalf("requests to %v", hosts)
	}
	first, second := reqs[0].Header, reqs[1].Header
	if first.Get("Origin") == "" || first.Get("X-Api-Key") != "k1" {
		t.Errorf("first request headers %v", first)
	}
	if second.Get("Origin") != "" || second.Get("X-Api-Key") != "" || second.Get("Accept") != "application/json" ||
		string(reqs[1].Body) != `{"uid":"alice"}` {
		t.Errorf("redirected request headers %v body %q", second, reqs[1].Body)
	}
}

// TestOverHTTP runs the fetcher against a real loopback server.
func TestOverHTTP(t *testing.T) {
	tok := rtmToken(t, "alice")
	ts := httptest.NewServer(serve(answerToken(tok)))
	defer ts.Close()
	h, err := NewHTTP(ts.URL, WithClock(mockClock()))
	if err != nil {
		t.Fatal(err)
	}
	defer h.CloseIdleConnections()
	got, err := h.Fetch(background(t), rtmAlice)
	if err != nil || got.Raw != tok {
		t.Fatalf("Fetch = %v", err)
	}
	// A closed server: connection refused, retryable.
	ts.Close()
	h2, _ := NewHTTP(ts.URL, WithRetry(0, 0, 0))
	_, err = h2.Fetch(background(t), rtmAlice)
	wantErr(t, err, Retryable, ErrTransport, "connection refused")
}

// TestSharedRoundTrip: concurrent identical requests share one round trip,
// and its failure as well as its success; different keys never wait.
func TestSharedRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var hits atomic.Int32
		tok := rtmToken(t, "alice")
		fail := true
		srv := serve(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			if b, _ := io.ReadAll(r.Body); strings.Contains(string(b), `"alice"`) {
				<-release
			}
			if fail {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			answerToken(tok)(w, r)
		})
		h, _ := NewHTTP("https://x.example", WithTransport(srv), WithClock(mockClock()), WithRetry(0, 0, 0))
		const n = 50
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = h.Fetch(t.Context(), rtmAlice) })
		}
		synctest.Wait()
		// Another key is not held up by the blocked one.
		if _, err := h.Fetch(t.Context(), Request{Kind: KindRTM, UserID: "bob"}); err == nil || !errors.Is(err, ErrStatus) {
			t.Errorf("bob: %v", err)
		}
		close(release)
		wg.Wait()
		if got := hits.Load(); got != 2 {
			t.Errorf("%d server hits, want 2 (one shared for alice, one for bob)", got)
		}
		for i, err := range errs {
			if !errors.Is(err, ErrStatus) {
				t.Fatalf("caller %d: %v, want the shared 400", i, err)
			}
		}
		// The failure is not cached: the next call goes to the server.
		fail = false
		release = make(chan struct{})
		close(release)
		if _, err := h.Fetch(t.Context(), rtmAlice); err != nil {
			t.Errorf("after failure: %v", err)
		}
	})
}

// TestLeavingCallerDoesNotCancelOthers: one waiter's cancellation leaves the
// shared round trip running for the others.
func TestLeavingCallerDoesNotCancelOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tok := rtmToken(t, "alice")
		release := make(chan struct{})
		var hits atomic.Int32
		srv := serve(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
				t.Error("shared fetch cancelled")
				return
			}
			answerToken(tok)(w, r)
		})
		h, _ := NewHTTP("https://x.example", WithTransport(srv), WithClock(mockClock()))
		leaver, cancel := context.WithCancel(t.Context())
		leftErr := make(chan error, 1)
		go func() {
			_, err := h.Fetch(leaver, rtmAlice)
			leftErr <- err
		}()
		stayed := make(chan error, 1)
		go func() {
			_, err := h.Fetch(t.Context(), rtmAlice)
			stayed <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-leftErr; !errors.Is(err, context.Canceled) {
			t.Errorf("leaver: %v", err)
		}
		close(release)
		if err := <-stayed; err != nil {
			t.Errorf("stayer: %v", err)
		}
		if hits.Load() != 1 {
			t.Errorf("%d hits", hits.Load())
		}
	})
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		e    *Error
		want string
	}{
		{&Error{Request: rtmAlice, Detail: "boom"}, `fetcher: rtm token for user "alice": boom`},
		{&Error{Request: rtcRoom, Err: ErrStatus}, `fetcher: rtc token for channel "room-1" account "alice": unexpected HTTP status`},
		{&Error{Request: Request{Kind: KindRTC, Channel: "c", UID: 7}, Detail: "x"}, `fetcher: rtc token for channel "c" uid 7: x`},
		{&Error{Request: Request{Kind: KindRTM}, Detail: "x"}, `fetcher: rtm token: x`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestLeaderWithEndlessContext: a caller whose context never ends runs the
// round trip itself; callers joining it share the outcome or leave early.
func TestLeaderWithEndlessContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tok := rtmToken(t, "alice")
		release := make(chan struct{})
		var hits atomic.Int32
		srv := serve(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			<-release
			answerToken(tok)(w, r)
		})
		h, _ := NewHTTP("https://x.example", WithTransport(srv), WithClock(mockClock()))
		leader := make(chan error, 1)
		go func() {
			_, err := h.Fetch(context.Background(), rtmAlice)
			leader <- err
		}()
		synctest.Wait()
		leaverCtx, cancel := context.WithCancel(t.Context())
		left := make(chan error, 1)
		go func() {
			_, err := h.Fetch(leaverCtx, rtmAlice)
			left <- err
		}()
		joined := make(chan error, 1)
		go func() {
			got, err := h.Fetch(t.Context(), rtmAlice)
			if err == nil && got.Raw != tok {
				err = errors.New("different token")
			}
			joined <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-left; !errors.Is(err, context.Canceled) {
			t.Errorf("leaver: %v", err)
		}
		close(release)
		if err := <-leader; err != nil {
			t.Errorf("leader: %v", err)
		}
		if err := <-joined; err != nil {
			t.Errorf("joiner: %v", err)
		}
		if hits.Load() != 1 {
			t.Errorf("%d hits", hits.Load())
		}
	})
}
