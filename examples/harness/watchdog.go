// Package harness shows how an application tests its own token-expiry
// handling with tokenkeeper's test kit, mock.Harness: a token server, a fake
// Signaling SDK per session and the real renewal engine, on a simulated
// clock, so a test lives through days of token life — outages, kicks,
// forced expiries — in milliseconds, and asserts on what happened.
//
// The application code under test is [Watchdog], the part of an app that
// decides what to do with tokenkeeper's events (page a human, record how
// long users were offline). The tests in this directory are the example:
// read harness_test.go from the top.
package harness

import (
	"fmt"
	"sync"
	"time"

	"github.com/tokenkeeper/tokenkeeper/renewal"
)

// PageAfter is how long a user may stay logged out before the watchdog
// pages someone.
const PageAfter = 15 * time.Minute

// Watchdog turns renewal events into pages for a human and a record of the
// longest time a user was logged out. It is what an app might plug into
// tokenclient.Config.OnEvent. It is safe for concurrent use.
type Watchdog struct {
	mu        sync.Mutex
	pages     []string
	loggedOut map[string]time.Time // user → when its login token expired
	worst     time.Duration
}

// NewWatchdog returns a watchdog with nothing to report.
func NewWatchdog() *Watchdog { return &Watchdog{loggedOut: make(map[string]time.Time)} }

// OnEvent takes one renewal event. It never blocks, as OnEvent must not.
func (w *Watchdog) OnEvent(ev renewal.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev.Kind {
	case renewal.EventKicked:
		// No automatic relogin after a kick: a person must look.
		w.pages = append(w.pages, fmt.Sprintf("%s was kicked (%v): it stays out until someone acts", ev.UserID, ev.Err))
		w.markOut(ev)
	case renewal.EventGaveUp:
		w.pages = append(w.pages, fmt.Sprintf("%s: renewal gave up: %v", ev.UserID, ev.Err))
	case renewal.EventExpired, renewal.EventRelogin:
		w.markOut(ev)
	case renewal.EventLoggedIn:
		since, out := w.loggedOut[ev.UserID]
		if !out {
			return
		}
		delete(w.loggedOut, ev.UserID)
		d := ev.Time.Sub(since)
		w.worst = max(w.worst, d)
		if d > PageAfter {
			w.pages = append(w.pages, fmt.Sprintf("%s was logged out for %v", ev.UserID, d.Round(time.Second)))
		}
	}
}

// markOut notes when a user's login went away, unless it already had.
// w.mu must be held.
func (w *Watchdog) markOut(ev renewal.Event) {
	if _, out := w.loggedOut[ev.UserID]; !out && ev.Channel == "" {
		w.loggedOut[ev.UserID] = ev.Time
	}
}

// Pages returns the pages sent so far, oldest first.
func (w *Watchdog) Pages() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.pages...)
}

// WorstOutage returns the longest time a user was logged out, from the
// moment its login token expired (or a relogin began) to the next login.
func (w *Watchdog) WorstOutage() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.worst
}
