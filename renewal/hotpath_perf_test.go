package renewal

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/fetcher"
)

// What a refresh costs the application's own goroutines, over a loopback
// token server (a handler answering pre-built, valid 24 h RTM tokens, so the
// figures are the client side's cost plus one loopback round trip; a real
// token server adds its network round trip and minting time):
//
//   - oauth2-fresh: ReuseTokenSource.Token while the token is valid (the
//     lazy design's hot path on every use);
//   - oauth2-due: Token when a refresh falls due: the caller waits for the
//     whole fetch. An expiry window longer than the token's life makes
//     every call a due call;
//   - engine-renew: one proactive renewal through the engine (scheduler →
//     worker → fetch → RenewToken → reschedule → event). It runs on engine
//     goroutines; the application's goroutines wait for none of it, they
//     never ask for a token (the SDK holds it).

const hotAppID = "970ca35de60c44645bbae8a215061b33"
const hotCert = "5cfd2fd1755d40ecb72977518be15d3b"

// hotServer serves RTM tokens for "alice" from a pool of distinct,
// pre-built 24 h tokens (the engine refuses a token identical to the one
// in use) and returns a fetcher for it; cleanup closes both.
func hotServer(tb testing.TB) *fetcher.HTTP {
	tb.Helper()
	bodies := make([][]byte, 64)
	for i := range bodies {
		tok, err := accesstoken.Build(accesstoken.Params{
			AppID: hotAppID, Certificate: hotCert, IssueTs: uint32(time.Now().Unix()), Expire: 86400, Salt: uint32(i + 1),
			Services: []accesstoken.Service{accesstoken.RTMService("alice", 86400)},
		})
		if err != nil {
			tb.Fatal(err)
		}
		bodies[i] = []byte(`{"token":"` + tok + `"}` + "\n")
	}
	var n atomic.Uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(bodies[n.Add(1)%uint64(len(bodies))])
	}))
	h, err := fetcher.NewHTTP(srv.URL, fetcher.WithAppID(hotAppID))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		h.CloseIdleConnections()
		srv.Close()
	})
	return h
}

func BenchmarkLazyHotPath(b *testing.B) {
	h := hotServer(b)
	b.Run("oauth2-fresh", func(b *testing.B) {
		ts := oauth2.ReuseTokenSource(nil, &lazySource{f: h, user: "alice"})
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ts.Token(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("oauth2-due", func(b *testing.B) {
		ts := oauth2.ReuseTokenSourceWithExpiry(nil, &lazySource{f: h, user: "alice"}, 48*time.Hour)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ts.Token(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("engine-renew", func(b *testing.B) {
		runRenewCycles(b, Config{Workers: 1}, "alice", h)
	})
}
