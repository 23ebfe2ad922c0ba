package mock_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

const postRTM = `{"tokenType":"rtm","uid":"alice"}`

func TestFailNextRouteShapes(t *testing.T) {
	tests := []struct {
		method, path, body, ctype, want string
	}{
		{"POST", "/getToken", postRTM, ctText, "Service Unavailable\n"},
		{"GET", "/rtm/alice/", "", ctJSONUTF8, `{"error":"Service Unavailable","status":503}`},
		{"POST", "/fetch_rtm_token", `{"uid":"alice"}`, "application/json", `{"code":"503","token":"Service Unavailable"}`},
	}
	for _, tt := range tests {
		ts, _ := newTS(t, mock.TokenServerConfig{})
		ts.FailNext(2, http.StatusServiceUnavailable)
		for i := range 2 {
			a := do(t, ts, tt.method, tt.path, tt.body)
			if a.status != 503 || a.body != tt.want || a.header.Get("Content-Type") != tt.ctype {
				t.Errorf("%s %s #%d: %d %q %q", tt.method, tt.path, i, a.status, a.header.Get("Content-Type"), a.body)
			}
		}
		if a := do(t, ts, tt.method, tt.path, tt.body); a.status != 200 {
			t.Errorf("%s %s after the faults: %d", tt.method, tt.path, a.status)
		}
		if st := ts.Stats(); st.Requests != 3 || st.Failed != 2 || st.Minted != 1 {
			t.Errorf("stats %+v", st)
		}
	}
}

