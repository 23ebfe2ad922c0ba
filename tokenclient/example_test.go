package tokenclient_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
	"github.com/tokenkeeper/tokenkeeper/tokenclient"
)

// printSDK is a toy adapter that prints each call instead of calling a
// Signaling SDK.
type printSDK struct{}

func (printSDK) Login(ctx context.Context, token string) error {
	fmt.Println("login with", fetcher.Redact(token))
	return nil
}
func (printSDK) Logout(ctx context.Context) error { fmt.Println("logout"); return nil }
func (printSDK) RenewToken(ctx context.Context, token string) error {
	fmt.Println("renew with", fetcher.Redact(token))
	return nil
}
func (printSDK) JoinStream(ctx context.Context, channel, token string) error {
	fmt.Println("join", channel, "with", fetcher.Redact(token))
	return nil
}
func (printSDK) RenewStreamToken(ctx context.Context, channel, token string) error {
	fmt.Println("renew", channel, "with", fetcher.Redact(token))
	return nil
}
func (printSDK) LeaveStream(ctx context.Context, channel string) error {
	fmt.Println("leave", channel)
	return nil
}

// tokenServer stands in for fetcher.NewHTTP: numbered one-hour tokens.
func tokenServer() fetcher.Fetcher {
	var mu sync.Mutex
	n := 0
	return fetcher.Func(func(ctx context.Context, req fetcher.Request) (fetcher.Token, error) {
		mu.Lock()
		n++
		raw := fmt.Sprintf("007%s%03d-signed-token-body", req.Kind, n)
		mu.Unlock()
		now := time.Now()
		return fetcher.Token{Raw: raw, Request: req, ReceivedAt: now, ExpiresAt: now.Add(time.Hour), Lifetime: time.Hour}, nil
	})
}

func Example() {
	ctx := context.Background()
	c, err := tokenclient.New(tokenclient.Config{
		UserID:  "bot-42",
		Fetcher: tokenServer(),
		SDK:     printSDK{},
		Workers: 1,
	})
	if err != nil {
		panic(err)
	}
	if err := c.Start(ctx); err != nil {
		panic(err)
	}
	if err := c.JoinStream(ctx, "room-1"); err != nil {
		panic(err)
	}
	for _, ks := range c.State() {
		fmt.Printf("key %q: %s, deadline in %v\n", ks.Channel, ks.Phase, time.Until(ks.Deadline).Round(time.Hour))
	}
	if err := c.Close(ctx); err != nil {
		panic(err)
	}
	// Output:
	// login with 007rtm…(27 chars)
	// join room-1 with 007rtc…(27 chars)
	// key "": fresh, deadline in 1h0m0s
	// key "room-1": fresh, deadline in 1h0m0s
}

// The SDK's callbacks go straight to the client; they never block.
func ExampleClient_LinkState() {
	ctx := context.Background()
	done := make(chan struct{})
	c, err := tokenclient.New(tokenclient.Config{
		UserID:  "bot-42",
		Fetcher: tokenServer(),
		SDK:     printSDK{},
		Workers: 1,
		OnEvent: func(ev renewal.Event) {
			if ev.Kind == renewal.EventLoggedIn && ev.Reason == "relogin" {
				close(done)
			}
		},
	})
	if err != nil {
		panic(err)
	}
	if err := c.Start(ctx); err != nil {
		panic(err)
	}
	// The SDK reports that the login token expired.
	c.LinkState(signaling.LinkStateEvent{
		Current: signaling.LinkFailed, Previous: signaling.LinkConnected,
		Service: signaling.ServiceMessage, Operation: signaling.OpServerReject,
		ReasonCode: signaling.ReasonTokenExpired, Reason: "Token expired",
	})
	<-done
	if err := c.Close(ctx); err != nil {
		panic(err)
	}
	// Output:
	// login with 007rtm…(27 chars)
	// logout
	// login with 007rtm…(27 chars)
}
