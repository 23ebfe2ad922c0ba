package renewal

import "slices"

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
	if reason != reasonRetry {
		e.emitKey(login, Event{Kind: EventRelogin, Reason: reason}) // once per relogin path, not per attempt
	}
	e.maybeRunRelogin(s)
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
