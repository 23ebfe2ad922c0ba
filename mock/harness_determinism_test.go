package mock

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// determinismRuns is how many times TestHarnessDeterminism repeats its
// scenario (a tenth of it with -short).
const determinismRuns = 1000

// determinismScenario is a small run that takes every path of the engine
// the harness has to keep in order: proactive renewals of three keys, a
// token-server outage longer than the tokens live (expiry, relogin, rejoin,
// session restore), a forced expiry of the login token met by 429s with
// Retry-After, a forced expiry of a stream token, and failing SDK renewals.
// It returns the merged timeline and every renewal event as text.
func determinismScenario(t *testing.T) string {
	var (
		mu  sync.Mutex
		evs []renewal.Event
	)
	h, err := NewHarness(HarnessConfig{
		Seed:     42,
		Channels: []string{"lobby", "game"},
		TTL:      10 * time.Minute,
		Policy:   renewal.Policy{BackoffInitial: 5 * time.Second},
		OnEvent: func(ev renewal.Event) {
			mu.Lock()
			evs = append(evs, ev)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s := h.Session(0)
	h.Advance(5 * time.Minute)
	h.Server.Outage(true)
	h.Advance(8 * time.Minute)
	h.Server.Outage(false)
	h.Advance(3 * time.Minute)
	s.SDK.ExpireNow("")
	h.Server.RateLimitNext(2, 30*time.Second)
	h.Advance(3 * time.Minute)
	s.SDK.ExpireNow("game")
	s.SDK.FailNext(CallRenew, 2, signaling.CodeRenewTokenTimeout)
	h.Advance(11 * time.Minute)
	if err := h.Check(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range h.SessionTimeline() {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range byKey(evs) {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%+v\n", h.Summary())
	return b.String()
}

// TestHarnessDeterminism proves that one seed gives one run: the scenario
// runs 1000 times (in parallel, one bubble per processor) and every run's
// merged timeline and renewal events must equal the first run's, byte for
// byte. Each run is inside a testing/synctest bubble, where clock.Mock's
// real-time sleeps (1 ms per move) are fake, and the bubble also proves the
// harness leaves no goroutine behind.
func TestHarnessDeterminism(t *testing.T) {
	runs := determinismRuns
	if testing.Short() {
		runs /= 10
	}
	var want string
	synctest.Test(t, func(t *testing.T) { want = determinismScenario(t) })
	for _, must := range []string{"fetch-failed", "429", "relogin", "rejoined", "restore",
		"RENEW_TOKEN_TIMEOUT", `link CONNECTED→FAILED service=STREAM`, "renew-stream"} {
		if !strings.Contains(want, must) {
			t.Fatalf("the scenario lost its %q:\n%s", must, want)
		}
	}
	start := time.Now()
	procs := runtime.GOMAXPROCS(0)
	t.Run("runs", func(t *testing.T) {
		for w := range procs {
			t.Run(fmt.Sprint(w), func(t *testing.T) {
				t.Parallel()
				for i := 1 + w; i < runs; i += procs {
					synctest.Test(t, func(t *testing.T) {
						if got := determinismScenario(t); got != want {
							t.Fatalf("run %d differs from run 0:\n%s", i, firstDiff(want, got))
						}
					})
				}
			})
		}
	})
	t.Logf("%d identical runs in %v (%d in parallel)", runs, time.Since(start).Round(time.Millisecond), procs)
}

// byKey formats events grouped by key (user, then channel), each key's
// events in the order they came. The engine emits the events of one
// session's keys that fall due at the same instant in Go map order (see
// renewal.Session.forEachStream), so only the order within a key is fixed.
func byKey(evs []renewal.Event) []string {
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b renewal.Event) int {
		return cmp.Or(strings.Compare(a.UserID, b.UserID), strings.Compare(a.Channel, b.Channel))
	})
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = fmt.Sprintf("%+v", ev)
	}
	return out
}

// firstDiff shows the first differing line of two texts with a little
// context.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return "(no difference)"
}

// TestHarnessInSynctest checks that a harness behaves the same inside a
// testing/synctest bubble (where clock.Mock's real-time sleeps are fake)
// and outside it: one seed, one timeline.
func TestHarnessInSynctest(t *testing.T) {
	run := func(t *testing.T) string {
		h, err := NewHarness(HarnessConfig{Seed: 10, Sessions: 3, Channels: []string{"lobby"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.Advance(3 * time.Hour)
		h.Server.Outage(true)
		h.Advance(90 * time.Minute)
		h.Server.Outage(false)
		h.Advance(3 * time.Hour)
		if err := h.Check(); err != nil {
			t.Fatal(err)
		}
		if err := h.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, e := range h.SessionTimeline() {
			fmt.Fprintln(&b, e)
		}
		fmt.Fprintf(&b, "%+v\n", h.Summary())
		return b.String()
	}
	outside := run(t)
	var inside string
	synctest.Test(t, func(t *testing.T) { inside = run(t) })
	if inside != outside {
		t.Fatalf("the run inside a bubble differs:\n%s", firstDiff(outside, inside))
	}
	if !strings.Contains(outside, "relogin") && !strings.Contains(outside, "logout") {
		t.Errorf("the outage did not log anyone out:\n%s", outside)
	}
}
