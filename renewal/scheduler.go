package renewal

import (
	"container/heap"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// signal is a queued input from an SDK callback or a manual RenewNow.
type signal struct {
	sess    *Session
	trig    Trigger // TriggerWillExpire, TriggerRenewNow or TriggerLink
	channel string
	link    signaling.LinkStateEvent
}

// enqueue queues sg for the scheduler without blocking on anything but a
// short critical section; signals after Close are dropped.
func (e *Engine) enqueue(sg signal) {
	select {
	case <-e.closed:
		e.log.Debug("renewal: signal after Close ignored", "user", sg.sess.userID, "signal", sg.trig.String())
		return
	default:
	}
	e.sigMu.Lock()
	e.sigq = append(e.sigq, sg)
	e.sigMu.Unlock()
	e.notify()
}

// loop is the scheduler goroutine: it handles queued signals and due keys
// under e.mu, then sleeps on one clock timer until the next due time, a
// signal, or Close.
func (e *Engine) loop() {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		if e.state != engineRunning {
			e.mu.Unlock()
			return
		}
		now := e.tick()
		next := e.nextWake(now)
		// A fresh timer per cycle: never Reset a timer that may have fired.
		// It is armed before e.mu is released: a harness that sees the
		// engine idle (Activity, under e.mu) and then moves a mock clock
		// must find the timer already registered, or the mock would fire it
		// late, measured from the moved clock.
		var t *clock.Timer
		var fire <-chan time.Time
		if next != 0 {
			t = e.clk.Timer(time.Duration(next - now))
			fire = t.C
		}
		e.mu.Unlock()
		e.flush()

		select {
		case <-fire:
		case <-e.wake:
		case <-e.ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
	}
}

// tick handles everything due: clock-jump check, signals (FIFO), due keys
// (by due time, ties by insertion order), the watchdog, and reports of
// calls running past their timeout. e.mu must be held. It returns the
// wall-clock now it used.
func (e *Engine) tick() int64 {
	mono := e.clk.Now()
	now := e.checkJump(e.wallAt(mono).UnixNano(), mono)
	e.sigMu.Lock()
	sigs := e.sigq
	e.sigq = nil
	e.sigMu.Unlock()
	for i := range sigs {
		e.handleSignal(&sigs[i], now)
		sigs[i] = signal{}
	}
	for len(e.heap) > 0 && e.heap[0].due <= now {
		k := heap.Pop(&e.heap).(*key)
		op := k.dueOp
		k.dueOp = OpNone
		e.handleDue(k, op, now)
	}
	if e.watchdog > 0 && e.nextWatch <= now {
		e.nextWatch = now + int64(e.watchdog)
	}
	for _, o := range e.running {
		if o != nil && o.stepDeadline != 0 && !o.timeoutReported && o.stepDeadline <= now {
			e.reportHookTimeout(o, o.stepName+" still running")
		}
	}
	return now
}

// checkJump compares wall-clock and monotonic time elapsed since the last
// wake. A forward disagreement (a suspend, or the wall clock set ahead) is
// reported and needs nothing else: every deadline is a wall-clock time, so
// whatever is now due runs at once. A backward one (the wall clock set back)
// is reported and every due time and deadline is moved back by the same
// amount, so the engine neither sleeps past a real deadline nor loops.
func (e *Engine) checkJump(now int64, mono time.Time) int64 {
	if e.lastMono.IsZero() {
		e.lastMono, e.lastWall = mono, now
		return now
	}
	skew := time.Duration(now-e.lastWall) - mono.Sub(e.lastMono)
	e.lastMono, e.lastWall = mono, now
	if skew < clockJumpTolerance && skew > -clockJumpTolerance {
		return now
	}
	e.stats.ClockJumps++
	e.emit(&e.events, Event{Kind: EventClockJump, RetryIn: skew, Reason: "wall clock and monotonic clock disagree"})
	for s := range e.sessions {
		s.events.q = append(s.events.q, Event{Kind: EventClockJump, Time: time.Unix(0, now).UTC(), UserID: s.userID, RetryIn: skew})
		if !s.events.delivering {
			s.events.delivering = true
			e.delivering++
			e.ready = append(e.ready, &s.events)
		}
	}
	if skew < 0 {
		d := int64(skew)
		for _, k := range e.heap {
			k.due += d // a uniform shift keeps the heap ordered
		}
		for s := range e.sessions {
			s.forEachKey(func(k *key) {
				if k.deadline != 0 {
					k.deadline += d
				}
			})
		}
		if e.nextWatch != 0 {
			e.nextWatch += d
		}
	}
	return now
}

// handleDue runs the operation a key was scheduled for.
func (e *Engine) handleDue(k *key, op OpKind, now int64) {
	if k.sess.state != sessionRunning {
		return
	}
	switch op {
	case OpRenew:
		e.decideAndApply(k, Signal{Trigger: TriggerTimer}, "timer", now)
	case OpRelogin, OpRejoin:
		if k.phase == PhaseKicked || k.phase == PhaseGaveUp || k.phase == PhaseClosed {
			return
		}
		if op == OpRejoin && k.sess.loginDown() {
			return // the session's relogin rejoins it
		}
		e.noteExpired(k, now)
		e.startOp(k, op, false, reasonRetry)
	}
}

// handleSignal applies one queued signal.
func (e *Engine) handleSignal(sg *signal, now int64) {
	s := sg.sess
	if s.state != sessionRunning {
		e.emit(&s.events, Event{Kind: EventIgnored, UserID: s.userID, Channel: sg.channel,
			Reason: sg.trig.String() + ": session not running"})
		return
	}
	switch sg.trig {
	case TriggerWillExpire, TriggerRenewNow:
		k := s.keyFor(sg.channel)
		if k == nil {
			e.emit(&s.events, Event{Kind: EventIgnored, UserID: s.userID, Channel: sg.channel,
				Reason: sg.trig.String() + ": unknown channel"})
			return
		}
		e.decideAndApply(k, Signal{Trigger: sg.trig}, sg.trig.String(), now)
	case TriggerLink:
		ev := sg.link
		reason := "link " + ev.Current.String() + " " + ev.ReasonCode.String()
		if ev.Service == signaling.ServiceStream {
			for _, ch := range ev.AffectedChannels {
				k := s.keyFor(ch)
				if k == nil || k.isLogin() {
					e.emit(&s.events, Event{Kind: EventIgnored, UserID: s.userID, Channel: ch, Reason: reason + ": unknown channel"})
					continue
				}
				e.decideAndApply(k, Signal{Trigger: TriggerLink, Link: ev}, reason, now)
			}
			return
		}
		s.link = ev.Current
		e.decideAndApply(s.login, Signal{Trigger: TriggerLink, Link: ev}, reason, now)
	}
}

// situation describes k for Decide.
func (e *Engine) situation(k *key, now int64) Situation {
	s := k.sess
	sit := Situation{
		Key:           k.kind(),
		Phase:         k.phase,
		Link:          s.link,
		Expired:       k.deadline != 0 && now >= k.deadline,
		ReloginOnKick: s.policy.ReloginOnKick,
		Forced:        k.fail != nil && k.fail.forced,
	}
	if k.op != nil {
		sit.InFlight = k.op.kind
	}
	if k.isLogin() {
		if s.reloginWait {
			sit.InFlight = OpRelogin
		}
		sit.Relogin = k.hidx >= 0 && k.dueOp == OpRelogin
	} else {
		sit.Relogin = s.loginDown()
	}
	return sit
}

func (e *Engine) decideAndApply(k *key, sig Signal, reason string, now int64) {
	a := Decide(e.situation(k, now), sig)
	if a == (Action{}) {
		return
	}
	e.apply(k, a, sig, reason, now)
}
