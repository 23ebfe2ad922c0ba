package mock

import (
	"container/heap"
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/tokenkeeper/tokenkeeper/renewal"
)

// This file holds the harness's stepping machinery: knowing when the whole
// system is idle, and which fake SDK has a signal due next.

// settle waits until the engine is idle and no fake has a signal due now,
// ticking due fakes one at a time (and letting the engine settle after each)
// so the order of simultaneous events never depends on goroutine scheduling.
func (h *Harness) settle() {
	for !h.settleOnce() {
	}
}

// settleOnce waits for the engine to be idle, then ticks the first fake with
// a signal due. It reports true when there was nothing to tick.
func (h *Harness) settleOnce() bool {
	h.waitEngineIdle()
	s := h.sched.popDue(h.Clock.Now())
	if s == nil {
		return true
	}
	h.tick(s)
	return false
}

// tick fires the signals due of one fake. Their callbacks are held until
// the fake has fired them all, then delivered one at a time: Tick fires a
// fake's due signals one after the other, and an engine reacting to the
// first (renewing or rejoining a channel) while Tick goes on could move or
// cancel a later one, or handle two at once, depending on goroutine
// scheduling.
func (h *Harness) tick(s *HarnessSession) {
	h.held.pause()
	s.SDK.Tick()
	h.resume()
}

// waitEngineIdle waits until the engine has nothing due and every operation
// it has in flight is blocked on the mock clock: inside a fake SDK call that
// hangs, or in the token server waiting out its latency. It polls (see
// backoffWait); no fixed sleep decides anything.
func (h *Harness) waitEngineIdle() {
	var w backoffWait
	for {
		a := h.Engine.Activity()
		if a.Due == 0 && (a.InFlight == 0 || h.parked(a)) {
			return
		}
		if a.Due > 0 && a.Running == 0 {
			h.Engine.Poke() // something is due and nothing runs: make sure the scheduler looks
		}
		w.pause()
	}
}

// backoffWait paces a polling loop: it yields the processor a few times,
// then sleeps on the real clock for a growing moment (1 µs doubling up to
// 256 µs). Yielding alone keeps a second processor busy taking the locks
// the engine needs, which slows the very work being waited for; a short
// sleep frees it. Inside a testing/synctest bubble the sleep is on the
// bubble's fake clock and ends only once every other goroutine of the
// bubble is blocked, which is the moment the harness is waiting for.
type backoffWait struct{ n int }

const (
	backoffYields   = 4
	backoffMaxShift = 8
)

func (w *backoffWait) pause() {
	w.n++
	if w.n <= backoffYields {
		runtime.Gosched()
		return
	}
	time.Sleep(time.Microsecond << min(w.n-backoffYields-1, backoffMaxShift))
}

func (w *backoffWait) reset() { w.n = 0 }

// parked reports whether every operation the engine has running is parked
// on the mock clock and no queued operation could start instead.
func (h *Harness) parked(a renewal.Activity) bool {
	if a.Running != a.Calls || a.Calls != h.blockedOnClock() {
		return false
	}
	return a.InFlight == a.Running || a.Running == h.cfg.Workers
}

// blockedOnClock counts calls that wait for simulated time to move. A
// token-server request whose wake time has already come is not counted: it
// is about to return.
func (h *Harness) blockedOnClock() int {
	n := 0
	if t, ok := h.Server.NextWake(); ok {
		if !t.After(h.Clock.Now()) {
			return -1 // a delayed response is due: not idle
		}
		n += h.Server.Blocked()
	}
	h.sched.mu.Lock()
	for s := range h.sched.inCall {
		n += s.SDK.Blocked()
	}
	h.sched.mu.Unlock()
	return n
}

// nextDue returns the earliest future instant at which anything in the
// simulation acts.
//
// A positive res rounds the fakes' next signal up to a multiple of it
// (counted from the harness's start): see HarnessConfig.Resolution. The
// engine's and the server's instants are never rounded: stepping past one
// would hand the engine several due keys at once, which its scheduler and
// worker then handle concurrently, in an order that may vary between runs.
func (h *Harness) nextDue(res time.Duration) (time.Time, bool) {
	var next time.Time
	consider := func(t time.Time, ok bool) {
		if ok && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	a := h.Engine.Activity()
	consider(a.Next, !a.Next.IsZero())
	sig, ok := h.sched.min()
	if ok && res > 0 {
		sig = roundUp(sig, h.start, res)
	}
	consider(sig, ok)
	consider(h.Server.NextWake())
	return next, !next.IsZero()
}

// sigSchedule orders the fakes by their next due signal. Fakes whose
// schedule may have changed (the engine called them, they ticked, or the
// test scripted them between Advance calls) are marked dirty and re-read
// lazily, so a step costs O(log n) for n sessions, not O(n).
type sigSchedule struct {
	mu     sync.Mutex
	all    []*HarnessSession
	dirty  map[*HarnessSession]struct{}
	inCall map[*HarnessSession]int
	h      sigHeap
}

type sigItem struct {
	s   *HarnessSession
	at  time.Time
	idx int
}

type sigHeap []*sigItem

func (q sigHeap) Len() int { return len(q) }
func (q sigHeap) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].s.idx < q[j].s.idx
}
func (q sigHeap) Swap(i, j int) { q[i], q[j] = q[j], q[i]; q[i].idx = i; q[j].idx = j }
func (q *sigHeap) Push(x any)   { it := x.(*sigItem); it.idx = len(*q); *q = append(*q, it) }
func (q *sigHeap) Pop() any {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	it.idx = -1
	return it
}

