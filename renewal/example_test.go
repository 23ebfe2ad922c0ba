package renewal_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// exampleSDK is a stand-in for an application's Signaling adapter: each
// method would call the SDK and wait for its result callback.
type exampleSDK struct{}

func (exampleSDK) Login(ctx context.Context, token string) error      { return nil }
func (exampleSDK) Logout(ctx context.Context) error                   { return nil }
func (exampleSDK) RenewToken(ctx context.Context, token string) error { return nil }
func (exampleSDK) JoinStream(ctx context.Context, channel, token string) error {
	return nil
}
func (exampleSDK) RenewStreamToken(ctx context.Context, channel, token string) error {
	return nil
}
func (exampleSDK) LeaveStream(ctx context.Context, channel string) error { return nil }

// exampleFetcher stands in for fetcher.NewHTTP: it hands out one-hour
// tokens.
var exampleFetcher = fetcher.Func(func(ctx context.Context, req fetcher.Request) (fetcher.Token, error) {
	now := time.Now()
	return fetcher.Token{Raw: "007-example-token-for-" + req.Kind.String() + "-" + req.Channel,
		Request: req, ReceivedAt: now, ExpiresAt: now.Add(time.Hour), Lifetime: time.Hour}, nil
})

// One engine serves many sessions: here two bots, one with a stream channel.
func ExampleEngine() {
	eng, err := renewal.NewEngine(renewal.Config{Workers: 2})
	if err != nil {
		panic(err)
	}
	if err := eng.Start(); err != nil {
		panic(err)
	}
	ctx := context.Background()
	var mu sync.Mutex
	var kinds []string
	for _, user := range []string{"bot-1", "bot-2"} {
		s, err := eng.NewSession(renewal.SessionConfig{
			UserID:  user,
			Fetcher: exampleFetcher,
			SDK:     exampleSDK{},
			OnEvent: func(ev renewal.Event) {
				mu.Lock()
				defer mu.Unlock()
				if ev.Kind != renewal.EventScheduled {
					kinds = append(kinds, ev.UserID+" "+ev.Kind.String())
				}
			},
		})
		if err != nil {
			panic(err)
		}
		if err := s.Start(ctx); err != nil {
			panic(err)
		}
		if user == "bot-2" {
			if err := s.JoinStream(ctx, "room-1"); err != nil {
				panic(err)
			}
		}
		// With the default Policy the first renewal of a token from a login
		// or a join is drawn between 1 s after receipt and the usual time,
		// 12 min (plus jitter) before the deadline; later ones come at the
		// usual time.
		for _, ks := range s.State() {
			lead := ks.Deadline.Sub(ks.NextRenewal)
			fmt.Printf("%s %q %s, first renewal 12 min to 1 h before its deadline: %v\n", user, ks.Channel, ks.Phase,
				lead >= 12*time.Minute && lead < time.Hour)
		}
	}
	if err := eng.Close(ctx); err != nil {
		panic(err)
	}
	fmt.Println(kinds)
	// Output:
	// bot-1 "" fresh, first renewal 12 min to 1 h before its deadline: true
	// bot-2 "" fresh, first renewal 12 min to 1 h before its deadline: true
	// bot-2 "room-1" fresh, first renewal 12 min to 1 h before its deadline: true
	// [bot-1 logged-in bot-2 logged-in bot-2 joined]
}

// Decide is pure: the whole decision table can be explored without an
// engine.
func ExampleDecide() {
	sit := renewal.Situation{Key: renewal.KeyLogin, Phase: renewal.PhaseFresh, Link: signaling.LinkConnected}
	a := renewal.Decide(sit, renewal.Signal{Trigger: renewal.TriggerWillExpire})
	fmt.Println("will-expire:", a.Op)

	sit.Expired = true
	a = renewal.Decide(sit, renewal.Signal{Trigger: renewal.TriggerTimer})
	fmt.Println("timer after the deadline:", a.Op, "reporting", a.Report)

	failed := signaling.LinkStateEvent{Current: signaling.LinkFailed, Service: signaling.ServiceMessage,
		ReasonCode: signaling.ReasonSameUIDLogin}
	a = renewal.Decide(sit, renewal.Signal{Trigger: renewal.TriggerLink, Link: failed})
	fmt.Println("kicked:", a.Op, "reporting", a.Report)
	// Output:
	// will-expire: renew
	// timer after the deadline: relogin reporting expired
	// kicked: none reporting kicked
}
