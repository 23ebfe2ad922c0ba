package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestServeMintsTokens fetches an RTM and an RTC token over loopback HTTP
// and checks them with the certificate, then stops the server.
func TestServeMintsTokens(t *testing.T) {
	env := map[string]string{"APP_ID": strings.Repeat("a1", 16), "APP_CERTIFICATE": strings.Repeat("c3", 16)}
	var logs mock.LogBuffer
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, "127.0.0.1:0", func(k string) string { return env[k] }, &logs, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	f, err := fetcher.NewHTTP("http://"+addr, fetcher.WithAppID(env["APP_ID"]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.CloseIdleConnections()
	for _, req := range []fetcher.Request{
		{Kind: fetcher.KindRTM, UserID: "bot-1"},
		{Kind: fetcher.KindRTC, Channel: "lobby", Account: "bot-1", Role: fetcher.RolePublisher},
	} {
		tok, err := f.Fetch(ctx, req)
		if err != nil {
			t.Fatalf("%v: %v", req.Kind, err)
		}
		parsed, err := accesstoken.Parse(tok.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := parsed.Verify(env["APP_CERTIFICATE"]); err != nil {
			t.Errorf("%v token: %v", req.Kind, err)
		}
		if strings.Contains(logs.String(), tok.Raw[:20]) {
			t.Error("the log holds a token")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if n := strings.Count(logs.String(), `route="POST /getToken" status=200`); n != 2 {
		t.Errorf("%d request lines logged, want 2:\n%s", n, logs.String())
	}
}

func TestServeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:80", "example.com:80", "no-port"} {
		err := serve(context.Background(), addr, func(string) string { return "" }, &mock.LogBuffer{}, nil)
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("serve(%q) = %v, want a loopback refusal", addr, err)
		}
	}
}
