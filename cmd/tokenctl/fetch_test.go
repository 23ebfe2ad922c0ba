package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

// tokenServer starts a mock token server over loopback HTTP.
func tokenServer(t *testing.T, cfg mock.TokenServerConfig) (*mock.TokenServer, string) {
	t.Helper()
	ts := mock.NewTokenServer(cfg)
	srv := httptest.NewServer(ts)
	t.Cleanup(srv.Close)
	return ts, srv.URL
}

var tokenRun = regexp.MustCompile(`00[67][A-Za-z0-9+/=_-]{16,}`)

func TestFetchPrintsToken(t *testing.T) {
	ts, url := tokenServer(t, mock.TokenServerConfig{})
	tests := []struct {
		name string
		args []string
		want accesstoken.Service
	}{
		{"rtm", []string{"--user", "alice"}, accesstoken.RTMService("alice", 3600)},
		{"rtc uid", []string{"--channel", "room 1", "--uid", "1234", "--expire", "600"},
			accesstoken.RTCService("room 1", "1234", accesstoken.RolePublisher, 600)},
		{"rtc account subscriber", []string{"--channel", "room", "--account", "bob", "--role", "subscriber"},
			accesstoken.RTCService("room", "bob", accesstoken.RoleSubscriber, 3600)},
		{"get preset", []string{"--preset", "agora-token-service-get", "--channel", "c", "--account", "0001"},
			accesstoken.RTCService("c", "0001", accesstoken.RolePublisher, 3600)},
		{"docs preset", []string{"--preset", "agora-docs-sample", "--channel", "c", "--uid", "7"},
			accesstoken.RTCService("c", "7", accesstoken.RolePublisher, 40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runTest(t, "", nil, append([]string{"fetch", "--server", url, "--app-id", mock.DefaultAppID}, tt.args...)...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if !strings.HasSuffix(r.stdout, "\n") || strings.Count(r.stdout, "\n") != 1 {
				t.Errorf("stdout %q is not one line", r.stdout)
			}
			tok, err := accesstoken.Parse(r.stdout)
			if err != nil {
				t.Fatal(err)
			}
			if err := tok.Verify(ts.Certificate()); err != nil {
				t.Error(err)
			}
			got := tok.Services[0]
			if got.Type != tt.want.Type || got.UserID != tt.want.UserID || got.Channel != tt.want.Channel ||
				got.Account != tt.want.Account || len(got.Privileges) != len(tt.want.Privileges) || tok.Expire != tt.want.Privileges[0].Value {
				t.Errorf("service %+v (expire %d), want %+v", got, tok.Expire, tt.want)
			}
		})
	}
}

func TestFetchJSON(t *testing.T) {
	_, url := tokenServer(t, mock.TokenServerConfig{})
	r := runTest(t, "", map[string]string{"APP_ID": mock.DefaultAppID}, "fetch", "--json", "--server", url, "--user", "alice", "--expire", "120")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout %q: %v", r.stdout, err)
	}
	tok, _ := out["token"].(string)
	parsed, err := accesstoken.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := time.Parse(time.RFC3339, out["expiresAt"].(string))
	if err != nil || !exp.Equal(parsed.ExpiresAt()) {
		t.Errorf("expiresAt %v, token says %v", out["expiresAt"], parsed.ExpiresAt())
	}
	if out["appId"] != mock.DefaultAppID || out["user"] != "alice" || out["expire"] != 120.0 ||
		out["issueTs"] != float64(parsed.IssueTs) || out["kind"] != "rtm" {
		t.Errorf("json %v", out)
	}
	if _, ok := out["channel"]; ok {
		t.Errorf("RTM output has a channel: %v", out)
	}

	r = runTest(t, "", nil, "fetch", "--server", url, "--channel", "c", "--uid", "0", "--json")
	out = nil
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out["channel"] != "c" || out["uid"] != 0.0 ||
		out["role"] != "publisher" || out["kind"] != "rtc" {
		t.Errorf("rtc json %q: %v", r.stdout, err)
	}
}

// TestFetchFaults: every failure of the server is one "tokenctl:" line and
// exit status 1, without a token or a header value in it.
func TestFetchFaults(t *testing.T) {
	tests := []struct {
		name   string
		cfg    mock.TokenServerConfig
		inject func(*mock.TokenServer)
		args   []string
		want   string
	}{
		{"503", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.FailNext(5, 503) }, nil, "server error (503 Service Unavailable)"},
		{"503 says temporary", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.FailNext(5, 503) }, nil, "(temporary: retry later)"},
		{"429", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.RateLimitNext(1, time.Minute) }, nil, "retry after 1m0s"},
		{"400", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.FailNext(1, 400) }, nil, "400 Bad Request"},
		{"401", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.FailNext(1, 401) }, []string{"--header", "Authorization: Bearer s3cr3t-value"},
			"401 Unauthorized"},
		{"outage", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.Outage(true) }, nil, "503"},
		{"html", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.BodyNext(1, mock.BodyHTML) }, nil, "got HTML (text/html)"},
		{"empty", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.BodyNext(1, mock.BodyEmpty) }, nil, "empty body"},
		{"huge", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.BodyNext(1, mock.BodyHuge) }, nil, "exceeds 64 KiB"},
		{"garbage", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.BodyNext(1, mock.BodyGarbage) }, nil, "not JSON"},
		{"wrong user", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.WrongUserNext(1) }, nil, `RTM user "alice-imposter"`},
		{"wrong app", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.WrongAppNext(1) }, []string{"--app-id", mock.DefaultAppID}, "app ID"},
		{"wrong channel", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.WrongChannelNext(1) },
			[]string{"--channel", "c", "--uid", "1"}, `RTC channel "c-other"`},
		{"expired", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.ExpiredNext(1) }, nil, "expired at"},
		{"reset", mock.TokenServerConfig{}, func(s *mock.TokenServer) { s.ResetNext(1) }, nil, "rtm token"},
		{"CORS", mock.TokenServerConfig{CORSAllowOrigin: "https://app.example.com"}, func(*mock.TokenServer) {}, nil, "CORS"},
		{"numeric account on POST", mock.TokenServerConfig{}, func(*mock.TokenServer) {}, []string{"--channel", "c", "--account", "0001"},
			"agora-token-service-get"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, url := tokenServer(t, tt.cfg)
			tt.inject(ts)
			args := []string{"fetch", "--server", url, "--retries", "0"}
			if !hasFlag(tt.args, "--channel") {
				args = append(args, "--user", "alice")
			}
			r := runTest(t, "", nil, append(args, tt.args...)...)
			r.wantError(t, exitFail, tt.want)
			if !strings.HasPrefix(r.stderr, "tokenctl: fetch: ") {
				t.Errorf("stderr %q", r.stderr)
			}
			if m := tokenRun.FindString(r.stderr); m != "" || strings.Contains(r.stderr, "s3cr3t") {
				t.Errorf("stderr leaks a secret: %q", r.stderr)
			}
		})
	}
}

