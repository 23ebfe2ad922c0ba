package mock_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

// A TokenServer served in memory: POST /getToken as agora-token-service
// answers it, and the minted token decoded.
func ExampleTokenServer() {
	clk := clock.NewMock()
	clk.Set(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	ts := mock.NewTokenServer(mock.TokenServerConfig{Clock: clk, Seed: 1})

	resp, err := ts.Client().Post(mock.TokenServerURL+"/getToken", "application/json",
		strings.NewReader(`{"tokenType":"rtm","uid":"alice","expire":600}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var answer struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		panic(err)
	}
	tok, err := accesstoken.Parse(answer.Token)
	if err != nil {
		panic(err)
	}
	rtm, _ := tok.Service(accesstoken.ServiceRTM)
	fmt.Println(resp.StatusCode, rtm.UserID, tok.Lifetime(), tok.ExpiresAt().Format(time.RFC3339))
	fmt.Println("signed:", tok.Verify(ts.Certificate()) == nil)
	// Output:
	// 200 alice 10m0s 2025-06-01T12:10:00Z
	// signed: true
}

// Scripted faults apply to the next token requests, in order.
func ExampleTokenServer_faults() {
	ts := mock.NewTokenServer(mock.TokenServerConfig{})
	ts.RateLimitNext(1, 5*time.Second)
	ts.FailNext(1, http.StatusBadGateway)
	for range 3 {
		resp, err := ts.Client().Get(mock.TokenServerURL + "/rtm/alice/")
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Printf("%d Retry-After=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	st := ts.Stats()
	fmt.Println("requests", st.Requests, "minted", st.Minted, "failed", st.Failed)
	// Output:
	// 429 Retry-After="5"
	// 502 Retry-After=""
	// 200 Retry-After=""
	// requests 3 minted 1 failed 2
}