func (q *sigSchedule) init(n int) {
	q.dirty = make(map[*HarnessSession]struct{}, n)
	q.inCall = make(map[*HarnessSession]int)
}

func (q *sigSchedule) add(s *HarnessSession) {
	q.mu.Lock()
	q.all = append(q.all, s)
	q.dirty[s] = struct{}{}
	q.mu.Unlock()
}

// markAll marks every fake dirty: the test may have scripted any of them.
func (q *sigSchedule) markAll() {
	q.mu.Lock()
	for _, s := range q.all {
		q.dirty[s] = struct{}{}
	}
	q.mu.Unlock()
}

func (q *sigSchedule) enter(s *HarnessSession) {
	q.mu.Lock()
	q.inCall[s]++
	q.mu.Unlock()
}

func (q *sigSchedule) leave(s *HarnessSession) {
	q.mu.Lock()
	if q.inCall[s]--; q.inCall[s] <= 0 {
		delete(q.inCall, s)
	}
	q.dirty[s] = struct{}{}
	q.mu.Unlock()
}

// refreshLocked re-reads the next due time of every dirty fake.
func (q *sigSchedule) refreshLocked() {
	for s := range q.dirty {
		at, ok := s.SDK.NextDue()
		it := s.item
		switch {
		case !ok && it != nil:
			heap.Remove(&q.h, it.idx)
			s.item = nil
		case ok && it == nil:
			s.item = &sigItem{s: s, at: at}
			heap.Push(&q.h, s.item)
		case ok:
			it.at = at
			heap.Fix(&q.h, it.idx)
		}
		delete(q.dirty, s)
	}
}

// min returns the earliest due signal of any fake.
func (q *sigSchedule) min() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.refreshLocked()
	if len(q.h) == 0 {
		return time.Time{}, false
	}
	return q.h[0].at, true
}

// popDue returns the first fake with a signal due at or before now, marking
// it dirty (its Tick will change its schedule), or nil.
func (q *sigSchedule) popDue(now time.Time) *HarnessSession {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.refreshLocked()
	if len(q.h) == 0 || q.h[0].at.After(now) {
		return nil
	}
	s := q.h[0].s
	q.dirty[s] = struct{}{}
	return s
}

// trackedSDK is the adapter the harness hands each client: it forwards to
// the session's fake and tells the schedule when a call starts and ends, so
// the harness knows which fakes changed and which calls may be blocked.
type trackedSDK struct{ s *HarnessSession }

func (t *trackedSDK) do(f func(*Signaling) error) error {
	q := &t.s.h.sched
	q.enter(t.s)
	defer q.leave(t.s)
	return f(t.s.SDK)
}

func (t *trackedSDK) Login(ctx context.Context, token string) error {
	return t.do(func(s *Signaling) error { return s.Login(ctx, token) })
}

func (t *trackedSDK) Logout(ctx context.Context) error {
	return t.do(func(s *Signaling) error { return s.Logout(ctx) })
}

func (t *trackedSDK) RenewToken(ctx context.Context, token string) error {
	return t.do(func(s *Signaling) error { return s.RenewToken(ctx, token) })
}

func (t *trackedSDK) JoinStream(ctx context.Context, channel, token string) error {
	return t.do(func(s *Signaling) error { return s.JoinStream(ctx, channel, token) })
}

func (t *trackedSDK) RenewStreamToken(ctx context.Context, channel, token string) error {
	return t.do(func(s *Signaling) error { return s.RenewStreamToken(ctx, channel, token) })
}

func (t *trackedSDK) LeaveStream(ctx context.Context, channel string) error {
	return t.do(func(s *Signaling) error { return s.LeaveStream(ctx, channel) })
}

func (t *trackedSDK) RestoreSession(ctx context.Context, channels []string) error {
	return t.do(func(s *Signaling) error { return s.RestoreSession(ctx, channels) })
}
