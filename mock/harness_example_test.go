package mock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/renewal"
)

// A bot with one stream channel lives through a day of one-hour tokens and
// a two-hour token-server outage, in milliseconds of real time.
func ExampleHarness() {
	ctx := context.Background()
	h, err := mock.NewHarness(mock.HarnessConfig{
		Seed:     1,
		UserID:   "bot-42",
		Channels: []string{"lobby"},
		TTL:      time.Hour,
	})
	if err != nil {
		panic(err)
	}
	defer h.Close(ctx)
	if err := h.Start(ctx); err != nil { // fetch, login, join
		panic(err)
	}

	h.Advance(6 * time.Hour)
	h.Server.Outage(true) // longer than a token lives
	h.Advance(2 * time.Hour)
	fmt.Println("during the outage:", h.Check() != nil)
	h.Server.Outage(false)
	h.Advance(16 * time.Hour)

	fmt.Println("health:", h.Check())
	fmt.Println("relogins:", h.Events(renewal.EventRelogin))
	fmt.Println("expired tokens used:", h.Summary().ExpiredTokenUses)
	fmt.Println("logged out at most:", h.MaxLoggedOut().Round(time.Minute))
	// Output:
	// during the outage: true
	// health: <nil>
	// relogins: 1
	// expired tokens used: 0
	// logged out at most: 1h33m0s
}

// Several sessions share one engine; the labelled timeline tells whose each
// entry is.
func ExampleHarness_SessionTimeline() {
	ctx := context.Background()
	h, err := mock.NewHarness(mock.HarnessConfig{Seed: 1, Sessions: 2})
	if err != nil {
		panic(err)
	}
	defer h.Close(ctx)
	if err := h.Start(ctx); err != nil {
		panic(err)
	}
	h.Session(1).SDK.ExpireNow("") // held until the harness runs again
	h.Advance(time.Minute)
	for _, e := range h.SessionTimeline() {
		if e.Kind == mock.EntryLogin {
			fmt.Println(e.UserID, e.Time.Format(time.TimeOnly), e.Kind, e.OK)
		}
	}
	// Output:
	// bot-1 09:00:00 login true
	// bot-2 09:00:00 login true
	// bot-2 09:00:00 login true
}