func hasFlag(args []string, f string) bool {
	for _, a := range args {
		if a == f {
			return true
		}
	}
	return false
}

func TestFetchRetriesTransientFailures(t *testing.T) {
	ts, url := tokenServer(t, mock.TokenServerConfig{})
	ts.FailNext(1, http.StatusBadGateway)
	r := runTest(t, "", nil, "fetch", "--server", url, "--user", "alice", "--retries", "1")
	if r.code != 0 || ts.Requests() != 2 {
		t.Errorf("exit %d, %d requests, stderr %q", r.code, ts.Requests(), r.stderr)
	}
}

func TestFetchOriginHeader(t *testing.T) {
	_, url := tokenServer(t, mock.TokenServerConfig{CORSAllowOrigin: "https://app.example.com"})
	r := runTest(t, "", nil, "fetch", "--server", url, "--user", "alice", "--header", "Origin:https://app.example.com")
	if r.code != 0 {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

func TestFetchConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	runTest(t, "", nil, "fetch", "--server", url, "--user", "alice", "--retries", "0").
		wantError(t, exitFail, "connection refused (temporary: retry later)")
}

func TestFetchUsageErrors(t *testing.T) {
	const url = "http://127.0.0.1:1"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--user", "a"}, "--server is required"},
		{[]string{"--server", url}, "exactly one of --user"},
		{[]string{"--server", url, "--user", "a", "--channel", "c"}, "exactly one of --user"},
		{[]string{"--server", url, "--user", ""}, "--user must not be empty"},
		{[]string{"--server", url, "--user", "a", "--uid", "1"}, "RTC tokens (--channel) only"},
		{[]string{"--server", url, "--user", "a", "--role", "subscriber"}, "RTC tokens (--channel) only"},
		{[]string{"--server", url, "--channel", "c"}, "exactly one of --uid and --account"},
		{[]string{"--server", url, "--channel", "c", "--uid", "1", "--account", "a"}, "exactly one of --uid and --account"},
		{[]string{"--server", url, "--channel", "", "--uid", "1"}, "--channel must not be empty"},
		{[]string{"--server", url, "--channel", "c", "--account", ""}, "--account must not be empty"},
		{[]string{"--server", url, "--channel", "c", "--uid", "1", "--role", "audience"}, "--role must be publisher or subscriber"},
		{[]string{"--server", url, "--channel", "c", "--uid", "-1"}, "invalid value"},
		{[]string{"--server", url, "--user", "a", "--expire", "0"}, "--expire must be 1 to 86400"},
		{[]string{"--server", url, "--user", "a", "--expire", "86401"}, "--expire must be 1 to 86400"},
		{[]string{"--server", url, "--user", "a", "--retries", "11"}, "--retries must be 0 to 10"},
		{[]string{"--server", url, "--user", "a", "--preset", "firebase"}, `unknown --preset "firebase"`},
		{[]string{"--server", url, "--user", "a", "--app-id", "xyz"}, "--app-id must be 32 hexadecimal"},
		{[]string{"--server", url, "--user", "a", "--header", "NoColon s3cr3t"}, "--header wants 'Name: value'"},
		{[]string{"--server", "http://tokens.example.com", "--user", "a"}, "plain http"},
		{[]string{"--server", "ftp://x", "--user", "a"}, "server URL"},
		{[]string{"--server", url, "--user", "a", "extra"}, `unexpected argument "extra"`},
		{[]string{"--server", url, "--user", "a", "--bogus"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		r := runTest(t, "", nil, append([]string{"fetch"}, tt.args...)...)
		r.wantError(t, exitUsage, tt.want)
		if strings.Contains(r.stderr, "s3cr3t") {
			t.Errorf("%q: stderr echoes a header value: %q", tt.args, r.stderr)
		}
	}
}

func TestFetchInsecureHTTPFlag(t *testing.T) {
	// The flag lifts the loopback-only rule; the request then fails at
	// the DNS lookup (.invalid never resolves).
	r := runTest(t, "", nil, "fetch", "--server", "http://tokens.invalid", "--user", "a", "--insecure-http", "--retries", "0")
	r.wantError(t, exitFail, "DNS lookup")
}

func TestFetchHelp(t *testing.T) {
	r := runTest(t, "", nil, "help", "fetch")
	if r.code != 0 || !strings.Contains(r.stdout, "--server URL") || !strings.Contains(r.stdout, "-header") {
		t.Errorf("help: %d %q", r.code, r.stdout)
	}
}
