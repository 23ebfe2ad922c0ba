package harness_test

// These tests show how to test an app's token-expiry handling with
// mock.Harness. Each one builds a harness (a token server, a fake Signaling
// SDK per session and the real renewal engine, all on a simulated clock),
// starts it, moves simulated time with Advance while scripting faults, and
// then asserts on the app's own code (here, the Watchdog) and on the
// harness's health check and figures.
//
// Simulated time costs no real time, only the work done in it: a bot's
// simulated week takes a fraction of a second.
// The same seed and the same script give the same run, event for event, so
// a failure reproduces exactly.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tokenkeeper/tokenkeeper/examples/harness"
	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// TestMain checks that no test leaves a goroutine behind: a harness must be
// closed (startBots does it with t.Cleanup).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startBots builds and starts a harness for n bots, each in the stream
// channels lobby and game, with one-hour tokens, their events going to the
// app's watchdog. The harness is closed when the test ends.
func startBots(t *testing.T, n int, w *harness.Watchdog) *mock.Harness {
	t.Helper()
	h, err := mock.NewHarness(mock.HarnessConfig{
		Seed:     1,     // any fixed seed: the run repeats exactly
		Sessions: n,     // users bot-1 … bot-n, or "bot" alone
		UserID:   "bot", // the user ID, or the prefix of the numbered ones
		Channels: []string{"lobby", "game"},
		TTL:      time.Hour, // what the app asks its token server for
		OnEvent:  w.OnEvent, // the app's handler, exactly as in production
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	if err := h.Start(context.Background()); err != nil { // fetch, login, join
		t.Fatal(err)
	}
	return h
}

// My bot survives a two-hour token-server outage: the tokens expire during
// it, the bot logs in again once the server is back, and the app pages
// someone because the outage lasted longer than PageAfter.
func TestBotSurvivesATwoHourOutage(t *testing.T) {
	w := harness.NewWatchdog()
	h := startBots(t, 1, w)

	h.Advance(3 * time.Hour) // a normal morning: renewals only
	if len(w.Pages()) != 0 {
		t.Fatalf("pages on a quiet morning: %q", w.Pages())
	}

	h.Server.Outage(true) // every token request now fails with 503
	h.Advance(2 * time.Hour)
	if h.Check() == nil {
		t.Fatal("a 2 h outage with 1 h tokens should have logged the bot out")
	}
	h.Server.Outage(false)

	// Once the server is back, recovery takes at most the engine's longest
	// retry interval.
	h.Advance(renewal.DefaultBackoffMax)
	if err := h.Check(); err != nil { // logged in, in both channels, no expired token used
		t.Fatalf("not recovered a minute after the outage: %v", err)
	}

	// The app's view of it: one page, and an outage shorter than the
	// server's (the tokens lasted a while into it).
	pages := w.Pages()
	if len(pages) != 1 || !strings.Contains(pages[0], "bot was logged out for") {
		t.Errorf("pages %q, want one about the outage", pages)
	}
	if out := w.WorstOutage(); out <= harness.PageAfter || out > 2*time.Hour+renewal.DefaultBackoffMax {
		t.Errorf("watchdog saw a %v outage", out)
	}
	// The fake SDK measured it too, from the link's side.
	if diff := h.MaxLoggedOut() - w.WorstOutage(); diff < -time.Second || diff > time.Second {
		t.Errorf("the SDK saw %v logged out, the watchdog %v", h.MaxLoggedOut(), w.WorstOutage())
	}
	if s := h.Summary(); s.ExpiredTokenUses != 0 || s.Relogins != 1 {
		t.Errorf("summary %+v", s)
	}
}

// A kick (the same user logged in elsewhere) is reported and not answered
// with an automatic relogin — two instances of one user would otherwise
// kick each other forever. Only this bot is affected; after someone fixed
// the cause, RenewNow brings it back.
func TestKickIsReportedNotAutoRelogged(t *testing.T) {
	w := harness.NewWatchdog()
	h := startBots(t, 3, w)
	h.Advance(time.Hour)

	kicked := h.Session(1) // bot-2
	kicked.SDK.Kick(signaling.ReasonSameUIDLogin)
	h.Advance(6 * time.Hour) // a long time: nothing must try to log it in

	pages := w.Pages()
	if len(pages) != 1 || !strings.HasPrefix(pages[0], "bot-2 was kicked") {
		t.Fatalf("pages %q, want one about bot-2's kick", pages)
	}
	if n := h.Events(renewal.EventRelogin); n != 0 {
		t.Errorf("%d automatic relogins after a kick", n)
	}
	if kicked.SDK.State() != signaling.LinkFailed {
		t.Errorf("bot-2 is %v, want still FAILED", kicked.SDK.State())
	}
	// The others carried on.
	if err := h.Check(); !errors.Is(err, mock.ErrUnhealthy) || strings.Contains(err.Error(), "bot-1 ") ||
		strings.Contains(err.Error(), "bot-3 ") {
		t.Errorf("Check = %v, want only bot-2 unhealthy", err)
	}

	kicked.RenewNow("") // the operator's "log it in again" button
	if err := h.Check(); err != nil {
		t.Fatalf("after RenewNow: %v", err)
	}
}

// A token that expires early (the SDK reports TOKEN_EXPIRED out of the
// blue) costs a moment, not a page: the bot logs in again at once and
// rejoins its channels, and the app restores its subscriptions.
func TestEarlyExpiryIsABlip(t *testing.T) {
	w := harness.NewWatchdog()
	h := startBots(t, 1, w)
	h.Advance(90 * time.Minute)

	bot := h.Session(0)
	bot.SDK.ExpireNow("")  // delivered when the harness next runs…
	h.Advance(time.Second) // …which is here, at the same simulated instant
	if err := h.Check(); err != nil {
		t.Fatal(err)
	}
	if len(w.Pages()) != 0 || w.WorstOutage() > time.Second {
		t.Errorf("pages %q, outage %v: an immediate relogin is no incident", w.Pages(), w.WorstOutage())
	}
	// The SDK saw logout → login → both channels joined → session restored.
	var after []string
	for _, e := range bot.SDK.Timeline() {
		if e.Time.After(h.Now().Add(-2*time.Second)) && e.OK && e.Kind != mock.EntryLinkState {
			after = append(after, e.Kind.String())
		}
	}
	if want := []string{"logout", "login", "join", "join", "restore"}; !slices.Equal(after, want) {
		t.Errorf("SDK calls after the expiry %q, want %q", after, want)
	}
}

// A day of 20 bots: every token renewed in place, never logged out, and
// the load on the token server is what the token lifetime implies (one
// request per token per ~47 minutes; the first renewal after the login or
// join, drawn over the first period, adds about half a request per token
// to the day, within the 5 % allowed).
func TestADayOfTwentyBots(t *testing.T) {
	w := harness.NewWatchdog()
	h := startBots(t, 20, w)
	h.Advance(24 * time.Hour)
	if err := h.Check(); err != nil {
		t.Fatal(err)
	}
	s := h.Summary()
	perHour := float64(s.Fetches) / 24
	if want := 20 * 3 * 60 / 47.4; perHour < 0.95*want || perHour > 1.05*want {
		t.Errorf("%.1f token requests an hour, want about %.1f", perHour, want)
	}
	if s.Relogins != 0 || s.WillExpireSignals != 0 || w.WorstOutage() != 0 || len(w.Pages()) != 0 {
		t.Errorf("a quiet day should be quiet: %+v, pages %q", s, w.Pages())
	}
}

// One seed, one run: when a test fails, run it again and the same thing
// happens. Compare two runs' timelines to see it.
func TestSameSeedSameRun(t *testing.T) {
	run := func() []string {
		h := startBots(t, 2, harness.NewWatchdog())
		h.Advance(time.Hour)
		h.Server.RateLimitNext(3, 30*time.Second)
		h.Session(0).SDK.ExpireNow("lobby")
		h.Advance(3 * time.Hour)
		var lines []string
		for _, e := range h.SessionTimeline() { // each entry names its user
			lines = append(lines, e.String())
		}
		return lines
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Fatal("two runs with one seed differ")
	}
}
