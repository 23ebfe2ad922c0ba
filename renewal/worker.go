package renewal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
)

// op is one operation on a key, run by a worker. Fields below "guarded"
// are read by the scheduler under Engine.mu.
type op struct {
	kind   OpKind
	k      *key
	gen    uint64
	curRaw string // token in use when the op started; never renew with it
	reason string
	ctx    context.Context
	cancel context.CancelFunc
	done   chan error // foreground caller waiting, nil for background ops
	// reply held by finish until events are delivered
	holdReply, hasReply bool
	replyErr            error
	slot                int
	streams             []streamRef // relogin: stream channels to rejoin

	// guarded by Engine.mu
	stepDeadline    int64 // wall-clock Unix ns at which the running call times out
	stepName        string
	timeoutReported bool
}

type streamRef struct {
	k       *key
	gen     uint64
	channel string
}

// result is what an operation produced.
type result struct {
	tok        fetcher.Token
	err        error
	step       Trigger // TriggerFetchFailed or TriggerHookFailed when err != nil
	timeout    bool
	streams    []streamResult // relogin
	restoreErr error
}

type streamResult struct {
	ref streamRef
	res result
}

// reply answers the foreground caller waiting for o, if any. Inside
// finish the answer is held until finish has delivered the events it owns,
// so a caller returning from Start or JoinStream has usually seen them in
// OnEvent (unless another goroutine was delivering the session's events at
// that moment; they follow in order).
func (o *op) reply(err error) {
	if o.done == nil {
		return
	}
	if o.holdReply {
		o.replyErr, o.hasReply = err, true
		return
	}
	o.done <- err
	o.done = nil
}

// sendHeldReply sends the reply held by finish.
func (o *op) sendHeldReply() {
	o.holdReply = false
	if o.hasReply {
		o.reply(o.replyErr)
	}
}

// worker runs operations until the engine closes.
func (e *Engine) worker(slot int) {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		for len(e.tasks) == 0 && e.state == engineRunning {
			e.cond.Wait()
		}
		if e.state != engineRunning {
			e.mu.Unlock()
			return
		}
		o := e.tasks[0]
		e.tasks[0] = nil
		e.tasks = e.tasks[1:]
		if len(e.tasks) == 0 {
			e.tasks = e.tasks[:0:0]
		}
		o.slot = slot
		e.running[slot] = o
		e.mu.Unlock()
		r := e.run(o)
		e.finish(o, r)
	}
}

// run executes o's steps. It never sleeps: retries are scheduled by the
// engine once the operation has finished.
func (e *Engine) run(o *op) result {
	k := o.k
	s := k.sess
	p := &s.policy
	if err := o.ctx.Err(); err != nil {
		return result{err: err, step: TriggerHookFailed} // superseded while queued
	}
	switch o.kind {
	case opLogin:
		tok, r := e.fetch(o, s.rtmRequest())
		if r.err != nil {
			return r
		}
		if r := e.hook(o, "login", tok.Raw, func(ctx context.Context) error { return s.sdk.Login(ctx, tok.Raw) }); r.err != nil {
			return r
		}
		return result{tok: tok}
	case OpRenew:
		req := s.rtmRequest()
		if !k.isLogin() {
			req = s.rtcRequest(k.channel)
		}
		tok, r := e.fetch(o, req)
		if r.err != nil {
			return r
		}
		if tok.Raw == o.curRaw {
			return result{err: ErrSameToken, step: TriggerFetchFailed}
		}
		var r2 result
		if k.isLogin() {
			r2 = e.hook(o, "renewToken", tok.Raw, func(ctx context.Context) error { return s.sdk.RenewToken(ctx, tok.Raw) })
		} else {
			r2 = e.hook(o, "renewStreamToken", tok.Raw, func(ctx context.Context) error {
				return s.stream.RenewStreamToken(ctx, k.channel, tok.Raw)
			})
		}
		if r2.err != nil {
			return r2
		}
		return result{tok: tok}
	case opJoin, OpRejoin:
		return e.join(o, k.channel)
	case opLeave:
		return e.hook(o, "leaveStream", "", func(ctx context.Context) error { return s.stream.LeaveStream(ctx, k.channel) })
	case opLogout:
		return e.hook(o, "logout", "", func(ctx context.Context) error { return s.sdk.Logout(ctx) })
	case OpRelogin:
		return e.relogin(o, p)
	}
	return result{err: fmt.Errorf("renewal: unknown operation %v", o.kind), step: TriggerHookFailed}
}

// join fetches an RTC token for channel and joins it.
func (e *Engine) join(o *op, channel string) result {
	s := o.k.sess
	tok, r := e.fetch(o, s.rtcRequest(channel))
	if r.err != nil {
		return r
	}
	if r := e.hook(o, "joinStream", tok.Raw, func(ctx context.Context) error {
		return s.stream.JoinStream(ctx, channel, tok.Raw)
	}); r.err != nil {
		return r
	}
	return result{tok: tok}
}

