package renewal

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// This file holds the state transitions. Every function here runs with
// e.mu held.

// newOp returns an operation of kind on k; dispatch gives it a generation.
func newOp(kind OpKind, k *key, reason string, done chan error) *op {
	return &op{kind: kind, k: k, reason: reason, done: done}
}

// dispatch hands o to the worker pool: it bumps the key's generation (so
// any older result is dropped), marks the key busy and counts o in flight.
func (e *Engine) dispatch(o *op) {
	k := o.k
	s := k.sess
	k.gen++
	o.gen = k.gen
	o.curRaw = k.raw
	k.op = o
	switch o.kind {
	case OpRenew:
		k.phase = PhaseRenewing
	case OpRejoin, OpRelogin:
		k.phase = PhaseRelogin
	}
	o.ctx, o.cancel = context.WithCancel(e.ctx)
	s.busy++
	if !k.isLogin() {
		s.streamBusy++
	}
	e.inFlight++
	e.tasks = append(e.tasks, o)
	e.cond.Signal()
}

// abandon drops a queued operation that never ran (engine closing). A
// session already closing finishes its Close here if this was its last
// operation, as finish would have done: otherwise a Session.Close waiting
// for its queued logout would wait for ever.
func (e *Engine) abandon(o *op) {
	e.release(o)
	e.inFlight--
	o.reply(ErrClosed)
	if s := o.k.sess; s.state >= sessionClosing && s.busy == 0 {
		e.finishClose(s)
	}
}

// release undoes dispatch's marks on o's key and session (not the in-flight
// count, which finish drops last) and cancels o's context.
func (e *Engine) release(o *op) {
	k := o.k
	if k.op == o {
		k.op = nil
	}
	k.sess.busy--
	if !k.isLogin() {
		k.sess.streamBusy--
	}
	o.cancel()
}

// finish applies an operation's result, schedules the follow-up work, and
// only then stops counting the operation in flight (the harness invariant).
func (e *Engine) finish(o *op, r result) {
	e.mu.Lock()
	e.running[o.slot] = nil
	o.holdReply = true
	e.release(o)
	k := o.k
	s := k.sess
	now := e.nowWall()
	switch {
	case e.state != engineRunning:
		o.reply(ErrClosed)
	case o.kind == opLogout:
		s.closeErr = r.err
		o.reply(r.err)
	case o.gen != k.gen || s.state >= sessionClosing || (k.flags&flagRemoving != 0 && o.kind != opLeave):
		e.stats.Dropped++
		e.emitKey(k, Event{Kind: EventIgnored, Reason: "stale " + o.kind.String() + " result dropped"})
		switch o.kind {
		case opLogin:
			if s.state == sessionStarting {
				s.state = sessionNew
				k.phase = PhaseNew
			}
		case opJoin:
			if k.flags&flagJoined == 0 && s.streams[k.channel] == k {
				delete(s.streams, k.channel)
			}
		}
		o.reply(ErrClosed)
	default:
		e.complete(o, r, now)
	}
	e.afterOp(s, k)
	e.inFlight--
	e.mu.Unlock()
	e.notify() // the scheduler re-arms its timer for what was just scheduled
	e.flush()
	o.sendHeldReply()
}

// complete applies the result of a current (not superseded) operation.
func (e *Engine) complete(o *op, r result, now int64) {
	k := o.k
	s := k.sess
	switch o.kind {
	case opLogin:
		if r.err != nil {
			s.state = sessionNew
			k.phase = PhaseNew
			e.emitKey(k, Event{Kind: failKind(r), Class: "caller", Err: r.err, Reason: "start"})
			o.reply(fmt.Errorf("renewal: login: %w", r.err))
			return
		}
		s.state = sessionRunning
		s.link = signaling.LinkConnected
		e.install(k, r.tok, EventLoggedIn, "start", now)
		o.reply(nil)
	case opJoin:
		if r.err != nil {
			delete(s.streams, k.channel)
			k.phase = PhaseClosed
			e.emitKey(k, Event{Kind: failKind(r), Class: "caller", Err: r.err, Reason: "join"})
			o.reply(fmt.Errorf("renewal: join %q: %w", k.channel, r.err))
			return
		}
		k.flags |= flagJoined
		e.install(k, r.tok, EventJoined, "join", now)
		o.reply(nil)
	case opLeave:
		delete(s.streams, k.channel)
		k.phase = PhaseClosed
		e.emitKey(k, Event{Kind: EventLeft, Err: r.err})
		if r.err != nil {
			o.reply(fmt.Errorf("renewal: leave %q: %w", k.channel, r.err))
		} else {
			o.reply(nil)
		}
	case OpRenew:
		if r.err != nil {
			e.fail(k, o.kind, r, now)
			return
		}
		e.install(k, r.tok, EventRenewed, o.reason, now)
	case OpRejoin:
		if r.err != nil {
			e.fail(k, o.kind, r, now)
			return
		}
		e.install(k, r.tok, EventRejoined, o.reason, now)
	case OpRelogin:
		if r.err != nil {
			e.fail(k, o.kind, r, now)
			return
		}
		s.link = signaling.LinkConnected
		k.flags &^= flagReloginReported
		e.install(k, r.tok, EventLoggedIn, "relogin", now)
		for _, sr := range r.streams {
			sk := sr.ref.k
			if sk.gen != sr.ref.gen || s.streams[sk.channel] != sk || sk.flags&flagRemoving != 0 {
				continue
			}
			if sr.res.err != nil {
				e.fail(sk, OpRejoin, sr.res, now)
				continue
			}
			e.install(sk, sr.res.tok, EventRejoined, "relogin", now)
		}
		if r.restoreErr != nil {
			e.emitKey(k, Event{Kind: EventRestoreFailed, Err: r.restoreErr})
		}
	}
}

