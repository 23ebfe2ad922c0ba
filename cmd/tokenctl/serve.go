package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "run a development token server speaking every preset's routes",
		usage:   "[--addr 127.0.0.1:8080] [--app-id ID] [--cert CERT] [--allow-remote]",
		run:     runServe,
	})
}

// shutdownGrace bounds the wait for in-flight requests at shutdown.
const shutdownGrace = 5 * time.Second

func runServe(ctx context.Context, args []string, env *cmdEnv) error {
	fs := newFlagSet("serve")
	addr := fs.String("addr", "127.0.0.1:8080", "listen `ADDRESS` (host:port; port 0 picks a free one)")
	appID := fs.String("app-id", "", "app `ID` to mint for, 32 hex characters (default $APP_ID)")
	cert := fs.String("cert", "", "app certificate `CERT`, 32 hex characters (default $APP_CERTIFICATE)")
	remote := fs.Bool("allow-remote", false, "allow listening on an address other than loopback")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("serve: unexpected argument %q", pos[0])
	}
	set := setFlags(fs)
	if !set["app-id"] {
		*appID = env.Getenv("APP_ID")
	}
	if !set["cert"] {
		*cert = env.Getenv("APP_CERTIFICATE")
	}
	if *appID != "" && !isHex32(*appID) {
		return usagef("serve: --app-id must be 32 hexadecimal characters")
	}
	if *cert != "" {
		if err := checkCertFlag("serve", *cert); err != nil {
			return err
		}
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return usagef("serve: --addr %q: want host:port", *addr)
	}
	if !*remote && !isLoopbackHost(host) {
		return usagef("serve: refusing to listen on %q, which is not a loopback address: "+
			"this server hands out tokens to anyone who asks; pass --allow-remote to do it anyway", *addr)
	}

	stderr := &lockedWriter{w: env.Stderr}
	var missing []string
	if *appID == "" {
		missing = append(missing, "app ID ($APP_ID, --app-id)")
	}
	if *cert == "" {
		missing = append(missing, "certificate ($APP_CERTIFICATE, --cert)")
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "tokenctl: warning: no %s given: minting with the spec's placeholder credentials "+
			"(app ID %s), which Agora rejects\n", joinAnd(missing), mock.DefaultAppID)
	}
	ts := mock.NewTokenServer(mock.TokenServerConfig{
		AppID: *appID, Certificate: *cert, Seed: rand.Int64(), CORSAllowOrigin: "*",
	})

	// Catch the signals before announcing the address, so that a signal
	// sent by whoever read the announcement shuts down gracefully.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler:           logRequests(ts, stderr),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(stderr, "tokenctl: serve: ", 0),
	}
	if _, err := fmt.Fprintf(env.Stdout, "listening on http://%s\n", ln.Addr()); err != nil {
		ln.Close()
		return err
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served: // Serve failed before any shutdown was asked for
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "tokenctl: serve: shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func joinAnd(items []string) string {
	if len(items) == 2 {
		return items[0] + " and " + items[1]
	}
	return items[0]
}

// lockedWriter serializes writes from concurrent request handlers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// logRequests logs one line per request: method, escaped path, status and
// duration. Query strings, headers and bodies, where tokens and
// credentials travel, are never logged.
func logRequests(h http.Handler, w io.Writer) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusRecorder{ResponseWriter: rw, status: http.StatusOK}
		defer func() {
			fmt.Fprintf(w, "%s %s %s %d %s\n", start.UTC().Format(time.RFC3339), r.Method, r.URL.EscapedPath(),
				sw.status, time.Since(start).Round(time.Microsecond))
		}()
		h.ServeHTTP(sw, r)
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (the token
// server's reset fault hijacks it).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
