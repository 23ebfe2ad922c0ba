// Command tokenserver is the smallest useful token server: tokenkeeper's
// mock.TokenServer (the routes of agora-token-service and of Agora's docs
// sample, minting real AccessToken2 tokens) served over HTTP on loopback.
// `tokenctl serve` is the same with more checks and flags.
//
//	APP_ID=… APP_CERTIFICATE=… go run ./examples/tokenserver -addr 127.0.0.1:8080
//	curl -s -X POST localhost:8080/getToken -d '{"tokenType":"rtm","uid":"bot-1"}'
//
// Without APP_ID and APP_CERTIFICATE it mints with placeholder credentials,
// which Agora rejects. It hands a token to anyone who asks: keep it on
// loopback.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "loopback address to listen on (port 0: any free port)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := serve(ctx, *addr, os.Getenv, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "tokenserver:", err)
		os.Exit(1)
	}
}

// serve runs the token server on addr until ctx ends, logging each request
// (never a token) to logw. ready, if not nil, receives the address bound.
func serve(ctx context.Context, addr string, getenv func(string) string, logw io.Writer, ready chan<- string) error {
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() && host != "localhost" {
		return fmt.Errorf("%q is not a loopback host:port", addr)
	}
	ts := mock.NewTokenServer(mock.TokenServerConfig{
		AppID: getenv("APP_ID"), Certificate: getenv("APP_CERTIFICATE"),
		Logger: slog.New(slog.NewTextHandler(logw, nil)),
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: ts, ReadHeaderTimeout: 5 * time.Second}
	stopped := make(chan error, 1)
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- srv.Shutdown(shutdown) // lets requests in flight finish
	}()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return <-stopped
}
