package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/tokenkeeper/tokenkeeper/signaling"
	"github.com/tokenkeeper/tokenkeeper/tokenclient"
)

// adapter connects a Signaling SDK binding to tokenkeeper. This is the file
// to copy into your app.
//
// Calls in: the renewal engine calls the adapter's Login, Logout,
// RenewToken, JoinStream, RenewStreamToken, LeaveStream and RestoreSession
// (signaling.SDK, StreamSDK and SessionRestorer) from its worker
// goroutines. Each starts the SDK call, which returns at once with a
// request ID, and blocks until the SDK's result callback for that request
// arrives, or ctx ends. A non-zero result code is returned as a
// *signaling.Error, whose code the engine decides on.
//
// Callbacks out: the SDK's event handler (handler) forwards results to the
// waiting calls, onTokenPrivilegeWillExpire to Client.WillExpire and
// onLinkStateEvent, converted field by field, to Client.LinkState. None of
// them blocks: the SDK calls them on its own threads.
type adapter struct {
	rtm rtmClient
	log *slog.Logger

	mu      sync.Mutex
	waiting map[uint64]chan int // request ID → its result code
	early   map[uint64]int      // results that came before their call waited
	gone    map[uint64]bool     // calls that stopped waiting (ctx ended)
	renews  map[string][]chan int
	streams map[string]streamChannel

	willExpire func(channel string)
	linkState  func(signaling.LinkStateEvent)
}

var (
	_ signaling.SDK             = (*adapter)(nil)
	_ signaling.StreamSDK       = (*adapter)(nil)
	_ signaling.SessionRestorer = (*adapter)(nil)
)

func newAdapter(log *slog.Logger) *adapter {
	return &adapter{
		log:     log,
		waiting: make(map[uint64]chan int),
		early:   make(map[uint64]int),
		gone:    make(map[uint64]bool),
		renews:  make(map[string][]chan int),
		streams: make(map[string]streamChannel),
	}
}

// attach routes the SDK's token and link callbacks to c. Call it before
// c.Start: until then there is nothing to report.
func (a *adapter) attach(c *tokenclient.Client) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.willExpire, a.linkState = c.WillExpire, c.LinkState
}

// handler returns the event handler to give the SDK when creating its
// client (agorartm: RtmConfig.EventHandler).
func (a *adapter) handler() *rtmEventHandler {
	return &rtmEventHandler{
		OnLoginResult:  func(id uint64, code int) { a.deliver(id, code) },
		OnLogoutResult: func(id uint64, code int) { a.deliver(id, code) },
		OnRenewTokenResult: func(id uint64, serverType int, channel string, code int) {
			if serverType == serviceStream {
				a.deliverStream(channel, code) // the Go wrapper drops the stream request ID
				return
			}
			a.deliver(id, code)
		},
		OnJoinResult:  func(id uint64, _, _ string, code int) { a.deliver(id, code) },
		OnLeaveResult: func(id uint64, _, _ string, code int) { a.deliver(id, code) },
		OnTokenPrivilegeWillExpire: func(channel string) {
			a.log.Info("SDK: token will expire in 30 s", "channel", channel)
			if f, _ := a.hooks(); f != nil {
				f(channel)
			}
		},
		OnLinkStateEvent: func(ev *rtmLinkStateEvent) {
			e := convertLinkState(ev)
			a.log.Info("SDK: link state", "event", e.String())
			if _, f := a.hooks(); f != nil {
				f(e)
			}
		},
	}
}

// hooks returns the client's callbacks set by attach.
func (a *adapter) hooks() (func(string), func(signaling.LinkStateEvent)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.willExpire, a.linkState
}

// convertLinkState turns the SDK's event into tokenkeeper's: the enums in
// package signaling carry the SDK's numeric values, so each is a plain
// conversion. The channel lists are copied: the SDK may reuse them once
// the callback returns.
func convertLinkState(ev *rtmLinkStateEvent) signaling.LinkStateEvent {
	return signaling.LinkStateEvent{
		Current:            signaling.LinkState(ev.CurrentState),
		Previous:           signaling.LinkState(ev.PreviousState),
		Service:            signaling.ServiceType(ev.ServiceType),
		Operation:          signaling.LinkOperation(ev.Operation),
		ReasonCode:         signaling.Reason(ev.ReasonCode),
		Reason:             ev.Reason,
		AffectedChannels:   slices.Clone(ev.AffectedChannels),
		UnrestoredChannels: slices.Clone(ev.UnrestoredChannels),
		IsResumed:          ev.IsResumed,
		Timestamp:          ev.Timestamp,
	}
}

