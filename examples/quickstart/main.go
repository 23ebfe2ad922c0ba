// Command quickstart is tokenkeeper's main job in miniature: a Signaling bot
// logged in with two stream channels runs for seven simulated days against
// the mock token server and the mock Signaling SDK, on a mock clock, while
// faults are thrown at it — a two-hour token-server outage, failing renewals,
// a forced expiry of the login token and of a stream token, a burst of 429s.
// It prints a timeline of everything that was not a routine renewal and a
// summary; it needs no setup and finishes in seconds.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -days 30 -ttl 2h
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

func main() {
	days := flag.Int("days", 7, "simulated days to run")
	ttl := flag.Duration("ttl", time.Hour, "token lifetime asked of the token server")
	seed := flag.Int64("seed", 1, "seed for the mock token server and the renewal jitter")
	flag.Parse()
	start := time.Now()
	err := run(context.Background(), os.Stdout, options{days: *days, ttl: *ttl, seed: *seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "wall time: %v\n", time.Since(start).Round(time.Millisecond))
}

type options struct {
	days int
	ttl  time.Duration
	seed int64
}

// fault is something the scenario does to the system at a simulated time.
type fault struct {
	at    time.Duration // since the start
	what  string
	apply func(h *mock.Harness)
}

// scenario returns the faults thrown at the bot, in time order.
func scenario() []fault {
	day := 24 * time.Hour
	return []fault{
		{day + 5*time.Hour, "token server down for 2 h (longer than a token's life)",
			func(h *mock.Harness) { h.Server.Outage(true) }},
		{day + 7*time.Hour, "token server back",
			func(h *mock.Harness) { h.Server.Outage(false) }},
		{2*day + 3*time.Hour, "the SDK fails the next 3 renewals (RENEW_TOKEN_TIMEOUT)",
			func(h *mock.Harness) {
				h.Session(0).SDK.FailNext(mock.CallRenew, 3, signaling.CodeRenewTokenTimeout)
			}},
		{3*day + 10*time.Hour, "the login token is forced to expire now",
			func(h *mock.Harness) { h.Session(0).SDK.ExpireNow("") }},
		{4*day + 16*time.Hour, `the RTC token of "game-7" is forced to expire now`,
			func(h *mock.Harness) { h.Session(0).SDK.ExpireNow("game-7") }},
		{5*day + 8*time.Hour, "the token server answers 429 (Retry-After 30 s) 5 times",
			func(h *mock.Harness) { h.Server.RateLimitNext(5, 30*time.Second) }},
	}
}

func run(ctx context.Context, out io.Writer, opt options) error {
	tl := &timeline{w: out}
	h, err := mock.NewHarness(mock.HarnessConfig{
		Seed:     opt.seed,
		UserID:   "bot-42",
		Channels: []string{"lobby", "game-7"},
		TTL:      opt.ttl,
		OnEvent:  tl.event,
	})
	if err != nil {
		return err
	}
	tl.start = h.Now()
	fmt.Fprintf(out, "bot-42 logs in and joins lobby and game-7; tokens live %v; %d simulated days\n\n", opt.ttl, opt.days)
	if err := h.Start(ctx); err != nil {
		return err
	}
	end := time.Duration(opt.days) * 24 * time.Hour
	faults := scenario()
	for day := 1; day <= opt.days; day++ {
		dayEnd := time.Duration(day) * 24 * time.Hour
		for len(faults) > 0 && faults[0].at < dayEnd && faults[0].at < end {
			h.AdvanceTo(tl.start.Add(faults[0].at))
			tl.note(h.Now(), "fault", faults[0].what)
			faults[0].apply(h)
			faults = faults[1:]
		}
		h.AdvanceTo(tl.start.Add(dayEnd))
		s := h.Summary()
		tl.flush()
		fmt.Fprintf(out, "── day %d/%d done: %d renewals, %d relogins, %d rejoins, %d token-server requests so far\n",
			day, opt.days, s.Renewals, s.Relogins, s.Rejoins, s.Fetches)
	}
	health := h.Check()
	if err := h.Close(ctx); err != nil {
		return err
	}
	printSummary(out, h.Summary())
	if health != nil {
		return health
	}
	fmt.Fprintln(out, "\nhealth check: logged in, both channels joined, no expired token ever used")
	return nil
}

func printSummary(w io.Writer, s mock.Summary) {
	fmt.Fprintf(w, "\nsummary after %.0f simulated days\n", s.SimulatedSeconds/86400)
	rows := []struct {
		name  string
		value any
	}{
		{"tokens renewed in place", s.Renewals},
		{"relogins (logout, fetch, login)", s.Relogins},
		{"stream channels rejoined", s.Rejoins},
		{"token-server requests", s.Fetches},
		{"failed fetches (retried)", s.FetchFailures},
		{"SDK will-expire warnings", s.WillExpireSignals},
		{"time logged out", seconds(s.LoggedOutSeconds)},
		{"longest time logged out", seconds(s.MaxLoggedOutSeconds)},
		{"expired tokens used", s.ExpiredTokenUses},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-34s %v\n", r.name, r.value)
	}
}

// renewalQuiet lists the routine events the timeline leaves out.
func renewalQuiet(k renewal.EventKind) bool {
	switch k {
	case renewal.EventScheduled, renewal.EventRenewed, renewal.EventJoined, renewal.EventLeft:
		return true
	}
	return false
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Second)
}
