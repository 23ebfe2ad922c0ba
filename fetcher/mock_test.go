package fetcher_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

var mt0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// server is a mock TokenServer reached in memory or over loopback HTTP.
type server struct {
	ts  *mock.TokenServer
	clk *clock.Mock
	url string
	rt  http.RoundTripper // nil over HTTP
}

func newServer(t testing.TB, overHTTP bool, cfg mock.TokenServerConfig) *server {
	t.Helper()
	clk := clock.NewMock()
	clk.Set(mt0)
	cfg.Clock = clk
	s := &server{ts: mock.NewTokenServer(cfg), clk: clk, url: mock.TokenServerURL}
	if overHTTP {
		hs := httptest.NewServer(s.ts)
		t.Cleanup(hs.Close)
		s.url = hs.URL
	} else {
		s.rt = s.ts.Transport()
	}
	return s
}

func (s *server) fetcher(t testing.TB, opts ...fetcher.Option) *fetcher.HTTP {
	t.Helper()
	all := []fetcher.Option{fetcher.WithClock(s.clk), fetcher.WithAppID(mock.DefaultAppID), fetcher.WithRetry(0, 0, 0)}
	if s.rt != nil {
		all = append(all, fetcher.WithTransport(s.rt))
	}
	h, err := fetcher.NewHTTP(s.url, append(all, opts...)...)
	if err != nil {
		t.Fatalf("NewHTTP: %v", err)
	}
	t.Cleanup(h.CloseIdleConnections)
	return h
}