func failKind(r result) EventKind {
	if r.step == TriggerFetchFailed {
		return EventFetchFailed
	}
	return EventRenewFailed
}

// install makes tok the key's token and schedules its proactive renewal.
func (e *Engine) install(k *key, tok fetcher.Token, kind EventKind, reason string, now int64) {
	s := k.sess
	nowT := time.Unix(0, now)
	receipt, deadline, life := tokenTimes(tok, nowT)
	prev := k.deadline
	k.raw = tok.Raw
	k.deadline = deadline.UnixNano()
	k.fail = nil
	k.flags &^= flagExpiredReported
	k.phase = PhaseFresh
	at, short := nextRenewal(receipt, deadline, nowT, s.policy, e.seed, s.userID, k.channel, k.gen, kind != EventRenewed)
	e.schedule(k, at.UnixNano(), OpRenew)
	ev := Event{Kind: kind, Reason: reason}
	if prev != 0 {
		ev.Lead = time.Duration(prev - now)
	}
	e.emitKey(k, ev)
	e.emitKey(k, Event{Kind: EventScheduled, Lead: deadline.Sub(at), RetryIn: at.Sub(nowT)})
	if short {
		e.emitKey(k, Event{Kind: EventTokenTooShort, Lead: life,
			Reason: fmt.Sprintf("token lifetime %v is below MinTTL %v: too short to renew safely", life, s.policy.MinTTL)})
	}
}

// failing returns k's failure state, allocating it on the first failure.
func (e *Engine) failing(k *key) *failState {
	if k.fail == nil {
		p := &k.sess.policy
		k.fail = &failState{bo: backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(p.BackoffInitial),
			backoff.WithMaxInterval(p.BackoffMax),
			backoff.WithMultiplier(2),
			backoff.WithRandomizationFactor(0), // jitter comes from jitterUnit
			backoff.WithMaxElapsedTime(0),      // never stop
			backoff.WithClockProvider(e.clk),
		)}
	}
	return k.fail
}

// fail records a failed operation on k and applies Decide's answer.
func (e *Engine) fail(k *key, kind OpKind, r result, now int64) {
	f := e.failing(k)
	f.attempts++
	f.lastErr = r.err
	sig := Signal{Trigger: r.step, Op: kind, Err: r.err, Timeout: r.timeout}
	sit := e.situation(k, now)
	a := Decide(sit, sig)
	if a == (Action{}) {
		// Cancelled without being superseded (should not happen while the
		// engine runs): never leave a key with nothing scheduled.
		a = Action{Op: recoverOp(k.kind()), When: WhenBackoff}
		if kind == OpRenew && !sit.Expired {
			a.Op = OpRenew
		}
	}
	e.apply(k, a, sig, kind.String()+" failed", now)
}

// noteExpired reports EventExpired once per deadline.
func (e *Engine) noteExpired(k *key, now int64) {
	if k.deadline != 0 && now >= k.deadline && k.flags&flagExpiredReported == 0 {
		k.flags |= flagExpiredReported
		e.emitKey(k, Event{Kind: EventExpired, Lead: time.Duration(k.deadline - now), Reason: "deadline passed with no fresh token"})
	}
}

