package mock

import (
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
)

// Placeholder credentials from the token-server spec, used when a config
// leaves AppID or Certificate empty. They belong to no real Agora project.
const (
	DefaultAppID       = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	DefaultCertificate = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
)

// TokenServerURL is a base URL for a [TokenServer] reached through its
// in-memory [TokenServer.Transport]; any URL works there, this one passes
// the fetcher's https check.
const TokenServerURL = "https://tokenserver.mock"

// TokenServerConfig configures a [TokenServer]. The zero value is usable.
type TokenServerConfig struct {
	// AppID and Certificate sign the minted tokens. If empty, DefaultAppID
	// and DefaultCertificate. An AppID that is not 32 hex characters makes
	// every token route fail the way the real server does ("check appId or
	// appCertificate").
	AppID, Certificate string
	// Clock gives the tokens' issue time and drives latency. If nil, the
	// real clock.
	Clock clock.Clock
	// Seed makes the salts (and garbage bodies) deterministic.
	Seed int64
	// DefaultTTL is the lifetime of tokens whose request names none
	// (agora-token-service's default: 1 h). If zero, one hour.
	DefaultTTL time.Duration
	// CORSAllowOrigin mirrors agora-token-service's CORS_ALLOW_ORIGIN (v1.5):
	// "" refuses requests that carry an Origin, "*" allows every origin, a
	// comma-separated list allows those origins and refuses requests
	// without one. Refusals are 403 {"error":"Origin not allowed"}.
	CORSAllowOrigin string
	// Logger receives one line per request (method, route, status,
	// duration), never a token. If nil, logs are discarded.
	Logger *slog.Logger
}

// TokenServer is a fake token server for tests: an http.Handler that speaks
// the routes of agora-token-service (POST /getToken, the GET /rtm, /rtc,
// /rte and /chat routes, /ping) and of Agora's documentation samples (POST
// /fetch_rtm_token, /fetch_rtc_token), with the real servers' response and
// error shapes, minting real AccessToken2 tokens on its clock. Faults can be
// injected, and counters tell what it served. It is safe for concurrent
// use.
//
// Serve it in memory with [TokenServer.Transport] or [TokenServer.Client]
// (no sockets, so it works inside testing/synctest bubbles), or over real
// HTTP with net/http/httptest.
type TokenServer struct {
	appID, cert string
	clock       clock.Clock
	ttl         time.Duration
	cors        string
	log         *slog.Logger

	mu        sync.Mutex
	rng       *rand.Rand
	faults    []*Fault // FIFO; the head applies to the next token request
	outage    bool
	latency   time.Duration
	waiting   map[*int]time.Time // requests waiting out the latency → wake time
	docsRole  int                // the docs RTC sample's global role
	requests  int
	minted    int
	failed    int
	byRoute   map[string]int
	transport http.RoundTripper
}

// TokenServerStats are a TokenServer's counters.
type TokenServerStats struct {
	// Requests counts requests that reached a token route, whether they
	// were answered with a token or failed (/ping, redirects, unknown routes
	// and CORS preflights are not token requests).
	Requests int
	// Minted counts token requests answered 200 with a token, including
	// tokens deliberately made wrong by a fault.
	Minted int
	// Failed counts token requests answered otherwise: error statuses,
	// broken bodies, resets, and requests whose client went away.
	Failed int
	// ByRoute counts every request by route: "POST /getToken", "GET /rtm",
	// "GET /rtc", "GET /rte", "GET /chat", "POST /fetch_rtm_token",
	// "POST /fetch_rtc_token", "GET /ping", "redirect", "OPTIONS",
	// "not found".
	ByRoute map[string]int
}

// NewTokenServer returns a TokenServer for cfg.
func NewTokenServer(cfg TokenServerConfig) *TokenServer {
	s := &TokenServer{
		appID:    cfg.AppID,
		cert:     cfg.Certificate,
		clock:    cfg.Clock,
		ttl:      cfg.DefaultTTL,
		cors:     cfg.CORSAllowOrigin,
		log:      cfg.Logger,
		rng:      rand.New(rand.NewPCG(uint64(cfg.Seed), 0x746f6b656e)),
		waiting:  make(map[*int]time.Time),
		docsRole: 1,
		byRoute:  make(map[string]int),
	}
	if s.appID == "" {
		s.appID = DefaultAppID
	}
	if s.cert == "" {
		s.cert = DefaultCertificate
	}
	if s.clock == nil {
		s.clock = clock.New()
	}
	if s.ttl <= 0 {
		s.ttl = time.Hour
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.transport = NewHandlerTransport(s)
	return s
}

// AppID returns the app ID the server mints for.
func (s *TokenServer) AppID() string { return s.appID }

// Certificate returns the app certificate the server signs with.
func (s *TokenServer) Certificate() string { return s.cert }

// String names the server by its app ID. It exists so that printing a
// TokenServer with fmt's %v or %+v never shows its certificate (tokenctl
// serve runs one with a real app certificate).
func (s *TokenServer) String() string { return "mock.TokenServer(app " + s.appID + ")" }

// GoString is like String, for fmt's %#v.
func (s *TokenServer) GoString() string { return s.String() }

// Transport returns a round tripper that serves requests with s in memory,
// without sockets or goroutines.
func (s *TokenServer) Transport() http.RoundTripper { return s.transport }

// Client returns an HTTP client whose transport is [TokenServer.Transport].
func (s *TokenServer) Client() *http.Client { return &http.Client{Transport: s.transport} }

// Requests returns the number of token requests served or failed.
func (s *TokenServer) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Stats returns a snapshot of the counters.
func (s *TokenServer) Stats() TokenServerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := TokenServerStats{Requests: s.requests, Minted: s.minted, Failed: s.failed, ByRoute: make(map[string]int, len(s.byRoute))}
	for k, v := range s.byRoute {
		st.ByRoute[k] = v
	}
	return st
}

// ServeHTTP answers one request; see [TokenServer] for the routes.
func (s *TokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.clock.Now()
	rw := &statusWriter{ResponseWriter: w, clock: s.clock}
	route := s.route(rw, r)
	s.log.Info("mock: token server request", "method", r.Method, "route", route,
		"status", rw.status, "duration", s.clock.Since(start))
}

// statusWriter remembers the status written, for logs and counters.
type statusWriter struct {
	http.ResponseWriter
	clock  clock.Clock
	status int
}

// WriteHeader records the status and stamps the response with a Date header
// from the server's clock, as a real server does from its own, so clients
// can tell the server's time from theirs.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.Header().Set("Date", w.clock.Now().UTC().Format(http.TimeFormat))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *TokenServer) count(route string) {
	s.mu.Lock()
	s.byRoute[route]++
	s.mu.Unlock()
}

// originAllowed applies the CORS_ALLOW_ORIGIN rule of agora-token-service.
func (s *TokenServer) originAllowed(origin string) bool {
	switch {
	case s.cors == "*":
		return true
	case s.cors == "":
		return origin == ""
	case origin == "":
		return false
	}
	for _, o := range strings.Split(s.cors, ",") {
		if strings.TrimSpace(o) == origin {
			return true
		}
	}
	return false
}
