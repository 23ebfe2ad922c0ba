package mock

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// onEvent counts a renewal event, then passes it on.
func (s *HarnessSession) onEvent(ev renewal.Event) {
	s.mu.Lock()
	if int(ev.Kind) < len(s.counts) {
		s.counts[ev.Kind]++
	}
	s.mu.Unlock()
	if f := s.h.cfg.OnEvent; f != nil {
		f(ev)
	}
}

// Events returns how many events of kind k the session's client reported.
func (s *HarnessSession) Events(k renewal.EventKind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if int(k) < len(s.counts) {
		return s.counts[k]
	}
	return 0
}

// allEvents returns how many events of any kind the session's client
// reported.
func (s *HarnessSession) allEvents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

// Summary is what a harness run did, summed over its sessions. Its JSON
// form is the core of the output of `tokenctl simulate --json`.
type Summary struct {
	Sessions          int     `json:"sessions"`
	Channels          int     `json:"channels"` // stream channels per session
	SimulatedSeconds  float64 `json:"simulatedSeconds"`
	Fetches           int     `json:"fetches"`           // token requests that reached the token server
	FetchFailures     int     `json:"fetchFailures"`     // fetches the client saw fail
	Renewals          int     `json:"renewals"`          // tokens renewed in place (login and stream)
	Relogins          int     `json:"relogins"`          // logout → fetch → login paths taken
	Rejoins           int     `json:"rejoins"`           // stream channels joined again with a fresh token
	Expiries          int     `json:"expiries"`          // deadlines that passed with no fresh token installed
	WillExpireSignals int     `json:"willExpireSignals"` // SDK warnings delivered (30 s before a deadline)
	FailedSignals     int     `json:"failedSignals"`     // FAILED link events delivered
	ExpiredTokenUses  int     `json:"expiredTokenUses"`  // SDK calls made with an expired token
	RejectedTokens    int     `json:"rejectedTokens"`    // tokens the SDK refused for another reason
	Events            int     `json:"events"`            // renewal events the clients reported, of every kind
	// LoggedOutSeconds is the total time sessions were not connected after
	// their first login; MaxLoggedOutSeconds the longest single stretch.
	LoggedOutSeconds    float64 `json:"loggedOutSeconds"`
	MaxLoggedOutSeconds float64 `json:"maxLoggedOutSeconds"`
}

// Summary sums what happened so far over every session.
func (h *Harness) Summary() Summary {
	sum := Summary{
		Sessions:         len(h.sessions),
		Channels:         len(h.cfg.Channels),
		SimulatedSeconds: h.Elapsed().Seconds(),
		Fetches:          h.Server.Requests(),
	}
	var maxOut time.Duration
	for _, s := range h.sessions {
		st := s.SDK.Stats()
		sum.Renewals += st.Renewals + st.StreamRenewals
		sum.WillExpireSignals += st.WillExpireSignals
		sum.FailedSignals += st.FailedSignals
		sum.ExpiredTokenUses += st.ExpiredTokenUses
		sum.RejectedTokens += st.RejectedTokens
		sum.LoggedOutSeconds += st.LoggedOut.Seconds()
		maxOut = max(maxOut, st.MaxLoggedOut)
		sum.Relogins += s.Events(renewal.EventRelogin)
		sum.Rejoins += s.Events(renewal.EventRejoined)
		sum.Expiries += s.Events(renewal.EventExpired)
		sum.FetchFailures += s.Events(renewal.EventFetchFailed)
		sum.Events += s.allEvents()
	}
	sum.MaxLoggedOutSeconds = maxOut.Seconds()
	return sum
}

// Add returns the summary of two runs taken together, such as independent
// shards of one simulation: counts and totals add up; Channels,
// SimulatedSeconds and MaxLoggedOutSeconds take the larger value.
func (s Summary) Add(o Summary) Summary {
	s.Sessions += o.Sessions
	s.Channels = max(s.Channels, o.Channels)
	s.SimulatedSeconds = max(s.SimulatedSeconds, o.SimulatedSeconds)
	s.Fetches += o.Fetches
	s.FetchFailures += o.FetchFailures
	s.Renewals += o.Renewals
	s.Relogins += o.Relogins
	s.Rejoins += o.Rejoins
	s.Expiries += o.Expiries
	s.WillExpireSignals += o.WillExpireSignals
	s.FailedSignals += o.FailedSignals
	s.ExpiredTokenUses += o.ExpiredTokenUses
	s.RejectedTokens += o.RejectedTokens
	s.Events += o.Events
	s.LoggedOutSeconds += o.LoggedOutSeconds
	s.MaxLoggedOutSeconds = max(s.MaxLoggedOutSeconds, o.MaxLoggedOutSeconds)
	return s
}

