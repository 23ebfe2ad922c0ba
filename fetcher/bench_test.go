package fetcher_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

// BenchmarkFetchLoopback compares the HTTP fetcher with a bare net/http
// request + read of the same endpoint, over a loopback httptest server, in
// the same run:
//
//   - mint: the mock TokenServer's POST /getToken, which mints a token per
//     request (what a real token server costs);
//   - static: a handler answering a fixed token, which isolates the
//     fetcher's own cost (validation, JSON, token decoding and checks).
func BenchmarkFetchLoopback(b *testing.B) {
	ts := mock.NewTokenServer(mock.TokenServerConfig{Seed: 1})
	tok, err := accesstoken.Build(accesstoken.Params{
		AppID: mock.DefaultAppID, Certificate: mock.DefaultCertificate, IssueTs: uint32(time.Now().Unix()), Expire: 86400, Salt: 1,
		Services: []accesstoken.Service{accesstoken.RTMService("alice", 86400)},
	})
	if err != nil {
		b.Fatal(err)
	}
	static := []byte(`{"token":"` + tok + `"}` + "\n")
	endpoints := []struct {
		name    string
		handler http.Handler
	}{
		{"mint", ts},
		{"static", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.Write(static)
		})},
	}
	req := fetcher.Request{Kind: fetcher.KindRTM, UserID: "alice"}
	const body = `{"tokenType":"rtm","uid":"alice","expire":3600}`
	for _, ep := range endpoints {
		srv := httptest.NewServer(ep.handler)
		h, err := fetcher.NewHTTP(srv.URL, fetcher.WithAppID(mock.DefaultAppID))
		if err != nil {
			b.Fatal(err)
		}
		// The fetcher with a context that never ends (it then runs the round
		// trip on the caller's goroutine), and with a cancelable one (the
		// round trip runs on its own goroutine, so the caller can leave).
		b.Run(ep.name+"/fetcher", func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := h.Fetch(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(ep.name+"/fetcher-cancelable-ctx", func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := h.Fetch(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		h.CloseIdleConnections()
		// The baseline: a bare POST and read of the same endpoint.
		c := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		b.Run(ep.name+"/net-http", func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				resp, err := c.Post(srv.URL+"/getToken", "application/json", strings.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadAll(resp.Body); err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatal(resp.Status)
				}
			}
		})
		c.CloseIdleConnections()
		srv.Close()
	}
}

// reportCPU starts measuring process CPU time (client and loopback server
// together) and returns a func that reports it per operation.
func reportCPU(b *testing.B) func() {
	start := processCPU()
	return func() {
		if n := b.N; n > 0 {
			b.ReportMetric(float64(processCPU()-start)/float64(n), "cpu-ns/op")
		}
	}
}

// BenchmarkFetchShared measures 1000 concurrent identical fetches against a
// loopback server that takes 20 ms per token, and reports the server hits
// per round: 1 when every caller joined the shared round trip.
func BenchmarkFetchShared(b *testing.B) {
	var hits atomic.Int64
	ts := mock.NewTokenServer(mock.TokenServerConfig{Seed: 1})
	ts.SetLatency(20 * time.Millisecond) // long enough for all callers to join
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		ts.ServeHTTP(w, r)
	}))
	defer srv.Close()
	h, err := fetcher.NewHTTP(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer h.CloseIdleConnections()
	req := fetcher.Request{Kind: fetcher.KindRTM, UserID: "alice"}
	rounds := 0
	for b.Loop() {
		rounds++
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 1000 {
			wg.Go(func() {
				<-start
				if _, err := h.Fetch(context.Background(), req); err != nil {
					b.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
	}
	b.ReportMetric(float64(hits.Load())/float64(rounds), "hits/round")
}
