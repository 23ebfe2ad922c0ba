package fetcher_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

// cannedTransport answers every request with the same 200 JSON response,
// in memory: no socket, no server, so a benchmark over it measures only
// the client side.
type cannedTransport struct{ body []byte }

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
		Request:       r,
	}, nil
}

// BenchmarkFetchOverhead isolates the fetcher's own cost per fetch (request
// building, in-request retry wrapper, shared-flight bookkeeping, timeout,
// capped read, JSON decoding, token parsing and checks) from the network:
// both the fetcher and a bare net/http POST + read go through the same
// in-memory transport. The difference is what the fetcher adds to every
// round trip, loopback or not.
func BenchmarkFetchOverhead(b *testing.B) {
	tok, err := accesstoken.Build(accesstoken.Params{
		AppID: mock.DefaultAppID, Certificate: mock.DefaultCertificate, IssueTs: uint32(time.Now().Unix()), Expire: 86400, Salt: 1,
		Services: []accesstoken.Service{accesstoken.RTMService("alice", 86400)},
	})
	if err != nil {
		b.Fatal(err)
	}
	rt := cannedTransport{body: []byte(`{"token":"` + tok + `"}` + "\n")}
	const url = "https://tokens.example.com"
	// As in BenchmarkFetchLoopback: a context that never ends (the round
	// trip runs on the caller's goroutine) and a cancelable one (it runs on
	// its own, so that the caller can leave).
	for _, cancelable := range []bool{false, true} {
		name := "fetcher"
		if cancelable {
			name = "fetcher-cancelable-ctx"
		}
		b.Run(name, func(b *testing.B) {
			h, err := fetcher.NewHTTP(url, fetcher.WithAppID(mock.DefaultAppID), fetcher.WithTransport(rt))
			if err != nil {
				b.Fatal(err)
			}
			req := fetcher.Request{Kind: fetcher.KindRTM, UserID: "alice"}
			ctx := context.Background()
			if cancelable {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Fetch(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("net-http", func(b *testing.B) {
		c := &http.Client{Transport: rt}
		const body = `{"tokenType":"rtm","uid":"alice","expire":3600}`
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.Post(url+"/getToken", "application/json", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
}
