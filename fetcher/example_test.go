package fetcher_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

// Fetching an RTM login token from an agora-token-service (here the mock,
// served in memory).
func ExampleNewHTTP() {
	clk := clock.NewMock()
	clk.Set(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	ts := mock.NewTokenServer(mock.TokenServerConfig{Clock: clk})

	f, err := fetcher.NewHTTP(mock.TokenServerURL, // e.g. "https://tokens.example.com"
		fetcher.WithTransport(ts.Transport()), // only for the in-memory mock
		fetcher.WithClock(clk),
		fetcher.WithAppID(mock.DefaultAppID),
	)
	if err != nil {
		panic(err)
	}
	tok, err := f.Fetch(context.Background(), fetcher.Request{Kind: fetcher.KindRTM, UserID: "bot-42", TTL: 2 * time.Hour})
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Raw[:3], tok.Lifetime, "deadline", tok.Deadline().Format(time.RFC3339))
	// Output: 007 2h0m0s deadline 2025-06-01T13:59:59Z
}

// Failures are typed: a 503 is retryable, a token for someone else is not.
func ExampleError() {
	ts := mock.NewTokenServer(mock.TokenServerConfig{})
	f, _ := fetcher.NewHTTP(mock.TokenServerURL, fetcher.WithTransport(ts.Transport()), fetcher.WithRetry(0, 0, 0))
	req := fetcher.Request{Kind: fetcher.KindRTC, Channel: "room-1", Account: "bot-42"}

	ts.FailNext(1, http.StatusServiceUnavailable)
	_, err := f.Fetch(context.Background(), req)
	fmt.Println(fetcher.IsRetryable(err), err)

	ts.WrongUserNext(1)
	_, err = f.Fetch(context.Background(), req)
	fmt.Println(fetcher.IsRetryable(err), err)
	// Output:
	// true fetcher: rtc token for channel "room-1" account "bot-42": server error (503 Service Unavailable): "Service Unavailable"
	// false fetcher: rtc token for channel "room-1" account "bot-42": the token is for RTC channel "room-1" for user "bot-42-imposter", not RTC channel "room-1" for user "bot-42"
}

// A token server no preset covers: GET /api/token?user=… answering
// {"data":{"token":"007…","expiresAt":…}}.
func ExampleCustom() {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	server := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		tok, _ := accesstoken.Build(accesstoken.Params{
			AppID: mock.DefaultAppID, Certificate: mock.DefaultCertificate, IssueTs: uint32(now.Unix()), Expire: 3600, Salt: 1,
			Services: []accesstoken.Service{accesstoken.RTMService(user, 3600)},
		})
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"token": tok, "expiresAt": now.Unix() + 1800}})
	})
	clk := clock.NewMock()
	clk.Set(now)
	f, err := fetcher.NewHTTP("https://tokens.example.com",
		fetcher.WithPreset(fetcher.Custom(fetcher.Template{
			URL:        "/api/token?user={user}&ttl={expire}",
			TokenPath:  "data.token",
			ExpiryPath: "data.expiresAt",
			Headers:    map[string]string{"X-Api-Key": "k-123"},
		})),
		fetcher.WithTransport(mock.NewHandlerTransport(server)),
		fetcher.WithClock(clk),
	)
	if err != nil {
		panic(err)
	}
	tok, err := f.Fetch(context.Background(), fetcher.Request{Kind: fetcher.KindRTM, UserID: "bot 42"})
	if err != nil {
		panic(err)
	}
	// The server's expiresAt is earlier than the token's own, so it wins.
	fmt.Println(tok.ExpiresAt.Format(time.RFC3339))
	// Output: 2025-06-01T12:30:00Z
}
