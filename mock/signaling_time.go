package mock

import (
	"context"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// sigTokenExpiredText is the free-text reason of a token-expiry event (the JS
// SDK's wording; native SDKs say "Ticket expired").
const sigTokenExpiredText = "Token expired"

// sigDue is a time-based event of an installed token.
type sigDue struct {
	at      time.Time
	channel string // "" for the login token
	fail    bool   // the deadline; false for the will-expire warning
}

// before orders signals by time, then the login token before stream
// channels, then channel name, then the warning before the deadline.
func (a sigDue) before(b sigDue) bool {
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	if a.channel != b.channel {
		return a.channel < b.channel // "" (login) sorts first
	}
	return !a.fail && b.fail
}

// NextDue returns the time of the earliest pending signal (a will-expire
// warning or a deadline), and false when none is pending. A harness on a
// clock.Mock advances the clock to it and calls [Signaling.Tick].
func (s *Signaling) NextDue() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sig, ok := s.nextSignalLocked()
	return sig.at, ok
}

// Tick fires, on the calling goroutine, every signal due at or before the
// clock's current time, in order (see [Signaling.NextDue]), and returns how
// many fired. Each signal's callback returns before the next signal is
// chosen, so a callback that renews a token moves that token's later
// signals. Entries and events carry the time the signal was due.
func (s *Signaling) Tick() int {
	n := 0
	for {
		s.mu.Lock()
		sig, ok := s.nextSignalLocked()
		if !ok || sig.at.After(s.clock.Now()) {
			s.mu.Unlock()
			return n
		}
		ds := s.fireLocked(sig)
		s.mu.Unlock()
		s.deliver(ds)
		n++
	}
}

// Run fires signals as they fall due on the fake's clock, using the clock's
// timers, until ctx ends. It is a convenience for a real clock (or a
// testing/synctest bubble); a harness on a clock.Mock should call
// [Signaling.Tick] itself. Call Run from one goroutine at a time.
// Callbacks of the signals it fires run on Run's goroutine.
func (s *Signaling) Run(ctx context.Context) {
	for {
		s.Tick()
		var (
			timer *clock.Timer
			fired <-chan time.Time
		)
		if next, ok := s.NextDue(); ok {
			timer = s.clock.Timer(max(s.clock.Until(next), 0))
			fired = timer.C
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-fired:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (s *Signaling) nextSignalLocked() (sigDue, bool) {
	var best sigDue
	found := false
	offer := func(c sigDue) {
		if !found || c.before(best) {
			best, found = c, true
		}
	}
	consider := func(channel string, in *sigInstalled) {
		if !in.warned {
			offer(sigDue{at: in.warnAt, channel: channel})
		}
		offer(sigDue{at: in.deadline, channel: channel, fail: true})
	}
	if s.login != nil {
		consider("", s.login)
	}
	for ch, in := range s.streams {
		consider(ch, in)
	}
	return best, found
}

// fireLocked applies sig and returns the callbacks to make.
func (s *Signaling) fireLocked(sig sigDue) []sigDelivery {
	in := s.tokenLocked(sig.channel)
	if sig.fail {
		if sig.channel == "" {
			return []sigDelivery{s.failLoginLocked(sig.at, signaling.ReasonTokenExpired, sigTokenExpiredText)}
		}
		return []sigDelivery{s.failStreamLocked(sig.at, sig.channel)}
	}
	in.warned = true
	e := Entry{Time: sig.at, Kind: EntryWillExpire, Channel: sig.channel,
		Detail: "deadline " + in.deadline.UTC().Format(time.RFC3339Nano)}
	if s.dropWarn > 0 {
		s.dropWarn--
		s.stats.DroppedWillExpire++
		e.Detail += " (dropped by DropWillExpire)"
		s.recordLocked(e)
		return nil
	}
	s.stats.WillExpireSignals++
	e.OK = true
	s.recordLocked(e)
	return []sigDelivery{{willExpire: true, channel: sig.channel}}
}

// linkLocked moves the message link to ev.Current and records the event;
// Previous, Service and Timestamp are filled in.
func (s *Signaling) linkLocked(at time.Time, ev signaling.LinkStateEvent) sigDelivery {
	ev.Previous = s.state
	ev.Service = signaling.ServiceMessage
	ev.Timestamp = uint64(at.UnixMilli())
	s.setStateLocked(ev.Current, at)
	s.recordLocked(Entry{Time: at, Kind: EntryLinkState, OK: true, Detail: ev.String()})
	return sigDelivery{event: ev}
}

// failLoginLocked ends the session with a FAILED / SERVER_REJECT event on
// the message service: the login token and every stream channel are
// dropped, and Login needs a Logout first.
func (s *Signaling) failLoginLocked(at time.Time, reason signaling.Reason, text string) sigDelivery {
	d := s.linkLocked(at, signaling.LinkStateEvent{Current: signaling.LinkFailed,
		Operation: signaling.OpServerReject, ReasonCode: reason, Reason: text,
		AffectedChannels: s.joinedLocked()})
	s.login = nil
	clear(s.streams)
	s.needLogout = true
	s.stats.FailedSignals++
	return d
}

// failStreamLocked makes the stream channel leave itself with a FAILED /
// SERVER_REJECT / TOKEN_EXPIRED event on the stream service.
func (s *Signaling) failStreamLocked(at time.Time, channel string) sigDelivery {
	ev := signaling.LinkStateEvent{
		Current:          signaling.LinkFailed,
		Previous:         signaling.LinkConnected,
		Service:          signaling.ServiceStream,
		Operation:        signaling.OpServerReject,
		ReasonCode:       signaling.ReasonTokenExpired,
		Reason:           sigTokenExpiredText,
		AffectedChannels: []string{channel},
		Timestamp:        uint64(at.UnixMilli()),
	}
	delete(s.streams, channel)
	s.stats.FailedSignals++
	s.recordLocked(Entry{Time: at, Kind: EntryLinkState, Channel: channel, OK: true, Detail: ev.String()})
	return sigDelivery{event: ev}
}
