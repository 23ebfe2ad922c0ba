package renewal

import (
	"slices"
	"time"
)

// The relogin path of a session. Every function here runs with e.mu held.

// reasonRetry marks an operation started by a scheduled retry.
const reasonRetry = "retry"

// startRelogin starts the relogin path of s: it supersedes the login key's
// running renewal and every stream operation, and runs once they have
// returned (SDK calls of one session never overlap with a relogin).
func (e *Engine) startRelogin(s *Session, reason string) {
	login := s.login
	if s.reloginWait || (login.op != nil && login.op.kind == OpRelogin) {
		return
	}
	e.unschedule(login)
	login.phase = PhaseRelogin
	if login.op != nil {
		login.gen++
		login.op.cancel()
	}
	login.pending = nil
	now := e.nowWall()
	s.forEachStream(func(k *key) {
		if k.flags&flagRemoving != 0 {
			return
		}
		e.noteExpired(k, now)
		e.unschedule(k)
		if k.op != nil && (k.op.kind == OpRenew || k.op.kind == OpRejoin) {
			k.gen++
			k.op.cancel()
		}
		if k.pending != nil && k.pending.done == nil {
			e.setPending(k, nil)
		}
		if k.flags&flagJoined != 0 {
			k.phase = PhaseRelogin
		}
	})
	s.reloginWait = true
	e.reportRelogin(login, reason, 0)
	e.maybeRunRelogin(s)
}

// reportRelogin emits EventRelogin once per relogin path — when the path is
// first started or scheduled, whatever started it (a FAILED event, a passed
// deadline, a kick with ReloginOnKick, a rate limit) — and not for the
// retries of the path. A successful login ends the path.
func (e *Engine) reportRelogin(login *key, reason string, retryIn time.Duration) {
	if login.flags&flagReloginReported != 0 {
		return
	}
	login.flags |= flagReloginReported
	e.emitKey(login, Event{Kind: EventRelogin, Reason: reason, RetryIn: retryIn})
}

// maybeRunRelogin dispatches a waiting relogin once nothing else of the
// session runs.
func (e *Engine) maybeRunRelogin(s *Session) {
	if !s.reloginWait || s.login.op != nil || s.streamBusy > 0 {
		return
	}
	s.reloginWait = false
	o := newOp(OpRelogin, s.login, "relogin", nil)
	for _, ch := range slices.Sorted(mapKeys(s.streams)) {
		k := s.streams[ch]
		if k.flags&flagJoined != 0 && k.flags&flagRemoving == 0 {
			k.gen++
			o.streams = append(o.streams, streamRef{k: k, gen: k.gen, channel: ch})
		}
	}
	e.dispatch(o)
}