// relogin runs Logout (errors ignored: the SDK may already be logged out)
// → fetch → Login → rejoin each stream channel → RestoreSession.
func (e *Engine) relogin(o *op, p *Policy) result {
	s := o.k.sess
	_ = e.hook(o, "logout", "", func(ctx context.Context) error { return s.sdk.Logout(ctx) })
	if err := o.ctx.Err(); err != nil {
		return result{err: err, step: TriggerHookFailed}
	}
	tok, r := e.fetch(o, s.rtmRequest())
	if r.err != nil {
		return r
	}
	if r := e.hook(o, "login", tok.Raw, func(ctx context.Context) error { return s.sdk.Login(ctx, tok.Raw) }); r.err != nil {
		return r
	}
	res := result{tok: tok}
	var rejoined []string
	for _, ref := range o.streams {
		var sr result
		if err := o.ctx.Err(); err != nil {
			sr = result{err: err, step: TriggerHookFailed}
		} else {
			sr = e.join(o, ref.channel)
		}
		if sr.err == nil {
			rejoined = append(rejoined, ref.channel)
		}
		res.streams = append(res.streams, streamResult{ref: ref, res: sr})
	}
	if s.restorer != nil && o.ctx.Err() == nil {
		rr := e.hook(o, "restoreSession", "", func(ctx context.Context) error { return s.restorer.RestoreSession(ctx, rejoined) })
		res.restoreErr = rr.err
	}
	return res
}

// fetch gets a token for req with the policy's fetch timeout and checks it.
func (e *Engine) fetch(o *op, req fetcher.Request) (fetcher.Token, result) {
	s := o.k.sess
	var tok fetcher.Token
	err, timedOut := e.call(o, "fetch", s.policy.FetchTimeout, "", func(ctx context.Context) error {
		t, err := s.fetcher.Fetch(ctx, req)
		tok = t
		return err
	})
	if err != nil {
		return tok, result{err: scrub(err, tok.Raw, o.curRaw), step: TriggerFetchFailed, timeout: timedOut}
	}
	tok.Raw = strings.TrimSpace(tok.Raw)
	if tok.Raw == "" {
		return tok, result{step: TriggerFetchFailed, err: &fetcher.Error{Class: fetcher.Permanent, Request: req,
			Detail: "fetcher returned an empty token", Err: fetcher.ErrBadResponse}}
	}
	now := e.wallNow()
	if tok.ReceivedAt.IsZero() {
		tok.ReceivedAt = now
	}
	if _, dl, _ := tokenTimes(tok, now); !dl.After(now) {
		return tok, result{step: TriggerFetchFailed, err: fmt.Errorf("%w (deadline %s)", ErrStaleToken, dl.Format(time.RFC3339))}
	}
	return tok, result{}
}

// hook runs one SDK call with the policy's hook timeout.
func (e *Engine) hook(o *op, what, token string, f func(ctx context.Context) error) result {
	err, timedOut := e.call(o, what, o.k.sess.policy.HookTimeout, token, f)
	if err != nil {
		return result{err: scrub(err, token, o.curRaw), step: TriggerHookFailed, timeout: timedOut}
	}
	return result{}
}

// call runs f with a per-call timeout derived from the operation's context
// (itself derived from the engine's), recovering a panic. The call's
// deadline is published for Activity and for the scheduler, which reports a
// call still running past it. A call that ignores its context blocks its
// worker until it returns.
func (e *Engine) call(o *op, what string, timeout time.Duration, token string, f func(ctx context.Context) error) (err error, timedOut bool) {
	if err := o.ctx.Err(); err != nil {
		return err, false // superseded or closing: never call the SDK with a stale token
	}
	ctx, cancel := withClockTimeout(o.ctx, e.clk, timeout)
	defer cancel()
	e.mu.Lock()
	o.stepDeadline = e.nowWall() + int64(timeout)
	o.stepName = what
	o.timeoutReported = false
	e.mu.Unlock()
	e.notify() // the scheduler adds this deadline to its wake-up time

	err = e.protect(o, what, token, func() error { return f(ctx) })

	e.mu.Lock()
	o.stepDeadline = 0
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && o.ctx.Err() == nil {
		timedOut = true
		if !o.timeoutReported {
			e.reportHookTimeout(o, what)
		}
	}
	e.mu.Unlock()
	e.flush()
	if timedOut {
		err = fmt.Errorf("%w: %s after %v: %w", ErrHookTimeout, what, timeout, err)
	}
	return err, timedOut
}

// protect runs f, turning a panic into an ErrHookPanic error.
func (e *Engine) protect(o *op, what, token string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = scrub(fmt.Errorf("%w: %s: %v", ErrHookPanic, what, r), token, o.curRaw)
			e.mu.Lock()
			e.stats.HookPanics++
			e.emitKey(o.k, Event{Kind: EventHookPanic, Reason: what, Err: err})
			e.mu.Unlock()
		}
	}()
	return f()
}

// reportHookTimeout reports that o's current call passed its timeout. e.mu
// must be held.
func (e *Engine) reportHookTimeout(o *op, what string) {
	o.timeoutReported = true
	e.stats.HookTimeouts++
	e.emitKey(o.k, Event{Kind: EventHookTimeout, Reason: what,
		Err: fmt.Errorf("%w: %s", ErrHookTimeout, what)})
}