func modes(t *testing.T, f func(t *testing.T, overHTTP bool)) {
	t.Run("in-memory", func(t *testing.T) { f(t, false) })
	t.Run("http", func(t *testing.T) { f(t, true) })
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

var (
	rtmReq  = fetcher.Request{Kind: fetcher.KindRTM, UserID: "alice", TTL: 30 * time.Minute}
	rtcAcc  = fetcher.Request{Kind: fetcher.KindRTC, Channel: "room 1", Account: "alice", TTL: 10 * time.Minute}
	rtcUID  = fetcher.Request{Kind: fetcher.KindRTC, Channel: "room-1", UID: 1234, Role: fetcher.RoleSubscriber}
	rtcDocs = fetcher.Request{Kind: fetcher.KindRTC, Channel: "room-1", UID: 42}
)

// TestPresetsAgainstTokenServer: every preset fetches checked tokens from
// the mock server, in memory and over HTTP.
func TestPresetsAgainstTokenServer(t *testing.T) {
	modes(t, func(t *testing.T, overHTTP bool) {
		tests := []struct {
			preset fetcher.Preset
			req    fetcher.Request
			life   time.Duration
		}{
			{fetcher.PresetAgoraTokenService, rtmReq, 30 * time.Minute},
			{fetcher.PresetAgoraTokenService, rtcAcc, 10 * time.Minute},
			{fetcher.PresetAgoraTokenService, rtcUID, time.Hour},
			{fetcher.PresetAgoraTokenServiceGET, rtmReq, 30 * time.Minute},
			{fetcher.PresetAgoraTokenServiceGET, rtcAcc, 10 * time.Minute},
			{fetcher.PresetAgoraTokenServiceGET, rtcUID, time.Hour},
			{fetcher.PresetAgoraTokenServiceGET, fetcher.Request{Kind: fetcher.KindRTC, Channel: "c", Account: "0001"}, time.Hour},
			{fetcher.PresetDocsSample, rtcDocs, 40 * time.Second},
			{fetcher.PresetDocsSample, rtmReq, time.Duration(mt0.Unix()+60+3600) * time.Second}, // the sample's absolute-expiry bug
		}
		for _, tt := range tests {
			s := newServer(t, overHTTP, mock.TokenServerConfig{Seed: 3})
			s.clk.Add(time.Minute)
			h := s.fetcher(t, fetcher.WithPreset(tt.preset))
			tok, err := h.Fetch(ctx(t), tt.req)
			if err != nil {
				t.Errorf("%s %+v: %v", tt.preset, tt.req, err)
				continue
			}
			now := mt0.Add(time.Minute)
			if !tok.IssuedAt.Equal(now) || !tok.ReceivedAt.Equal(now) || tok.Lifetime != tt.life || !tok.ExpiresAt.Equal(now.Add(tt.life)) {
				t.Errorf("%s %+v: token times %v %v %v %v", tt.preset, tt.req, tok.IssuedAt, tok.ReceivedAt, tok.Lifetime, tok.ExpiresAt)
			}
			if tok.Request != tt.req || s.ts.Requests() != 1 {
				t.Errorf("%s: request %+v, %d server requests", tt.preset, tok.Request, s.ts.Requests())
			}
		}
	})
}

// TestTokenServerFaultsGiveTypedErrors: every fault of the mock server
// ends in the right class of *fetcher.Error, in memory and over HTTP.
func TestTokenServerFaultsGiveTypedErrors(t *testing.T) {
	modes(t, func(t *testing.T, overHTTP bool) {
		tests := []struct {
			name     string
			cfg      mock.TokenServerConfig
			inject   func(*mock.TokenServer)
			req      fetcher.Request
			class    fetcher.Class
			sentinel error
			retry    time.Duration
		}{
			{"503", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.FailNext(1, 503) }, rtmReq, fetcher.Retryable, fetcher.ErrStatus, 0},
			{"500 docs", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.FailNext(1, 500) }, rtcDocs, fetcher.Retryable, fetcher.ErrStatus, 0},
			{"400", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.FailNext(1, 400) }, rtmReq, fetcher.Permanent, fetcher.ErrStatus, 0},
			{"401", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.FailNext(1, 401) }, rtcAcc, fetcher.Permanent, fetcher.ErrStatus, 0},
			{"429 long", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.RateLimitNext(1, time.Minute) }, rtmReq,
				fetcher.Retryable, fetcher.ErrStatus, time.Minute},
			{"outage", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.Outage(true) }, rtcUID, fetcher.Retryable, fetcher.ErrStatus, 0},
			{"html", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.BodyNext(1, mock.BodyHTML) }, rtmReq,
				fetcher.Permanent, fetcher.ErrBadResponse, 0},
			{"empty", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.BodyNext(1, mock.BodyEmpty) }, rtmReq,
				fetcher.Permanent, fetcher.ErrBadResponse, 0},
			{"garbage", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.BodyNext(1, mock.BodyGarbage) }, rtmReq,
				fetcher.Permanent, fetcher.ErrBadResponse, 0},
			{"huge", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.BodyNext(1, mock.BodyHuge) }, rtmReq,
				fetcher.Permanent, fetcher.ErrTooLarge, 0},
			{"wrong user", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.WrongUserNext(1) }, rtmReq,
				fetcher.Permanent, fetcher.ErrMismatch, 0},
			{"wrong account", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.WrongUserNext(1) }, rtcAcc,
				fetcher.Permanent, fetcher.ErrMismatch, 0},
			{"wrong app", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.WrongAppNext(1) }, rtmReq,
				fetcher.Permanent, fetcher.ErrMismatch, 0},
			{"wrong channel", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.WrongChannelNext(1) }, rtcUID,
				fetcher.Permanent, fetcher.ErrMismatch, 0},
			{"expired", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.ExpiredNext(1) }, rtmReq,
				fetcher.Retryable, fetcher.ErrExpired, 0},
			{"reset", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.ResetNext(1) }, rtmReq,
				fetcher.Retryable, fetcher.ErrTransport, 0},
			{"CORS pinned", mock.TokenServerConfig{CORSAllowOrigin: "https://app.example.com"}, func(*mock.TokenServer) {}, rtmReq,
				fetcher.Permanent, fetcher.ErrStatus, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newServer(t, overHTTP, tt.cfg)
				tt.inject(s.ts)
				_, err := s.fetcher(t).Fetch(ctx(t), tt.req)
				var e *fetcher.Error
				if !errors.As(err, &e) || e.Class != tt.class || !errors.Is(err, tt.sentinel) || e.RetryAfter != tt.retry {
					t.Fatalf("error %v (%#v), want %v %v retry-after %v", err, e, tt.class, tt.sentinel, tt.retry)
				}
				if e.Request != tt.req {
					t.Errorf("Error.Request = %+v", e.Request)
				}
			})
		}
	})
}

