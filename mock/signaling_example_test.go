package mock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// ExampleSignaling logs a fake client in with a ten-minute token, lets the
// token run out on a mock clock, and prints the signals and the timeline.
func ExampleSignaling() {
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	sig := mock.NewSignaling(mock.SignalingConfig{UserID: "bot-42", Clock: clk})
	sig.OnWillExpire(func(channel string) { fmt.Printf("will expire: %q\n", channel) })
	sig.OnLinkState(func(e signaling.LinkStateEvent) { fmt.Println(e) })

	// A token server would mint this; the fake checks it with the default
	// certificate.
	token, err := accesstoken.Build(accesstoken.Params{
		AppID: mock.DefaultAppID, Certificate: mock.DefaultCertificate,
		IssueTs: uint32(clk.Now().Unix()), Expire: 600, Salt: 1,
		Services: []accesstoken.Service{accesstoken.RTMService("bot-42", 600)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := sig.Login(ctx, token); err != nil {
		fmt.Println(err)
		return
	}

	// Step the clock to each pending signal and fire it, as a harness does.
	for {
		next, ok := sig.NextDue()
		if !ok {
			break
		}
		clk.Set(next)
		sig.Tick()
	}
	fmt.Println(sig.RenewToken(ctx, token))
	st := sig.Stats()
	fmt.Println("state:", sig.State(), "warnings:", st.WillExpireSignals, "failed:", st.FailedSignals)
	for _, e := range sig.Timeline() {
		fmt.Println(e)
	}
	// Output:
	// link IDLE→CONNECTING service=MESSAGE op=LOGIN reason=LOGIN(1) affected=[]
	// link CONNECTING→CONNECTED service=MESSAGE op=LOGIN reason=LOGIN_SUCCESS(2) affected=[]
	// will expire: ""
	// link CONNECTED→FAILED service=MESSAGE op=SERVER_REJECT reason=TOKEN_EXPIRED(17) affected=[]
	// signaling: renewToken: NOT_CONNECTED (-10025)
	// state: FAILED warnings: 1 failed: 1
	// 2026-11-25T10:00:00Z  link-state    message link        event  link IDLE→CONNECTING service=MESSAGE op=LOGIN reason=LOGIN(1) affected=[]
	// 2026-11-25T10:00:00Z  link-state    message link        event  link CONNECTING→CONNECTED service=MESSAGE op=LOGIN reason=LOGIN_SUCCESS(2) affected=[]
	// 2026-11-25T10:00:00Z  login         login token         ok  token 007eJx…(151 chars), deadline 2026-11-25T10:10:00Z
	// 2026-11-25T10:09:30Z  will-expire   login token         delivered  deadline 2026-11-25T10:10:00Z
	// 2026-11-25T10:10:00Z  link-state    message link        event  link CONNECTED→FAILED service=MESSAGE op=SERVER_REJECT reason=TOKEN_EXPIRED(17) affected=[]
	// 2026-11-25T10:10:00Z  renew         login token         NOT_CONNECTED(-10025)  link is FAILED
}