// Login logs in with an RTM token.
func (a *adapter) Login(ctx context.Context, token string) error {
	ret, id := a.rtm.Login(token)
	if ret != 0 {
		// The wrapper's own check (a nil client, "already logged in"). Its
		// numbers collide with SDK codes, so they are not reported as one.
		return fmt.Errorf("adapter: login refused by the SDK wrapper (%d)", ret)
	}
	return a.await(ctx, "login", "", id)
}

// Logout logs out; "not logged in" counts as done.
func (a *adapter) Logout(ctx context.Context) error {
	ret, id := a.rtm.Logout()
	if ret != 0 {
		return nil // the wrapper is not logged in: nothing to undo
	}
	err := a.await(ctx, "logout", "", id)
	if code, _ := signaling.CodeOf(err); code == signaling.CodeNotLogin {
		return nil
	}
	return err
}

// RenewToken replaces the login token.
func (a *adapter) RenewToken(ctx context.Context, token string) error {
	ret, id := a.rtm.RenewToken(token)
	if ret != 0 {
		return fmt.Errorf("adapter: renewToken refused by the SDK wrapper (%d)", ret)
	}
	return a.await(ctx, "renewToken", "", id)
}

// JoinStream joins a stream channel with an RTC token.
func (a *adapter) JoinStream(ctx context.Context, channel, token string) error {
	var id uint64
	a.stream(channel).Join(&joinChannelOptions{Token: token, WithPresence: true}, &id)
	return a.await(ctx, "join", channel, id)
}

// RenewStreamToken replaces a joined stream channel's RTC token. Its result
// is matched by channel, as the wrapper drops the request ID; the waiter is
// registered before the call, so a fast result cannot be missed.
func (a *adapter) RenewStreamToken(ctx context.Context, channel, token string) error {
	ch := make(chan int, 1)
	a.mu.Lock()
	a.renews[channel] = append(a.renews[channel], ch)
	a.mu.Unlock()
	a.stream(channel).RenewToken(token)
	select {
	case code := <-ch:
		return resultErr("renewStreamToken", channel, code)
	case <-ctx.Done():
		a.mu.Lock()
		a.renews[channel] = slices.DeleteFunc(a.renews[channel], func(c chan int) bool { return c == ch })
		a.mu.Unlock()
		return ctx.Err()
	}
}

// LeaveStream leaves a stream channel.
func (a *adapter) LeaveStream(ctx context.Context, channel string) error {
	var id uint64
	a.stream(channel).Leave(&id)
	err := a.await(ctx, "leave", channel, id)
	if err == nil {
		a.mu.Lock()
		delete(a.streams, channel)
		a.mu.Unlock()
	}
	return err
}

// RestoreSession runs after a relogin, once the stream channels are joined
// again. A real bot subscribes to its message channels here again and
// re-sends its presence state; this one only logs.
func (a *adapter) RestoreSession(ctx context.Context, channels []string) error {
	a.log.Info("session restored after a relogin: subscribe to message channels again here", "streams", channels)
	return nil
}

// stream returns the SDK's handle of a stream channel, creating it once.
func (a *adapter) stream(channel string) streamChannel {
	a.mu.Lock()
	defer a.mu.Unlock()
	sc := a.streams[channel]
	if sc == nil {
		sc = a.rtm.CreateStreamChannel(channel)
		a.streams[channel] = sc
	}
	return sc
}

// await waits for the result callback of request id, or ctx.
func (a *adapter) await(ctx context.Context, op, channel string, id uint64) error {
	a.mu.Lock()
	code, done := a.early[id]
	delete(a.early, id)
	ch := make(chan int, 1)
	if !done {
		a.waiting[id] = ch
	}
	a.mu.Unlock()
	if !done {
		select {
		case code = <-ch:
		case <-ctx.Done():
			a.mu.Lock()
			if _, still := a.waiting[id]; still {
				delete(a.waiting, id)
				a.gone[id] = true // drop its result when it comes
			}
			a.mu.Unlock()
			return ctx.Err()
		}
	}
	return resultErr(op, channel, code)
}

// deliver hands a result to the call waiting for it. It never blocks.
func (a *adapter) deliver(id uint64, code int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch ch, ok := a.waiting[id]; {
	case ok:
		delete(a.waiting, id)
		ch <- code // buffered; the only send
	case a.gone[id]:
		delete(a.gone, id)
	default:
		a.early[id] = code
	}
}

// deliverStream hands a stream renewal's result to the oldest call waiting
// on that channel. It never blocks.
func (a *adapter) deliverStream(channel string, code int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	q := a.renews[channel]
	if len(q) == 0 {
		return // its caller gave up
	}
	q[0] <- code
	a.renews[channel] = q[1:]
}

// resultErr turns a result code into nil or a *signaling.Error.
func resultErr(op, channel string, code int) error {
	if code == 0 {
		return nil
	}
	return &signaling.Error{Op: op, Channel: channel, Code: signaling.ErrorCode(code)}
}