// apply carries out Decide's action for k.
func (e *Engine) apply(k *key, a Action, sig Signal, reason string, now int64) {
	s := k.sess
	if a.Supersede && k.op != nil {
		k.gen++
		k.op.cancel()
	}
	e.noteExpired(k, now)
	var retryIn time.Duration
	if a.Op != OpNone {
		if a.When == WhenNow {
			e.startOp(k, a.Op, a.Force, reason)
		} else {
			retryIn = e.scheduleRetry(k, a, sig.Err, now)
			if a.Op == OpRelogin {
				e.reportRelogin(s.login, reason, retryIn)
			}
		}
	}
	switch a.Report {
	case 0, EventExpired:
		return
	case EventKicked, EventGaveUp:
		if a.Op == OpNone {
			phase, cause := PhaseKicked, ErrKicked
			if a.Report == EventGaveUp {
				phase, cause = PhaseGaveUp, ErrGaveUp
			}
			err := cause
			if sig.Err != nil {
				err = fmt.Errorf("%w: %w", cause, sig.Err)
			} else if sig.Trigger == TriggerLink {
				err = fmt.Errorf("%w: %s", cause, sig.Link.ReasonCode)
			}
			e.stopKey(k, phase, err)
			if k.isLogin() {
				s.reloginWait = false
				s.forEachStream(func(sk *key) { e.stopKey(sk, phase, err) })
			}
			e.emitKey(k, Event{Kind: a.Report, Class: a.Class, Err: err, Reason: reason})
			return
		}
	}
	e.emitKey(k, Event{Kind: a.Report, Class: a.Class, RetryIn: retryIn, Err: sig.Err, Reason: reason})
}

// stopKey stops all work on k and parks it in phase.
func (e *Engine) stopKey(k *key, phase Phase, err error) {
	e.unschedule(k)
	if k.op != nil && k.op.done == nil {
		k.gen++
		k.op.cancel()
	}
	if k.pending != nil && k.pending.done == nil {
		e.setPending(k, nil)
	}
	k.phase = phase
	f := e.failing(k)
	f.lastErr = err
}

// scheduleRetry schedules a.Op after the key's backoff and returns the wait.
func (e *Engine) scheduleRetry(k *key, a Action, cause error, now int64) time.Duration {
	s := k.sess
	f := e.failing(k)
	ra, _ := fetcher.RetryAfter(cause)
	u := jitterUnit(e.seed, s.userID, k.channel, uint64(f.attempts)|1<<63)
	d := backoffDelay(f.bo.NextBackOff(), a.When == WhenLongBackoff, ra, s.policy, u)
	expired := k.deadline != 0 && now >= k.deadline
	at := retryAt(time.Unix(0, now), time.Unix(0, k.deadline), d, a.Op == OpRenew && !expired && k.deadline != 0)
	switch {
	case a.When == WhenConnected:
		k.phase = PhaseWaiting
	case expired:
		k.phase = PhaseExpired
	default:
		k.phase = PhaseBackoff
	}
	e.schedule(k, at.UnixNano(), a.Op)
	return time.Duration(at.UnixNano() - now)
}

// setPending replaces k's pending operation, keeping the session's count of
// stream keys with one.
func (e *Engine) setPending(k *key, o *op) {
	s := k.sess
	if !k.isLogin() {
		if k.pending == nil && o != nil {
			s.pendingStreams++
		} else if k.pending != nil && o == nil {
			s.pendingStreams--
		}
	}
	k.pending = o
}

// startOp starts kind on k now, or as soon as what blocks it has finished.
func (e *Engine) startOp(k *key, kind OpKind, force bool, reason string) {
	s := k.sess
	if kind == OpRelogin {
		e.startRelogin(s, reason)
		return
	}
	e.unschedule(k)
	if force {
		e.failing(k).forced = true
	}
	o := newOp(kind, k, reason, nil)
	if k.op != nil || (!k.isLogin() && s.reloginBusy()) {
		if k.pending == nil || k.pending.done == nil {
			e.setPending(k, o)
		}
		return
	}
	e.dispatch(o)
}

// afterOp starts what waited for an operation of s to finish.
func (e *Engine) afterOp(s *Session, k *key) {
	if s.state >= sessionClosing {
		if s.busy == 0 {
			e.finishClose(s)
		}
		return
	}
	if k.pending != nil && k.op == nil && (k.isLogin() || !s.reloginBusy()) {
		p := k.pending
		e.setPending(k, nil)
		e.dispatch(p)
	}
	e.maybeRunRelogin(s)
	if s.pendingStreams > 0 && !s.reloginBusy() {
		for _, ch := range slices.Sorted(mapKeys(s.streams)) {
			sk := s.streams[ch]
			if sk.pending != nil && sk.op == nil {
				p := sk.pending
				e.setPending(sk, nil)
				e.dispatch(p)
			}
		}
	}
}
