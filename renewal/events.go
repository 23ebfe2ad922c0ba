package renewal

import (
	"context"
	"log/slog"
	"time"
)

// eventQueue holds events for one subscriber (a session or the engine),
// delivered in order by at most one goroutine at a time. Guarded by
// Engine.mu.
type eventQueue struct {
	fn         func(Event)
	q          []Event
	delivering bool // a goroutine owns delivery (counted in Engine.delivering)
}

// emit queues ev for delivery; e.mu must be held. The goroutine that later
// calls flush delivers it after releasing the lock.
func (e *Engine) emit(q *eventQueue, ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Unix(0, e.nowWall()).UTC()
	}
	q.q = append(q.q, ev)
	if !q.delivering {
		q.delivering = true
		e.delivering++
		e.ready = append(e.ready, q)
	}
}

// emitKey queues an event about k, filling the key's fields.
func (e *Engine) emitKey(k *key, ev Event) {
	ev.UserID = k.sess.userID
	ev.Channel = k.channel
	ev.Generation = k.gen
	if k.fail != nil && ev.Attempt == 0 {
		ev.Attempt = k.fail.attempts
	}
	e.emit(&k.sess.events, ev)
}

// flush delivers queued events; e.mu must NOT be held. Each queue is
// drained by one goroutine at a time, so a subscriber sees its events in
// order.
func (e *Engine) flush() {
	e.mu.Lock()
	ready := e.ready
	e.ready = nil
	e.mu.Unlock()
	for _, q := range ready {
		e.drain(q)
	}
}

func (e *Engine) drain(q *eventQueue) {
	for {
		e.mu.Lock()
		evs := q.q
		q.q = nil
		if len(evs) == 0 {
			q.delivering = false
			e.delivering--
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		for _, ev := range evs {
			e.logEvent(ev)
			if q.fn != nil && ev.Kind != EventIgnored {
				e.callSubscriber(q.fn, ev)
			}
		}
	}
}

func (e *Engine) callSubscriber(fn func(Event), ev Event) {
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("renewal: OnEvent panicked", "event", ev.Kind.String(), "panic", r)
		}
	}()
	fn(ev)
}

func (e *Engine) logEvent(ev Event) {
	level := slog.LevelInfo
	switch ev.Kind {
	case EventScheduled, EventIgnored:
		level = slog.LevelDebug
	case EventFetchFailed, EventRenewFailed, EventExpired, EventTokenTooShort, EventClockJump,
		EventHookTimeout, EventRestoreFailed:
		level = slog.LevelWarn
	case EventGaveUp, EventKicked, EventHookPanic:
		level = slog.LevelError
	}
	if !e.log.Enabled(context.Background(), level) {
		return
	}
	attrs := []slog.Attr{slog.String("user", ev.UserID), slog.Uint64("gen", ev.Generation)}
	if ev.Channel != "" {
		attrs = append(attrs, slog.String("channel", ev.Channel))
	}
	if ev.Lead != 0 {
		attrs = append(attrs, slog.Duration("lead", ev.Lead))
	}
	if ev.RetryIn != 0 {
		attrs = append(attrs, slog.Duration("retry_in", ev.RetryIn))
	}
	if ev.Class != "" {
		attrs = append(attrs, slog.String("class", ev.Class))
	}
	if ev.Attempt != 0 {
		attrs = append(attrs, slog.Int("attempt", ev.Attempt))
	}
	if ev.Reason != "" {
		attrs = append(attrs, slog.String("reason", ev.Reason))
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.String("err", ev.Err.Error()))
	}
	e.log.LogAttrs(context.Background(), level, "renewal: "+ev.Kind.String(), attrs...)
}
