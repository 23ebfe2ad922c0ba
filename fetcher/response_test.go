package fetcher

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

// text answers status with a body and content type.
func text(status int, contentType, body string, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

func TestStatusErrors(t *testing.T) {
	tok := rtmToken(t, "alice")
	tests := []struct {
		name     string
		answer   func(http.ResponseWriter, *http.Request)
		preset   Preset
		class    Class
		attempts int
		frags    []string
	}{
		{"400 plain text", text(400, "text/plain; charset=utf-8", "invalid: missing user ID or account\n"), PresetAgoraTokenService,
			Permanent, 1, []string{"400 Bad Request", `"invalid: missing user ID or account"`}},
		{"400 GET json message", text(400, "application/json; charset=utf-8",
			`{"message":"Error Generating RTM token: invalid RTM User ID: \"0\"","status":400}`), PresetAgoraTokenServiceGET,
			Permanent, 1, []string{`invalid RTM User ID`}},
		{"400 GET json error", text(400, "application/json", `{"error":"Error Generating RTM token: check appId or appCertificate","status":400}`),
			PresetAgoraTokenServiceGET, Permanent, 1, []string{"check appId or appCertificate"}},
		{"400 docs sample", text(400, "application/json", `{"code":"400","token":"Bad request. Please check your params."}`),
			PresetDocsSample, Permanent, 1, []string{"Bad request. Please check your params."}},
		{"401", text(401, "text/plain", "unauthorized"), PresetAgoraTokenService, Permanent, 1,
			[]string{"401 Unauthorized", `WithHeader("Authorization"`}},
		{"403 origin", text(403, "application/json; charset=utf-8", `{"error":"Origin not allowed"}`), PresetAgoraTokenService,
			Permanent, 1, []string{"CORS", `WithHeader("Origin"`}},
		{"403 other", text(403, "text/plain", "nope"), PresetAgoraTokenService, Permanent, 1, []string{"forbidden (403 Forbidden)", `"nope"`}},
		{"404", text(404, "text/plain", "404 page not found"), PresetAgoraTokenService, Permanent, 1,
			[]string{"no such route", "v1.4.1", NameAgoraTokenServiceGET}},
		{"409 unexpected", text(409, "", ""), PresetAgoraTokenService, Permanent, 1, []string{"unexpected status 409 Conflict"}},
		{"501 not retried", text(501, "", ""), PresetAgoraTokenService, Permanent, 1, []string{"501"}},
		{"500 retried", text(500, "text/html", "<html>oops</html>"), PresetAgoraTokenService, Retryable, 3,
			[]string{"server error (500 Internal Server Error)"}},
		{"502 retried", text(502, "", ""), PresetAgoraTokenService, Retryable, 3, []string{"502"}},
		{"503 retried", text(503, "", ""), PresetAgoraTokenService, Retryable, 3, []string{"503"}},
		{"408 retried", text(408, "", ""), PresetAgoraTokenService, Retryable, 3, []string{"408"}},
		{"429 retried", text(429, "", ""), PresetAgoraTokenService, Retryable, 3, []string{"rate limited"}},
		{"echoed token redacted", text(400, "text/plain", "bad token "+tok+" given"), PresetAgoraTokenService, Permanent, 1,
			[]string{"bad token 007eJx…("}},
		{"long text truncated", text(400, "text/plain", strings.Repeat("x", 5000)), PresetAgoraTokenService, Permanent, 1,
			[]string{strings.Repeat("x", 200) + "…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(tt.answer)
			h := newTestHTTP(t, srv, WithPreset(tt.preset))
			_, err := h.Fetch(background(t), rtmAlice)
			e := wantErr(t, err, tt.class, ErrStatus, tt.frags...)
			if e.StatusCode == 0 {
				t.Errorf("StatusCode not set")
			}
			if n := len(srv.requests()); n != tt.attempts {
				t.Errorf("%d attempts, want %d", n, tt.attempts)
			}
			if strings.Contains(err.Error(), strings.Repeat("x", 201)) {
				t.Errorf("server text not truncated")
			}
		})
	}
}

// TestRetryThenSuccess: transient failures are retried within the request
// with jittered, bounded waits (synctest: exact fake time).
func TestRetryThenSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tok := rtmToken(t, "alice")
		n := 0
		srv := serve(func(w http.ResponseWriter, r *http.Request) {
			n++
			if n < 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			jsonAnswer(map[string]string{"token": tok})(w, r)
		})
		h, err := NewHTTP("https://x.example", WithTransport(srv), WithRetry(2, time.Second, 4*time.Second),
			WithClock(mockClock()))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := h.Fetch(t.Context(), rtmAlice); err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		// Waits: attempt 0 → [0.5s, 1s], attempt 1 → [1s, 2s].
		if el := time.Since(start); el < 1500*time.Millisecond || el > 3*time.Second {
			t.Errorf("elapsed %v, want 1.5s … 3s", el)
		}
		if n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
	})
}

func TestRetryAfterHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tok := rtmToken(t, "alice")
		n := 0
		srv := serve(func(w http.ResponseWriter, r *http.Request) {
			n++
			if n == 1 {
				w.Header().Set("Retry-After", "2")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			jsonAnswer(map[string]string{"token": tok})(w, r)
		})
		h, err := NewHTTP("https://x.example", WithTransport(srv), WithRetry(2, 10*time.Millisecond, 5*time.Second),
			WithClock(mockClock()))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := h.Fetch(t.Context(), rtmAlice); err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if el := time.Since(start); el != 2*time.Second {
			t.Errorf("waited %v, want exactly the 2s Retry-After", el)
		}
	})
}

