package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// ─────────────────────────────────────────────────────────────────────────
// STAND-IN SDK. There is no Signaling SDK this example can import, so the
// bot runs against this stand-in: tokenkeeper's fake Signaling client
// (mock.Signaling) on the real clock, dressed as the binding of binding.go.
// It checks every token it is given (signature, app, user, channel,
// expiry), fires the will-expire warning 30 s before each token's deadline
// and FAILED / TOKEN_EXPIRED at it, and answers every call asynchronously,
// by request ID, like the real SDK. Replace it with the real binding:
// agorartm.NewRtmClient(config) with config.EventHandler = adapter.handler().
// ─────────────────────────────────────────────────────────────────────────

// standinTimeout bounds each call of the fake (which answers at once).
const standinTimeout = 10 * time.Second

// standin implements rtmClient with a mock.Signaling.
type standin struct {
	sig  *mock.Signaling
	h    *rtmEventHandler
	next atomic.Uint64 // last request ID
	wg   sync.WaitGroup
}

// newStandin returns the stand-in SDK client; h receives its callbacks.
func newStandin(cfg mock.SignalingConfig, h *rtmEventHandler) *standin {
	s := &standin{sig: mock.NewSignaling(cfg), h: h}
	s.sig.OnWillExpire(func(ch string) { h.OnTokenPrivilegeWillExpire(ch) })
	s.sig.OnLinkState(func(ev signaling.LinkStateEvent) {
		h.OnLinkStateEvent(&rtmLinkStateEvent{
			CurrentState: int(ev.Current), PreviousState: int(ev.Previous), ServiceType: int(ev.Service),
			Operation: int(ev.Operation), ReasonCode: int(ev.ReasonCode), Reason: ev.Reason,
			AffectedChannels: ev.AffectedChannels, UnrestoredChannels: ev.UnrestoredChannels,
			IsResumed: ev.IsResumed, Timestamp: ev.Timestamp,
		})
	})
	return s
}

// run fires the fake's time-based signals until ctx ends, then waits for
// the calls still answering.
func (s *standin) run(ctx context.Context) {
	s.sig.Run(ctx)
	s.wg.Wait()
}

// start answers a call on its own goroutine, as the SDK does, and returns
// its request ID.
func (s *standin) start(call func(context.Context) error, answer func(id uint64, code int)) uint64 {
	id := s.next.Add(1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), standinTimeout)
		defer cancel()
		answer(id, codeOf(call(ctx)))
	}()
	return id
}

func codeOf(err error) int {
	if err == nil {
		return 0
	}
	if code, ok := signaling.CodeOf(err); ok {
		return int(code)
	}
	return int(signaling.CodeNotInitialized) // the fake failed otherwise; never expected
}

func (s *standin) Login(token string) (int, uint64) {
	return 0, s.start(func(ctx context.Context) error { return s.sig.Login(ctx, token) }, s.h.OnLoginResult)
}

func (s *standin) Logout() (int, uint64) {
	return 0, s.start(s.sig.Logout, s.h.OnLogoutResult)
}

func (s *standin) RenewToken(token string) (int, uint64) {
	return 0, s.start(func(ctx context.Context) error { return s.sig.RenewToken(ctx, token) },
		func(id uint64, code int) { s.h.OnRenewTokenResult(id, serviceMessage, "", code) })
}

func (s *standin) CreateStreamChannel(name string) streamChannel {
	return &standinStream{s: s, name: name}
}

// standinStream implements streamChannel.
type standinStream struct {
	s    *standin
	name string
}

func (c *standinStream) Join(opts *joinChannelOptions, requestID *uint64) int {
	*requestID = c.s.start(func(ctx context.Context) error { return c.s.sig.JoinStream(ctx, c.name, opts.Token) },
		func(id uint64, code int) { c.s.h.OnJoinResult(id, c.name, c.s.sig.UserID(), code) })
	return 0
}

func (c *standinStream) RenewToken(token string) int {
	c.s.start(func(ctx context.Context) error { return c.s.sig.RenewStreamToken(ctx, c.name, token) },
		func(_ uint64, code int) { c.s.h.OnRenewTokenResult(0, serviceStream, c.name, code) })
	return 0
}

func (c *standinStream) Leave(requestID *uint64) int {
	*requestID = c.s.start(func(ctx context.Context) error { return c.s.sig.LeaveStream(ctx, c.name) },
		func(id uint64, code int) { c.s.h.OnLeaveResult(id, c.name, c.s.sig.UserID(), code) })
	return 0
}
