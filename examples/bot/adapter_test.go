package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// fakeRTM is a binding whose results the test delivers through the
// adapter's handler. answer, if set, is called synchronously inside each
// call, before it returns: a result that beats its caller.
type fakeRTM struct {
	mu      sync.Mutex
	next    uint64
	ret     int // wrapper status of Login, Logout, RenewToken
	created int
	renewed []string // stream channels renewed
	answer  func(op string, id uint64, channel string)
}

func (f *fakeRTM) id(op, channel string) uint64 {
	f.mu.Lock()
	f.next++
	id := f.next
	answer := f.answer
	f.mu.Unlock()
	if answer != nil {
		answer(op, id, channel)
	}
	return id
}

func (f *fakeRTM) Login(string) (int, uint64)      { return f.ret, f.id("login", "") }
func (f *fakeRTM) Logout() (int, uint64)           { return f.ret, f.id("logout", "") }
func (f *fakeRTM) RenewToken(string) (int, uint64) { return f.ret, f.id("renew", "") }
func (f *fakeRTM) CreateStreamChannel(name string) streamChannel {
	f.mu.Lock()
	f.created++
	f.mu.Unlock()
	return &fakeStream{f: f, name: name}
}

type fakeStream struct {
	f    *fakeRTM
	name string
}

func (s *fakeStream) Join(_ *joinChannelOptions, id *uint64) int {
	*id = s.f.id("join", s.name)
	return 0
}
func (s *fakeStream) Leave(id *uint64) int { *id = s.f.id("leave", s.name); return 0 }
func (s *fakeStream) RenewToken(string) int {
	s.f.mu.Lock()
	s.f.renewed = append(s.f.renewed, s.name)
	s.f.mu.Unlock()
	s.f.id("renewStream", s.name)
	return 0
}

func newTestAdapter() (*adapter, *fakeRTM, *rtmEventHandler) {
	a := newAdapter(slog.New(slog.DiscardHandler))
	f := &fakeRTM{}
	a.rtm = f
	return a, f, a.handler()
}

func TestAdapterResultBeforeCallerWaits(t *testing.T) {
	a, f, h := newTestAdapter()
	f.answer = func(op string, id uint64, _ string) { h.OnLoginResult(id, int(signaling.CodeInvalidToken)) }
	err := a.Login(context.Background(), "t")
	var se *signaling.Error
	if !errors.As(err, &se) || se.Code != signaling.CodeInvalidToken || se.Op != "login" {
		t.Fatalf("Login = %v, want an INVALID_TOKEN *signaling.Error", err)
	}
	if len(a.early) != 0 || len(a.waiting) != 0 {
		t.Errorf("left behind: early %v waiting %v", a.early, a.waiting)
	}
}

func TestAdapterResultAfterCallerWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, _, h := newTestAdapter()
		done := make(chan error, 1)
		go func() { done <- a.RenewToken(context.Background(), "t") }()
		synctest.Wait() // the call waits for its result
		h.OnRenewTokenResult(1, serviceMessage, "", 0)
		if err := <-done; err != nil {
			t.Fatalf("RenewToken = %v", err)
		}
	})
}

func TestAdapterCallerGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, _, h := newTestAdapter()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.JoinStream(ctx, "lobby", "t") }()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("JoinStream = %v, want context.Canceled", err)
		}
		h.OnJoinResult(1, "lobby", "bot", 0) // the late result is dropped
		if len(a.early) != 0 || len(a.gone) != 0 || len(a.waiting) != 0 {
			t.Errorf("left behind: early %v gone %v waiting %v", a.early, a.gone, a.waiting)
		}
	})
}

