package mock_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/benbjohnson/clock"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

// BenchmarkSignalingRenewToken measures one RenewToken call that installs a
// new token: parse, signature check, expiry, timeline entry.
func BenchmarkSignalingRenewToken(b *testing.B) {
	clk := clock.NewMock()
	clk.Set(sigT0)
	s := mock.NewSignaling(mock.SignalingConfig{UserID: sigUser, Clock: clk})
	var toks [2]string
	for i := range toks {
		tok, err := accesstoken.Build(accesstoken.Params{AppID: mock.DefaultAppID, Certificate: mock.DefaultCertificate,
			IssueTs: uint32(sigT0.Unix()), Expire: 3600, Salt: uint32(i + 1),
			Services: []accesstoken.Service{accesstoken.RTMService(sigUser, 3600)}})
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = tok
	}
	ctx := context.Background()
	if err := s.Login(ctx, toks[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.RenewToken(ctx, toks[(i+1)%2]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignalingTick measures a Tick with nothing due among 100 joined
// stream channels: the cost a harness pays per step.
func BenchmarkSignalingTick(b *testing.B) {
	clk := clock.NewMock()
	clk.Set(sigT0)
	s := mock.NewSignaling(mock.SignalingConfig{UserID: sigUser, Clock: clk})
	ctx := context.Background()
	mint := func(svc accesstoken.Service) string {
		tok, err := accesstoken.Build(accesstoken.Params{AppID: mock.DefaultAppID, Certificate: mock.DefaultCertificate,
			IssueTs: uint32(sigT0.Unix()), Expire: 3600, Salt: 1, Services: []accesstoken.Service{svc}})
		if err != nil {
			b.Fatal(err)
		}
		return tok
	}
	if err := s.Login(ctx, mint(accesstoken.RTMService(sigUser, 3600))); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		ch := "room-" + strconv.Itoa(i)
		if err := s.JoinStream(ctx, ch, mint(accesstoken.RTCService(ch, sigUser, accesstoken.RoleSubscriber, 3600))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if s.Tick() != 0 {
			b.Fatal("a signal fired")
		}
	}
}
