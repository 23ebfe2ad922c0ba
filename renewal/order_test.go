package renewal

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestExpiredOrderAfterSuspendIsStable checks that when a resume from a
// suspend finds every token of a session past its deadline at once, the
// stream channels' EventExpired events come in channel-name order rather
// than a map's, so that runs with the same inputs give the same events.
func TestExpiredOrderAfterSuspendIsStable(t *testing.T) {
	channels := []string{"zeta", "alpha", "mid", "beta", "omega", "kappa"}
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, time.Hour, noJitter, atLead)
		r.start(channels...)
		time.Sleep(30*time.Minute + 30*time.Second) // between two watchdog ticks
		r.wall.jump(2 * time.Hour)                  // resumed after a 2 h suspend
		time.Sleep(DefaultWatchdogInterval)
		synctest.Wait()
		var got []string
		for _, ev := range r.rec.all(EventExpired) {
			if ev.Channel != "" {
				got = append(got, ev.Channel)
			}
		}
		if want := slices.Sorted(slices.Values(channels)); !slices.Equal(got, want) {
			t.Fatalf("EventExpired channels in order %q, want %q", got, want)
		}
	})
}
