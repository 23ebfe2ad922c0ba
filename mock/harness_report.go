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

// Summary is what a harness run did, summed over its sessions. Its JSON
// form is the output of `tokenctl simulate --json`.
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
	}
	sum.MaxLoggedOutSeconds = maxOut.Seconds()
	return sum
}

// ErrUnhealthy is wrapped by the error Check returns.
var ErrUnhealthy = errors.New("mock: harness unhealthy")

// Check reports, as one error wrapping ErrUnhealthy, every way the run went
// wrong so far: an expired token was used, a session is not connected, or a
// stream channel is not joined. It returns nil for a healthy run.
func (h *Harness) Check() error {
	var probs []string
	for _, s := range h.sessions {
		st := s.SDK.Stats()
		if st.ExpiredTokenUses > 0 {
			probs = append(probs, fmt.Sprintf("%s used an expired token %d times", s.UserID, st.ExpiredTokenUses))
		}
		if state := s.SDK.State(); state != signaling.LinkConnected {
			probs = append(probs, fmt.Sprintf("%s is %s, not CONNECTED", s.UserID, state))
		}
		joined := s.SDK.Joined()
		for _, ch := range h.cfg.Channels {
			if !slices.Contains(joined, ch) {
				probs = append(probs, fmt.Sprintf("%s is not in stream channel %q", s.UserID, ch))
			}
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrUnhealthy, strings.Join(probs, "; "))
}

// Timeline returns every session's SDK timeline merged in time order (ties
// keep session order). Entries never contain a token.
func (h *Harness) Timeline() []Entry {
	var all []Entry
	for _, s := range h.sessions {
		all = append(all, s.SDK.Timeline()...)
	}
	slices.SortStableFunc(all, func(a, b Entry) int { return a.Time.Compare(b.Time) })
	return all
}