// TestLongRetryAfterReported: a Retry-After longer than the longest
// in-request wait ends the fetch and is reported upward.
func TestLongRetryAfterReported(t *testing.T) {
	for _, header := range []string{"120", t0.Add(2 * time.Minute).Format(http.TimeFormat)} {
		srv := serve(text(503, "text/plain", "maintenance", "Retry-After", header))
		h := newTestHTTP(t, srv, WithRetry(3, 0, time.Second))
		_, err := h.Fetch(background(t), rtmAlice)
		e := wantErr(t, err, Retryable, ErrStatus, "retry after 2m0s", `"maintenance"`)
		if e.RetryAfter != 2*time.Minute || e.StatusCode != 503 {
			t.Errorf("Retry-After %q: RetryAfter = %v, status %d", header, e.RetryAfter, e.StatusCode)
		}
		if d, ok := RetryAfter(err); !ok || d != 2*time.Minute {
			t.Errorf("RetryAfter(err) = %v, %v", d, ok)
		}
		if n := len(srv.requests()); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"999999999999", maxRetryAfter, true},
		{t0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{t0.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Sunday, 01-Jun-25 12:00:30 GMT", 30 * time.Second, true}, // RFC 850
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, t0)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	h := &HTTP{clock: mockClock()}
	for attempt := range 40 {
		want := min(100*time.Millisecond<<min(attempt, 30), 2*time.Second)
		for range 20 {
			d := h.backoff(100*time.Millisecond, 2*time.Second, attempt, nil)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
	resp := &http.Response{Header: http.Header{"Retry-After": {"1"}}}
	if d := h.backoff(0, 5*time.Second, 0, resp); d != time.Second {
		t.Errorf("Retry-After 1: wait %v", d)
	}
	if d := h.backoff(0, 0, 3, nil); d != 0 {
		t.Errorf("zero bounds: wait %v", d)
	}
}

func TestBodyErrors(t *testing.T) {
	tok := rtmToken(t, "alice")
	huge := `{"token":"` + tok + `","pad":"` + strings.Repeat("x", MaxResponseSize) + `"}`
	tests := []struct {
		name     string
		answer   func(http.ResponseWriter, *http.Request)
		preset   Preset
		sentinel error
		class    Class
		frags    []string
	}{
		{"html", text(200, "text/html; charset=utf-8", "<html>"+tok+"</html>"), PresetAgoraTokenService, ErrBadResponse, Permanent,
			[]string{"got HTML (text/html)"}},
		{"html sniffed", text(200, "", "<!doctype html><p>hi"), PresetAgoraTokenService, ErrBadResponse, Permanent, []string{"got HTML"}},
		{"empty", text(200, "application/json", ""), PresetAgoraTokenService, ErrBadResponse, Permanent, []string{"empty body"}},
		{"garbage", text(200, "application/json", "\x00\x01garbage "+tok), PresetAgoraTokenService, ErrBadResponse, Permanent,
			[]string{"not JSON (application/json"}},
		{"trailing data", text(200, "application/json", `{"token":"`+tok+`"} {}`), PresetAgoraTokenService, ErrBadResponse, Permanent,
			[]string{"not JSON"}},
		{"huge", text(200, "application/json", huge), PresetAgoraTokenService, ErrTooLarge, Permanent, []string{"64 KiB"}},
		{"no field", text(200, "application/json", `{"rtmToken":"`+tok+`"}`), PresetAgoraTokenService, ErrBadResponse, Permanent,
			[]string{`no "token" field`, "it has rtmToken"}},
		{"no field, server says", text(200, "application/json", `{"error":"quota exceeded"}`), PresetAgoraTokenService, ErrBadResponse,
			Permanent, []string{`"quota exceeded"`}},
		{"not an object", text(200, "application/json", `["`+tok+`"]`), PresetAgoraTokenService, ErrBadResponse, Permanent,
			[]string{"not an object"}},
		{"number", text(200, "application/json", `{"token":7}`), PresetAgoraTokenService, ErrBadResponse, Permanent,
			[]string{"is a number, not a string"}},
		{"empty token", text(200, "application/json", `{"token":"  "}`), PresetAgoraTokenService, ErrBadResponse, Permanent,
			[]string{"is empty"}},
		{"no prefix", text(200, "application/json", `{"token":"`+tok[3:]+`"}`), PresetAgoraTokenService, ErrBadResponse, Permanent,
			[]string{"no 006/007 prefix"}},
		{"undecodable", text(200, "application/json", `{"token":"007eJxbroken"}`), PresetAgoraTokenService, ErrBadToken, Permanent,
			[]string{"does not decode"}},
		{"docs code 400 in 200", text(200, "application/json", `{"code":"400","token":"Bad request."}`), PresetDocsSample, ErrStatus,
			Permanent, []string{`code "400"`, `"Bad request."`}},
		{"docs code 503 in 200", text(200, "application/json", `{"code":"503","token":"busy"}`), PresetDocsSample, ErrStatus,
			Retryable, []string{`code "503"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHTTP(t, serve(tt.answer), WithPreset(tt.preset))
			_, err := h.Fetch(background(t), rtmAlice)
			e := wantErr(t, err, tt.class, tt.sentinel, tt.frags...)
			if e.StatusCode != 200 {
				t.Errorf("StatusCode = %d, want 200", e.StatusCode)
			}
		})
	}
}

func TestUndecodableTokenWrapsAccesstokenError(t *testing.T) {
	h := newTestHTTP(t, serve(text(200, "application/json", `{"token":"007eJxbroken"}`)))
	_, err := h.Fetch(background(t), rtmAlice)
	if !errors.Is(err, accesstoken.ErrMalformed) {
		t.Errorf("error %v does not wrap accesstoken.ErrMalformed", err)
	}
}
