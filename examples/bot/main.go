// Command bot is a Signaling bot kept logged in by tokenkeeper, in real
// time, against a real token server: `tokenctl serve`, the token server of
// examples/tokenserver, or your own (agora-token-service, Agora's docs
// sample).
//
//	go run ./cmd/tokenctl serve &              # a development token server on :8080
//	go run ./examples/bot -ttl 3m -for 10m     # watch a few renewals, then exit
//
// It fetches an RTM token, logs in, joins its stream channels, and renews
// every token before it expires until Ctrl-C (or -for), logging each event
// with log/slog (the renewal engine's log lines, and the SDK's link-state
// events). Tokens are never logged.
//
// No Signaling SDK can be imported here, so the bot talks to a stand-in SDK
// (standin.go: tokenkeeper's fake Signaling client on the real clock, which
// checks every token and fires the SDK's will-expire and FAILED events).
// adapter.go is the part to copy: it wires an SDK binding's calls and
// callbacks, in the shape of the Go server SDK (binding.go), to tokenkeeper.
//
// With `tokenctl serve` started without credentials, the defaults match its
// placeholder app ID and certificate. Otherwise pass -app-id and -cert (or
// APP_ID and APP_CERTIFICATE) so the stand-in SDK can check the tokens.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/tokenclient"
)

// options are the bot's flags.
type options struct {
	server, preset, user, appID, cert string
	channels                          []string
	ttl, runFor                       time.Duration
}

func main() {
	opt, err := parseFlags(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bot:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, opt, log); err != nil {
		log.Error("bot stopped", "err", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, getenv func(string) string) (options, error) {
	fs := flag.NewFlagSet("bot", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o options
	fs.StringVar(&o.server, "server", "http://127.0.0.1:8080", "token server `URL`")
	fs.StringVar(&o.preset, "preset", fetcher.NameAgoraTokenService,
		"token server `KIND`: agora-token-service, agora-token-service-get or agora-docs-sample")
	fs.StringVar(&o.user, "user", "bot-1", "Signaling user `ID`")
	channels := fs.String("channels", "lobby", "comma-separated stream `CHANNELS` to join (empty: none)")
	fs.DurationVar(&o.ttl, "ttl", time.Hour, "token lifetime to ask for, 1s to 24h (short ones show renewals sooner)")
	fs.DurationVar(&o.runFor, "for", 0, "stop after this `DURATION` (0: run until Ctrl-C)")
	fs.StringVar(&o.appID, "app-id", "", "app `ID` the tokens must name (default $APP_ID, else the placeholder of tokenctl serve)")
	fs.StringVar(&o.cert, "cert", "", "app certificate the stand-in SDK checks tokens with (default $APP_CERTIFICATE, else the placeholder)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, ch := range strings.Split(*channels, ",") {
		if ch = strings.TrimSpace(ch); ch != "" {
			o.channels = append(o.channels, ch)
		}
	}
	if o.appID == "" {
		o.appID = cmpOr(getenv("APP_ID"), mock.DefaultAppID)
	}
	if o.cert == "" {
		o.cert = cmpOr(getenv("APP_CERTIFICATE"), mock.DefaultCertificate)
	}
	switch {
	case o.ttl < time.Second || o.ttl > 24*time.Hour:
		return o, errors.New("-ttl must be 1s to 24h")
	case o.runFor < 0:
		return o, errors.New("-for must not be negative")
	case o.user == "":
		return o, errors.New("-user must not be empty")
	}
	return o, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// run keeps the bot logged in until ctx ends or opt.runFor has passed.
func run(ctx context.Context, opt options, log *slog.Logger) error {
	if opt.runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.runFor)
		defer cancel()
	}
	preset, err := fetcher.PresetByName(opt.preset)
	if err != nil {
		return err
	}
	f, err := fetcher.NewHTTP(opt.server, fetcher.WithPreset(preset), fetcher.WithAppID(opt.appID),
		fetcher.WithLogger(log))
	if err != nil {
		return err
	}
	defer f.CloseIdleConnections()

	// The SDK side: an adapter around the binding (here the stand-in).
	a := newAdapter(log)
	sdk := newStandin(mock.SignalingConfig{AppID: opt.appID, Certificate: opt.cert, UserID: opt.user}, a.handler())
	a.rtm = sdk
	sdkCtx, stopSDK := context.WithCancel(context.Background())
	sdkDone := make(chan struct{})
	go func() { defer close(sdkDone); sdk.run(sdkCtx) }()
	defer func() { stopSDK(); <-sdkDone }()

	seen := &tally{counts: make(map[renewal.EventKind]int)}
	c, err := tokenclient.New(tokenclient.Config{
		UserID:  opt.user,
		Fetcher: f,
		SDK:     a,
		TTL:     opt.ttl,
		Logger:  log,
		Policy:  renewal.Policy{LogoutOnClose: true},
		OnEvent: seen.add, // must not block
	})
	if err != nil {
		return err
	}
	a.attach(c)
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Close(closeCtx); err != nil {
			log.Warn("close", "err", err)
		}
		log.Info("bot stopped; logged out", "renewed", seen.get(renewal.EventRenewed),
			"relogins", seen.get(renewal.EventRelogin), "rejoined", seen.get(renewal.EventRejoined),
			"fetch_failures", seen.get(renewal.EventFetchFailed))
	}()

	if err := c.Start(ctx); err != nil {
		return err
	}
	for _, ch := range opt.channels {
		if err := c.JoinStream(ctx, ch); err != nil {
			return err
		}
	}
	log.Info("bot running; Ctrl-C to stop", "user", opt.user, "channels", opt.channels, "ttl", opt.ttl)
	<-ctx.Done()
	return nil
}

// tally counts the client's renewal events, for the goodbye line. The
// engine logs every event itself (through Config.Logger).
type tally struct {
	mu     sync.Mutex
	counts map[renewal.EventKind]int
}

func (t *tally) add(ev renewal.Event) {
	t.mu.Lock()
	t.counts[ev.Kind]++
	t.mu.Unlock()
}

func (t *tally) get(k renewal.EventKind) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[k]
}