func TestRateLimitNext(t *testing.T) {
	ts, _ := newTS(t, mock.TokenServerConfig{})
	ts.RateLimitNext(1, 1500*time.Millisecond)
	a := do(t, ts, "POST", "/getToken", postRTM)
	if a.status != 429 || a.header.Get("Retry-After") != "2" {
		t.Errorf("%d Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
	ts.RateLimitNext(1, 0)
	if a := do(t, ts, "POST", "/getToken", postRTM); a.status != 429 || a.header.Get("Retry-After") != "" {
		t.Errorf("%d Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
}

// TestFaultsApplyInOrder: queued faults apply one after the other, and a
// fault with Times <= 0 lasts until Clear.
func TestFaultsApplyInOrder(t *testing.T) {
	ts, _ := newTS(t, mock.TokenServerConfig{})
	ts.FailNext(1, 500)
	ts.WrongUserNext(1)
	ts.Inject(mock.Fault{Kind: mock.FaultStatus, Status: 502})
	ts.FailNext(1, 418) // behind the endless one: never reached
	if a := do(t, ts, "GET", "/ping", ""); a.status != 200 {
		t.Errorf("ping took a fault: %d", a.status)
	}
	if a := do(t, ts, "POST", "/getToken", postRTM); a.status != 500 {
		t.Errorf("1st: %d", a.status)
	}
	tok := decode(t, ts, field(t, do(t, ts, "POST", "/getToken", postRTM), "token"), tsT0)
	if s, _ := tok.Service(accesstoken.ServiceRTM); s.UserID != "alice-imposter" {
		t.Errorf("2nd: user %q", s.UserID)
	}
	for i := range 5 {
		if a := do(t, ts, "POST", "/getToken", postRTM); a.status != 502 {
			t.Errorf("endless #%d: %d", i, a.status)
		}
	}
	ts.Clear()
	if a := do(t, ts, "POST", "/getToken", postRTM); a.status != 200 {
		t.Errorf("after Clear: %d", a.status)
	}
	if st := ts.Stats(); st.Requests != 8 || st.Minted != 2 || st.Failed != 6 || st.ByRoute["GET /ping"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestBodyFaults(t *testing.T) {
	tests := []struct {
		kind  mock.BodyFault
		ctype string
		check func(t *testing.T, body string)
	}{
		{mock.BodyHTML, "text/html; charset=utf-8", func(t *testing.T, b string) {
			if !strings.HasPrefix(b, "<!DOCTYPE html>") {
				t.Errorf("body %q", b)
			}
		}},
		{mock.BodyEmpty, "application/json", func(t *testing.T, b string) {
			if b != "" {
				t.Errorf("body %q", b)
			}
		}},
		{mock.BodyHuge, "application/json", func(t *testing.T, b string) {
			if len(b) <= 64<<10 || !json.Valid([]byte(b)) {
				t.Errorf("body of %d bytes, valid JSON %v", len(b), json.Valid([]byte(b)))
			}
		}},
		{mock.BodyGarbage, "application/json", func(t *testing.T, b string) {
			if len(b) != 256 || json.Valid([]byte(b)) {
				t.Errorf("body of %d bytes, valid JSON %v", len(b), json.Valid([]byte(b)))
			}
		}},
	}
	for _, tt := range tests {
		ts, _ := newTS(t, mock.TokenServerConfig{})
		ts.BodyNext(1, tt.kind)
		a := do(t, ts, "GET", "/rtm/alice/", "")
		if a.status != 200 || a.header.Get("Content-Type") != tt.ctype {
			t.Errorf("kind %d: %d %q", tt.kind, a.status, a.header.Get("Content-Type"))
		}
		tt.check(t, a.body)
		if st := ts.Stats(); st.Failed != 1 || st.Minted != 0 {
			t.Errorf("kind %d: stats %+v", tt.kind, st)
		}
	}
}

func TestTokenFaults(t *testing.T) {
	const rtc = `{"tokenType":"rtc","channel":"room","uid":"bob","role":"publisher"}`
	tests := []struct {
		name   string
		inject func(*mock.TokenServer)
		body   string
		check  func(t *testing.T, tok *accesstoken.Token)
	}{
		{"wrong user rtm", func(s *mock.TokenServer) { s.WrongUserNext(1) }, postRTM, func(t *testing.T, tok *accesstoken.Token) {
			if s, _ := tok.Service(accesstoken.ServiceRTM); s.UserID != "alice-imposter" {
				t.Errorf("user %q", s.UserID)
			}
		}},
		{"wrong user rtc", func(s *mock.TokenServer) { s.WrongUserNext(1) }, rtc, func(t *testing.T, tok *accesstoken.Token) {
			if s, _ := tok.Service(accesstoken.ServiceRTC); s.Account != "bob-imposter" || s.Channel != "room" {
				t.Errorf("service %+v", s)
			}
		}},
		{"wrong channel", func(s *mock.TokenServer) { s.WrongChannelNext(1) }, rtc, func(t *testing.T, tok *accesstoken.Token) {
			if s, _ := tok.Service(accesstoken.ServiceRTC); s.Channel != "room-other" || s.Account != "bob" {
				t.Errorf("service %+v", s)
			}
		}},
		{"wrong app", func(s *mock.TokenServer) { s.WrongAppNext(1) }, postRTM, func(t *testing.T, tok *accesstoken.Token) {
			if tok.AppID == mock.DefaultAppID || len(tok.AppID) != 32 {
				t.Errorf("app %q", tok.AppID)
			}
			if err := tok.Verify(mock.DefaultCertificate); err != nil {
				t.Errorf("still signed with the certificate: %v", err)
			}
		}},
		{"expired", func(s *mock.TokenServer) { s.ExpiredNext(1) }, postRTM, func(t *testing.T, tok *accesstoken.Token) {
			if !tok.ExpiresAt().Equal(tsT0.Add(-time.Minute)) || tok.Expire != 3600 {
				t.Errorf("expires %v (lifetime %d), want a minute ago", tok.ExpiresAt(), tok.Expire)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := newTS(t, mock.TokenServerConfig{})
			tt.inject(ts)
			a := do(t, ts, "POST", "/getToken", tt.body)
			tok, err := accesstoken.Parse(field(t, a, "token"))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, tok)
			// The next token is right again.
			tok, _ = accesstoken.Parse(field(t, do(t, ts, "POST", "/getToken", tt.body), "token"))
			if tok.AppID != mock.DefaultAppID || !tok.ExpiresAt().After(tsT0) {
				t.Errorf("fault outlived its count")
			}
			if st := ts.Stats(); st.Minted != 2 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestExpiredNearEpoch(t *testing.T) {
	clk := clock.NewMock() // at the unix epoch
	ts := mock.NewTokenServer(mock.TokenServerConfig{Clock: clk})
	ts.ExpiredNext(1)
	tok, err := accesstoken.Parse(field(t, do(t, ts, "GET", "/rtm/alice/", ""), "rtmToken"))
	if err != nil || tok.Expire != 0 || tok.ExpiresAt().After(clk.Now()) {
		t.Fatalf("token %+v, %v", tok, err)
	}
}

func TestOutage(t *testing.T) {
	ts, _ := newTS(t, mock.TokenServerConfig{})
	ts.FailNext(1, 400)
	ts.Outage(true)
	for _, p := range []string{"/rtm/alice/", "/rtc/c/publisher/uid/1/", "/chat/app/"} {
		if a := do(t, ts, "GET", p, ""); a.status != 503 {
			t.Errorf("%s: %d", p, a.status)
		}
	}
	if a := do(t, ts, "GET", "/ping", ""); a.status != 200 {
		t.Errorf("ping during outage: %d", a.status)
	}
	ts.Outage(false)
	if a := do(t, ts, "GET", "/rtm/alice/", ""); a.status != 400 {
		t.Errorf("queued fault consumed during the outage: %d", a.status)
	}
	if ts.Requests() != 4 {
		t.Errorf("Requests() = %d", ts.Requests())
	}
}

func TestResetInMemory(t *testing.T) {
	ts, _ := newTS(t, mock.TokenServerConfig{})
	ts.ResetNext(1)
	_, err := ts.Client().Post(mock.TokenServerURL+"/getToken", "application/json", strings.NewReader(postRTM))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("error %v, want ECONNRESET", err)
	}
	if st := ts.Stats(); st.Failed != 1 || st.Requests != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestResetOverHTTP(t *testing.T) {
	ts, _ := newTS(t, mock.TokenServerConfig{})
	srv := httptest.NewServer(ts)
	defer srv.Close()
	ts.ResetNext(1)
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Post(srv.URL+"/getToken", "application/json", strings.NewReader(postRTM))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("reset connection answered %d", resp.StatusCode)
	}
	resp, err = c.Post(srv.URL+"/getToken", "application/json", strings.NewReader(postRTM))
	if err != nil {
		t.Fatalf("after the reset: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after the reset: %d", resp.StatusCode)
	}
}

// TestLatencyOnClockMock: with a clock.Mock a slow request blocks until the
// test advances the clock; Blocked and NextWake tell it when.
func TestLatencyOnClockMock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, clk := newTS(t, mock.TokenServerConfig{})
		ts.SetLatency(2 * time.Second)
		done := make(chan int)
		go func() {
			resp, err := ts.Client().Get(mock.TokenServerURL + "/rtm/alice/")
			if err != nil {
				t.Error(err)
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		synctest.Wait()
		if n := ts.Blocked(); n != 1 {
			t.Fatalf("Blocked() = %d", n)
		}
		if w, ok := ts.NextWake(); !ok || !w.Equal(tsT0.Add(2*time.Second)) {
			t.Errorf("NextWake() = %v, %v", w, ok)
		}
		clk.Add(2*time.Second - time.Nanosecond)
		synctest.Wait()
		if ts.Blocked() != 1 {
			t.Fatalf("released early")
		}
		clk.Add(time.Nanosecond)
		if code := <-done; code != 200 {
			t.Errorf("status %d", code)
		}
		synctest.Wait()
		if _, ok := ts.NextWake(); ok || ts.Blocked() != 0 {
			t.Errorf("still waiting")
		}
	})
}

// TestLatencyRealClockInBubble: on the real clock (faked by synctest) the
// latency is exact, and a client that gives up stops the wait.
func TestLatencyRealClockInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := mock.NewTokenServer(mock.TokenServerConfig{})
		ts.SetLatency(time.Second)
		start := time.Now()
		resp, err := ts.Client().Get(mock.TokenServerURL + "/rtm/alice/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if el := time.Since(start); el != time.Second {
			t.Errorf("took %v", el)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", mock.TokenServerURL+"/rtm/alice/", nil)
		if _, err := ts.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v", err)
		}
		if ts.Blocked() != 0 {
			t.Errorf("abandoned request still blocked")
		}
		if st := ts.Stats(); st.Minted != 1 || st.Failed != 1 {
			t.Errorf("stats %+v", st)
		}
		ts.Clear()
		start = time.Now()
		resp, _ = ts.Client().Get(mock.TokenServerURL + "/rtm/alice/")
		resp.Body.Close()
		if time.Since(start) != 0 {
			t.Errorf("latency survived Clear")
		}
	})
}
