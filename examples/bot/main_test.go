package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tokenkeeper/tokenkeeper/mock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// logSink collects log output and reports when a message appears.
type logSink struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	watch string
	seen  chan struct{}
}

func newLogSink(watch string) *logSink { return &logSink{watch: watch, seen: make(chan struct{})} }

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.watch != "" && bytes.Contains(p, []byte(l.watch)) {
		close(l.seen)
		l.watch = ""
	}
	return l.buf.Write(p)
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

var tokenLike = regexp.MustCompile(`00[67][A-Za-z0-9+/=_-]{16,}`)

func testOptions(url string) options {
	return options{server: url, preset: "agora-token-service", user: "bot-7", channels: []string{"lobby", "game"},
		ttl: time.Hour, appID: mock.DefaultAppID, cert: mock.DefaultCertificate}
}

// TestBotLogsInAndJoins runs the bot in real time against a token server
// over loopback HTTP until it reports that it runs, then stops it like
// Ctrl-C does.
func TestBotLogsInAndJoins(t *testing.T) {
	ts := mock.NewTokenServer(mock.TokenServerConfig{})
	srv := httptest.NewServer(ts)
	defer srv.Close()
	sink := newLogSink("bot running")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, testOptions(srv.URL), slog.New(slog.NewTextHandler(sink, nil))) }()
	select {
	case <-sink.seen:
	case err := <-done:
		t.Fatalf("the bot stopped before running: %v\n%s", err, sink)
	case <-time.After(10 * time.Second):
		t.Fatalf("the bot is not running after 10 s:\n%s", sink)
	}
	cancel() // Ctrl-C
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	out := sink.String()
	for _, want := range []string{
		`msg="renewal: logged-in" user=bot-7`,
		`msg="renewal: joined" user=bot-7 gen=1 channel=lobby`,
		`msg="renewal: joined" user=bot-7 gen=1 channel=game`,
		`link CONNECTING→CONNECTED service=MESSAGE op=LOGIN`,
		`link CONNECTED→IDLE service=MESSAGE op=LOGOUT`, // LogoutOnClose
		`msg="bot stopped; logged out" renewed=0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if tok := tokenLike.FindString(out); tok != "" {
		t.Errorf("a token is in the log: %.12s…", tok)
	}
	if st := ts.Stats(); st.Minted != 3 || st.Failed != 0 {
		t.Errorf("token server: %+v, want 3 tokens minted", st)
	}
}

// TestBotStopsAfterFor: -for ends the run by itself.
func TestBotStopsAfterFor(t *testing.T) {
	srv := httptest.NewServer(mock.NewTokenServer(mock.TokenServerConfig{}))
	defer srv.Close()
	opt := testOptions(srv.URL)
	opt.runFor = 100 * time.Millisecond
	sink := newLogSink("")
	if err := run(context.Background(), opt, slog.New(slog.NewTextHandler(sink, nil))); err != nil {
		t.Fatalf("run: %v\n%s", err, sink)
	}
	if !strings.Contains(sink.String(), "bot stopped") {
		t.Errorf("no goodbye:\n%s", sink)
	}
}

// TestBotWrongCertificate: tokens the SDK refuses fail the start, with the
// SDK's code.
func TestBotWrongCertificate(t *testing.T) {
	srv := httptest.NewServer(mock.NewTokenServer(mock.TokenServerConfig{}))
	defer srv.Close()
	opt := testOptions(srv.URL)
	opt.cert = strings.Repeat("ab", 16)
	err := run(context.Background(), opt, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "INVALID_TOKEN") {
		t.Fatalf("run = %v, want the SDK's INVALID_TOKEN", err)
	}
}

func TestParseFlags(t *testing.T) {
	env := map[string]string{"APP_ID": strings.Repeat("c", 32)}
	o, err := parseFlags([]string{"-channels", " a, b ,,c ", "-ttl", "3m", "-for", "2m"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.channels, "|") != "a|b|c" || o.ttl != 3*time.Minute || o.runFor != 2*time.Minute ||
		o.appID != env["APP_ID"] || o.cert != mock.DefaultCertificate || o.server != "http://127.0.0.1:8080" || o.user != "bot-1" {
		t.Errorf("options %+v", o)
	}
	o, err = parseFlags([]string{"-channels", ""}, func(string) string { return "" })
	if err != nil || len(o.channels) != 0 || o.appID != mock.DefaultAppID {
		t.Errorf("no channels: %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-ttl", "0s"}, {"-ttl", "25h"}, {"-for", "-1s"}, {"-user", ""}, {"extra"}, {"-nope"}} {
		if _, err := parseFlags(bad, func(string) string { return "" }); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}
