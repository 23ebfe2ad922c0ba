package renewal

import (
	"container/heap"

	"github.com/cenkalti/backoff/v4"
)

// key is one renewable token: a session's login or one stream channel.
// Every field is guarded by Engine.mu. Times are wall-clock Unix
// nanoseconds; zero means unset.
type key struct {
	sess     *Session
	channel  string // "" for the login key
	raw      string // the token in use; never logged
	deadline int64
	due      int64  // heap due time while hidx >= 0
	seq      uint64 // heap tie-breaker: insertion order
	gen      uint64 // bumped by every operation start and every supersede
	hidx     int32  // index in the engine heap, -1 when not scheduled
	phase    Phase
	dueOp    OpKind // what runs when due
	flags    keyFlags
	op       *op        // running operation, nil when idle
	pending  *op        // operation to start once op has finished
	fail     *failState // non-nil only while failing
}

type keyFlags uint8

const (
	flagExpiredReported keyFlags = 1 << iota // EventExpired sent for the current deadline
	flagRemoving                             // LeaveStream or Close is removing the key
	flagJoined                               // the stream channel was joined at least once
	flagReloginReported                      // EventRelogin sent for the relogin path now running or scheduled
)

// failState is allocated when a key starts failing and dropped on success.
type failState struct {
	bo       *backoff.ExponentialBackOff
	attempts int
	lastErr  error
	forced   bool // the one forced refetch after INVALID_TOKEN was used
}

func (k *key) isLogin() bool { return k == k.sess.login }

func (k *key) kind() KeyKind {
	if k.isLogin() {
		return KeyLogin
	}
	return KeyStream
}

// keyHeap is a min-heap of scheduled keys ordered by (due, seq).
type keyHeap []*key

func (h keyHeap) Len() int { return len(h) }
func (h keyHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].seq < h[j].seq
}
func (h keyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx = int32(i)
	h[j].hidx = int32(j)
}
func (h *keyHeap) Push(x any) {
	k := x.(*key)
	k.hidx = int32(len(*h))
	*h = append(*h, k)
}
func (h *keyHeap) Pop() any {
	old := *h
	n := len(old) - 1
	k := old[n]
	old[n] = nil
	*h = old[:n]
	k.hidx = -1
	return k
}

// countDue returns how many entries are due at or before now, visiting only
// those entries and their direct children.
func (h keyHeap) countDue(now int64) int {
	if len(h) == 0 || h[0].due > now {
		return 0
	}
	n := 0
	stack := []int{0}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if i >= len(h) || h[i].due > now {
			continue
		}
		n++
		stack = append(stack, 2*i+1, 2*i+2)
	}
	return n
}

// schedule (re)places k in the heap to run op at due.
func (e *Engine) schedule(k *key, due int64, op OpKind) {
	e.seq++
	k.due, k.seq, k.dueOp = due, e.seq, op
	if k.hidx >= 0 {
		heap.Fix(&e.heap, int(k.hidx))
		return
	}
	heap.Push(&e.heap, k)
}

// unschedule removes k from the heap, if it is there.
func (e *Engine) unschedule(k *key) {
	if k.hidx >= 0 {
		heap.Remove(&e.heap, int(k.hidx))
	}
	k.dueOp = OpNone
}