// TestRetriesRideOutTransientFaults: with in-request retries a 503, a
// short 429 and a reset end in a token (synctest: the waits are exact).
func TestRetriesRideOutTransientFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := mock.NewTokenServer(mock.TokenServerConfig{})
		ts.FailNext(1, 503)
		ts.RateLimitNext(1, time.Second)
		ts.ResetNext(1)
		h, err := fetcher.NewHTTP(mock.TokenServerURL, fetcher.WithTransport(ts.Transport()),
			fetcher.WithRetry(3, 100*time.Millisecond, 2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := h.Fetch(t.Context(), rtmReq); err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		// 503: 50–100 ms; 429: exactly its 1 s; reset: 200–400 ms.
		if el := time.Since(start); el < 1250*time.Millisecond || el > 1500*time.Millisecond {
			t.Errorf("took %v", el)
		}
		if st := ts.Stats(); st.Requests != 4 || st.Failed != 3 || st.Minted != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestOriginHeaderFixesCORS: the 403 names the fix, and the fix works.
func TestOriginHeaderFixesCORS(t *testing.T) {
	s := newServer(t, false, mock.TokenServerConfig{CORSAllowOrigin: "https://app.example.com"})
	_, err := s.fetcher(t).Fetch(ctx(t), rtmReq)
	if err == nil || !strings.Contains(err.Error(), `WithHeader("Origin"`) {
		t.Fatalf("error %v does not name the fix", err)
	}
	if _, err := s.fetcher(t, fetcher.WithHeader("Origin", "https://app.example.com")).Fetch(ctx(t), rtmReq); err != nil {
		t.Errorf("with Origin: %v", err)
	}
}

// TestThousandIdenticalRequestsOneHit: 1000 concurrent identical requests
// reach the server once and all get the same token; a different request
// is served alongside.
func TestThousandIdenticalRequestsOneHit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := mock.NewTokenServer(mock.TokenServerConfig{})
		ts.SetLatency(time.Second)
		h, err := fetcher.NewHTTP(mock.TokenServerURL, fetcher.WithTransport(ts.Transport()))
		if err != nil {
			t.Fatal(err)
		}
		const n = 1000
		toks := make([]fetcher.Token, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { toks[i], errs[i] = h.Fetch(t.Context(), rtmReq) })
		}
		other, err := h.Fetch(t.Context(), rtcAcc)
		if err != nil || other.Request != rtcAcc {
			t.Errorf("other key: %v", err)
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || toks[i].Raw != toks[0].Raw || toks[i].Raw == "" {
				t.Fatalf("caller %d: %v", i, errs[i])
			}
		}
		if st := ts.Stats(); st.Requests != 2 || st.ByRoute["POST /getToken"] != 2 {
			t.Errorf("stats %+v, want one hit per distinct request", st)
		}
	})
}

// TestNumericAccountNeedsGETPreset: an account like "0001" is refused by
// the POST preset (the server would mint for uid 1) and served verbatim by
// the GET preset's userAccount route.
func TestNumericAccountNeedsGETPreset(t *testing.T) {
	s := newServer(t, false, mock.TokenServerConfig{})
	req := fetcher.Request{Kind: fetcher.KindRTC, Channel: "c", Account: "0001"}
	_, err := s.fetcher(t).Fetch(ctx(t), req)
	if !errors.Is(err, fetcher.ErrInvalidRequest) || s.ts.Requests() != 0 {
		t.Fatalf("POST: %v, %d requests", err, s.ts.Requests())
	}
	tok, err := s.fetcher(t, fetcher.WithPreset(fetcher.PresetAgoraTokenServiceGET)).Fetch(ctx(t), req)
	if err != nil || tok.Request.Account != "0001" {
		t.Fatalf("GET: %v", err)
	}
}