func TestAdapterWrapperRefusals(t *testing.T) {
	a, f, _ := newTestAdapter()
	f.ret = -10003 // the Go wrapper's "already logged in"
	err := a.Login(context.Background(), "t")
	if err == nil {
		t.Fatal("Login accepted a wrapper refusal")
	}
	if _, ok := signaling.CodeOf(err); ok {
		t.Errorf("a wrapper status is not an SDK code: %v", err)
	}
	if err := a.Logout(context.Background()); err != nil {
		t.Errorf("Logout refused by the wrapper (not logged in) = %v, want nil", err)
	}
	f.ret = 0
	f.answer = func(op string, id uint64, _ string) { a.deliver(id, int(signaling.CodeNotLogin)) }
	if err := a.Logout(context.Background()); err != nil {
		t.Errorf("Logout answered NOT_LOGIN = %v, want nil", err)
	}
}

func TestAdapterStreamRenewalsMatchedByChannel(t *testing.T) {
	a, f, h := newTestAdapter()
	f.answer = func(op string, id uint64, ch string) {
		switch op {
		case "join":
			h.OnJoinResult(id, ch, "bot", 0)
		case "renewStream":
			code := 0
			if ch == "game" {
				code = int(signaling.CodeTokenExpired)
			}
			h.OnRenewTokenResult(0, serviceStream, "elsewhere", 0) // nobody waits: dropped
			h.OnRenewTokenResult(0, serviceStream, ch, code)
		case "leave":
			h.OnLeaveResult(id, ch, "bot", 0)
		}
	}
	ctx := context.Background()
	for _, ch := range []string{"lobby", "game"} {
		if err := a.JoinStream(ctx, ch, "t"); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.RenewStreamToken(ctx, "lobby", "t2"); err != nil {
		t.Errorf("lobby: %v", err)
	}
	err := a.RenewStreamToken(ctx, "game", "t2")
	if code, _ := signaling.CodeOf(err); code != signaling.CodeTokenExpired {
		t.Errorf("game: %v, want TOKEN_EXPIRED", err)
	}
	if err := a.JoinStream(ctx, "lobby", "t3"); err != nil {
		t.Fatal(err)
	}
	if f.created != 2 {
		t.Errorf("%d stream channel handles created, want one per channel", f.created)
	}
	if err := a.LeaveStream(ctx, "lobby"); err != nil || a.streams["lobby"] != nil {
		t.Errorf("LeaveStream: %v, handle kept: %v", err, a.streams["lobby"] != nil)
	}
}

func TestAdapterForwardsCallbacks(t *testing.T) {
	a, _, h := newTestAdapter()
	// Before attach nothing is forwarded, and nothing breaks.
	h.OnTokenPrivilegeWillExpire("")
	h.OnLinkStateEvent(&rtmLinkStateEvent{})

	var warned []string
	var events []signaling.LinkStateEvent
	a.willExpire = func(ch string) { warned = append(warned, ch) }
	a.linkState = func(ev signaling.LinkStateEvent) { events = append(events, ev) }
	h.OnTokenPrivilegeWillExpire("lobby")
	affected := []string{"lobby"}
	h.OnLinkStateEvent(&rtmLinkStateEvent{CurrentState: 5, PreviousState: 2, ServiceType: 2, Operation: 4,
		ReasonCode: 17, Reason: "Token expired", AffectedChannels: affected, UnrestoredChannels: []string{"x"},
		IsResumed: true, Timestamp: 42})
	affected[0] = "reused by the SDK"
	if len(warned) != 1 || warned[0] != "lobby" {
		t.Errorf("will-expire forwarded %q", warned)
	}
	want := signaling.LinkStateEvent{Current: signaling.LinkFailed, Previous: signaling.LinkConnected,
		Service: signaling.ServiceStream, Operation: signaling.OpServerReject, ReasonCode: signaling.ReasonTokenExpired,
		Reason: "Token expired", AffectedChannels: []string{"lobby"}, UnrestoredChannels: []string{"x"},
		IsResumed: true, Timestamp: 42}
	if len(events) != 1 || events[0].String() != want.String() || events[0].AffectedChannels[0] != "lobby" ||
		!events[0].IsResumed || events[0].Timestamp != 42 || events[0].UnrestoredChannels[0] != "x" {
		t.Errorf("link state forwarded %+v, want %+v", events, want)
	}
	if !events[0].TokenRejected() {
		t.Error("a converted TOKEN_EXPIRED event should count as a token rejection")
	}
}
