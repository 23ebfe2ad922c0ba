package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serving is a "tokenctl serve" running in the test.
type serving struct {
	url    string
	stderr *mock.LogBuffer
	cancel context.CancelFunc
	done   chan int
}

// startServe runs serve with args until stop is called; it returns once
// the listening line has been printed.
func startServe(t *testing.T, environ map[string]string, args ...string) *serving {
	t.Helper()
	pr, pw := io.Pipe()
	s := &serving{stderr: &mock.LogBuffer{}, done: make(chan int, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	env := &cmdEnv{Stdout: pw, Stderr: s.stderr, Getenv: func(k string) string { return environ[k] }}
	go func() {
		code := runEnv(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), env)
		pw.Close()
		s.done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	go io.Copy(io.Discard, pr) // nothing more is expected; keep the writer unblocked
	if !strings.HasPrefix(line, "listening on http://") {
		cancel()
		t.Fatalf("first line %q (%v), stderr %q", line, err, s.stderr.String())
	}
	s.url = strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop cancels serve and returns its exit status.
func (s *serving) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code // for a second call
		return code
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not shut down")
		return -1
	}
}

const (
	serveApp  = "0123456789abcdef0123456789abcdef"
	serveCert = "fedcba9876543210fedcba9876543210"
)

func TestServeAndFetch(t *testing.T) {
	s := startServe(t, nil, "--app-id", serveApp, "--cert", serveCert)
	for _, args := range [][]string{
		{"--user", "alice"},
		{"--preset", "agora-token-service-get", "--channel", "room", "--uid", "9"},
		{"--preset", "agora-docs-sample", "--user", "bob"},
	} {
		r := runTest(t, "", nil, append([]string{"fetch", "--server", s.url, "--app-id", serveApp}, args...)...)
		if r.code != 0 {
			t.Fatalf("fetch %q: exit %d, %s", args, r.code, r.stderr)
		}
		tok, err := accesstoken.Parse(r.stdout)
		if err != nil || tok.Verify(serveCert) != nil || tok.AppID != serveApp {
			t.Errorf("fetch %q: token does not verify with the server's certificate (%v)", args, err)
		}
	}
	resp, err := http.Get(s.url + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"message":"pong"}` {
		t.Errorf("ping: %q", body)
	}
	http.DefaultClient.CloseIdleConnections()
	if code := s.stop(t); code != 0 {
		t.Errorf("exit status %d, stderr %q", code, s.stderr.String())
	}
	logs := s.stderr.String()
	for _, want := range []string{" POST /getToken 200 ", " GET /rtc/room/publisher/uid/9/ 200 ", " POST /fetch_rtm_token 200 ",
		" GET /ping 200 ", "tokenctl: serve: shutting down"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if m := tokenRun.FindString(logs); m != "" || strings.Contains(logs, serveCert) || strings.Contains(logs, "expiry=") {
		t.Errorf("log leaks a token, the certificate or a query:\n%s", logs)
	}
	if strings.Contains(logs, "warning") {
		t.Errorf("warning with credentials given:\n%s", logs)
	}
	if _, err := http.Get(s.url + "/ping"); err == nil {
		t.Errorf("server still answers after shutdown")
	}
}

func TestServeCredentialsFromEnvironment(t *testing.T) {
	s := startServe(t, map[string]string{"APP_ID": serveApp, "APP_CERTIFICATE": serveCert})
	r := runTest(t, "", nil, "fetch", "--server", s.url, "--user", "alice", "--app-id", serveApp)
	tok, err := accesstoken.Parse(r.stdout)
	if err != nil || tok.Verify(serveCert) != nil {
		t.Fatalf("token from env credentials: %v (%s)", err, r.stderr)
	}
}

func TestServePlaceholderWarning(t *testing.T) {
	s := startServe(t, nil)
	line := strings.SplitN(s.stderr.String(), "\n", 2)[0]
	if !strings.HasPrefix(line, "tokenctl: warning: ") || !strings.Contains(line, "placeholder") ||
		!strings.Contains(line, mock.DefaultAppID) || !strings.Contains(line, "$APP_ID") || !strings.Contains(line, "$APP_CERTIFICATE") {
		t.Errorf("warning line %q", line)
	}
	r := runTest(t, "", nil, "fetch", "--server", s.url, "--user", "alice", "--app-id", mock.DefaultAppID)
	if r.code != 0 {
		t.Errorf("fetch from the placeholder server: %s", r.stderr)
	}

	s2 := startServe(t, map[string]string{"APP_ID": serveApp})
	line = strings.SplitN(s2.stderr.String(), "\n", 2)[0]
	if !strings.Contains(line, "no certificate") || strings.Contains(line, "app ID ($APP_ID") {
		t.Errorf("warning line %q should name the certificate only", line)
	}
}

func TestServeRemoteNeedsFlag(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "example.com:80"} {
		runTest(t, "", nil, "serve", "--addr", addr).wantError(t, exitUsage, "--allow-remote")
	}
	// With the flag, a wildcard address is accepted.
	s := startServe(t, nil, "--addr", "0.0.0.0:0", "--allow-remote")
	if !strings.HasPrefix(s.url, "http://0.0.0.0:") && !strings.HasPrefix(s.url, "http://[::]:") {
		t.Errorf("url %q", s.url)
	}
}

func TestServeUsageAndFailures(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--addr", "nonsense"}, exitUsage, "want host:port"},
		{[]string{"--cert", "not-hex-SECRET"}, exitUsage, "--cert must be 32 hexadecimal"},
		{[]string{"--app-id", "xyz"}, exitUsage, "--app-id must be 32 hexadecimal"},
		{[]string{"extra"}, exitUsage, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		r := runTest(t, "", nil, append([]string{"serve"}, tt.args...)...)
		r.wantError(t, tt.code, tt.want)
		if strings.Contains(r.stderr, "SECRET") {
			t.Errorf("stderr echoes the certificate: %q", r.stderr)
		}
	}
	// A port in use: exit 1.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	runTest(t, "", nil, "serve", "--addr", ln.Addr().String(), "--app-id", serveApp, "--cert", serveCert).
		wantError(t, exitFail, "address already in use")
}

// TestServeStopsOnSIGTERM: a SIGTERM shuts the server down gracefully,
// exit status 0.
func TestServeStopsOnSIGTERM(t *testing.T) {
	s := startServe(t, nil, "--app-id", serveApp, "--cert", serveCert)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-s.done:
		s.done <- code
		if code != 0 || !strings.Contains(s.stderr.String(), "shutting down") {
			t.Errorf("exit %d, stderr %q", code, s.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not stop the server")
	}
}