// Events returns how many events of kind k every session's client
// reported, in total.
func (h *Harness) Events(k renewal.EventKind) int {
	n := 0
	for _, s := range h.sessions {
		n += s.Events(k)
	}
	return n
}

// Renewals returns how many tokens were renewed in place (RenewToken and
// RenewStreamToken calls that installed a new token), over every session.
func (h *Harness) Renewals() int {
	n := 0
	for _, s := range h.sessions {
		st := s.SDK.Stats()
		n += st.Renewals + st.StreamRenewals
	}
	return n
}

// ServerRequests returns how many token requests reached the token
// server, answered or failed.
func (h *Harness) ServerRequests() int { return h.Server.Requests() }

// MaxLoggedOut returns the longest stretch any session spent not
// CONNECTED since its first login, counting a stretch still running.
func (h *Harness) MaxLoggedOut() time.Duration {
	var d time.Duration
	for _, s := range h.sessions {
		d = max(d, s.SDK.Stats().MaxLoggedOut)
	}
	return d
}

// ErrUnhealthy is wrapped by the errors Check returns.
var ErrUnhealthy = errors.New("mock: harness unhealthy")

// Check reports, as one error wrapping ErrUnhealthy, every way the run went
// wrong so far: an expired token was used, a session is not connected, or a
// stream channel is not joined. It returns nil for a healthy run.
func (h *Harness) Check() error {
	var probs []string
	for _, s := range h.sessions {
		probs = append(probs, s.problems()...)
	}
	return unhealthy(probs)
}

// Check is [Harness.Check] for this session alone, for runs in which
// some sessions are meant to end unhealthy (a kicked one, say).
func (s *HarnessSession) Check() error { return unhealthy(s.problems()) }

func unhealthy(probs []string) error {
	if len(probs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrUnhealthy, strings.Join(probs, "; "))
}

func (s *HarnessSession) problems() []string {
	var probs []string
	st := s.SDK.Stats()
	if st.ExpiredTokenUses > 0 {
		probs = append(probs, fmt.Sprintf("%s used an expired token %d times", s.UserID, st.ExpiredTokenUses))
	}
	if state := s.SDK.State(); state != signaling.LinkConnected {
		probs = append(probs, fmt.Sprintf("%s is %s, not CONNECTED", s.UserID, state))
	}
	joined := s.SDK.Joined()
	for _, ch := range s.h.cfg.Channels {
		if !slices.Contains(joined, ch) {
			probs = append(probs, fmt.Sprintf("%s is not in stream channel %q", s.UserID, ch))
		}
	}
	return probs
}

// Timeline returns every session's SDK timeline merged in time order (ties
// keep session order). Entries never contain a token. With several
// sessions, [Harness.SessionTimeline] tells whose each entry is.
func (h *Harness) Timeline() []Entry {
	var all []Entry
	for _, s := range h.sessions {
		all = append(all, s.SDK.Timeline()...)
	}
	slices.SortStableFunc(all, func(a, b Entry) int { return a.Time.Compare(b.Time) })
	return all
}

// SessionEntry is a timeline [Entry] with the user ID of the session whose
// fake SDK recorded it.
type SessionEntry struct {
	UserID string
	Entry
}

// String formats e as its user ID, two spaces, and [Entry.String].
func (e SessionEntry) String() string { return e.UserID + "  " + e.Entry.String() }

// SessionTimeline returns every session's SDK timeline merged in time
// order, each entry labelled with its session's user ID. Ties keep session
// order, and each session's own order.
func (h *Harness) SessionTimeline() []SessionEntry {
	var all []SessionEntry
	for _, s := range h.sessions {
		for _, e := range s.SDK.Timeline() {
			all = append(all, SessionEntry{UserID: s.UserID, Entry: e})
		}
	}
	slices.SortStableFunc(all, func(a, b SessionEntry) int { return a.Time.Compare(b.Time) })
	return all
}
