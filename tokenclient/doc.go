// Package tokenclient is tokenkeeper's front door: a [Client] keeps one
// Agora Signaling (RTM 2.x) client authenticated for as long as the program
// runs. It fetches tokens from the application's token server, logs in,
// joins stream channels, renews every token before it expires, and recovers
// when a token expires anyway (logout → fresh token → login → rejoin).
//
// A Client is a [fetcher.Fetcher], the renewal engine (package renewal) and
// the application's SDK adapter. Everything the engine does is described in
// package renewal.
//
// # The twenty lines
//
//	f, err := fetcher.NewHTTP("https://tokens.example.com") // preset: agora-token-service
//	if err != nil {
//		return err
//	}
//	c, err := tokenclient.New(tokenclient.Config{
//		UserID:  "bot-42",
//		Fetcher: f,
//		SDK:     adapter,                                        // the app's Login/Logout/RenewToken/... hooks
//		OnEvent: func(ev renewal.Event) { metrics.Observe(ev) }, // optional; must not block
//	})
//	if err != nil {
//		return err
//	}
//	if err := c.Start(ctx); err != nil { // fetch RTM token, login, schedule renewal
//		return err
//	}
//	defer c.Close(context.Background())
//	if err := c.JoinStream(ctx, "room-1"); err != nil { // RTC token, join, schedule renewal
//		return err
//	}
//	handler.OnTokenPrivilegeWillExpire = c.WillExpire // signals in; never block
//	handler.OnLinkStateEvent = func(e *rtm.LinkStateEvent) { c.LinkState(convert(e)) }
//
// # Writing the SDK adapter
//
// The engine calls [signaling.SDK] (and optionally [signaling.StreamSDK]
// and [signaling.SessionRestorer]) from its worker goroutines. Each method
// must block until the SDK reports the outcome in its result callback, or
// until ctx ends, and return an *[signaling.Error] carrying the SDK's code
// on failure. Native SDKs return a requestId and report the outcome later,
// so the adapter correlates the two. A skeleton for a Go binding:
//
//	type adapter struct {
//		rtm     *agorartm.IRtmClient
//		mu      sync.Mutex
//		waiting map[uint64]chan int // requestId → error code
//		early   map[uint64]int      // results that arrived before await
//	}
//
//	func (a *adapter) Login(ctx context.Context, token string) error {
//		ret, id := a.rtm.Login(token)
//		if ret != 0 { // wrapper-local check failed; not an SDK code
//			return fmt.Errorf("adapter: login refused locally (%d)", ret)
//		}
//		return a.await(ctx, "login", "", id)
//	}
//
//	func (a *adapter) Logout(ctx context.Context) error {
//		_, id := a.rtm.Logout()
//		err := a.await(ctx, "logout", "", id)
//		if code, _ := signaling.CodeOf(err); code == signaling.CodeNotLogin {
//			return nil // already logged out counts as success
//		}
//		return err
//	}
//
//	func (a *adapter) RenewToken(ctx context.Context, token string) error {
//		_, id := a.rtm.RenewToken(token)
//		return a.await(ctx, "renewToken", "", id)
//	}
//
//	// await waits for the result callback of request id, or ctx.
//	func (a *adapter) await(ctx context.Context, op, channel string, id uint64) error {
//		a.mu.Lock()
//		code, done := a.early[id]
//		delete(a.early, id)
//		ch := make(chan int, 1)
//		if !done {
//			a.waiting[id] = ch
//		}
//		a.mu.Unlock()
//		if !done {
//			select {
//			case code = <-ch:
//			case <-ctx.Done():
//				a.mu.Lock()
//				delete(a.waiting, id)
//				a.mu.Unlock()
//				return ctx.Err()
//			}
//		}
//		if code != 0 {
//			return &signaling.Error{Op: op, Channel: channel, Code: signaling.ErrorCode(code)}
//		}
//		return nil
//	}
//
//	// deliver is called from OnLoginResult, OnLogoutResult, OnRenewTokenResult
//	// and OnJoinResult; it never blocks.
//	func (a *adapter) deliver(id uint64, code int) {
//		a.mu.Lock()
//		defer a.mu.Unlock()
//		if ch, ok := a.waiting[id]; ok {
//			delete(a.waiting, id)
//			ch <- code
//			return
//		}
//		a.early[id] = code
//	}
//
// Wire the callbacks: OnLoginResult(id, code) → a.deliver(id, code), and so
// on for the other results; OnTokenPrivilegeWillExpire → [Client.WillExpire];
// OnLinkStateEvent → [Client.LinkState] with each field converted by a plain
// integer conversion (the enums in package signaling carry the SDK's
// values; copy the channel lists before the callback returns). Stream-channel
// renewals in the Go binding drop the requestId: correlate their
// onRenewTokenResult by (STREAM, channel) instead.
//
// # Lifecycle
//
// New validates the configuration and starts nothing. Start starts the
// engine (unless Config.Engine is shared) and logs in. Close stops renewal,
// optionally logs out, and stops the private engine's goroutines.
//
// # Testing
//
// Config.Clock takes a clock.Mock; [Client.Engine] exposes
// renewal.Engine.Activity so a harness can step simulated days without
// sleeping. The mock package provides such a harness with a token server and
// a fake SDK.
package tokenclient
