package renewal

import (
	"time"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
)

// This file holds the engine's time arithmetic as pure functions of their
// arguments (no clock reads), so each rule can be table-tested.

// defaultTokenTTL is the lifetime assumed for a token that carries none
// (neither Lifetime nor IssuedAt/ExpiresAt) when its request named no TTL:
// the fetcher's documented default.
const defaultTokenTTL = time.Hour

// tokenTimes returns the local receipt time, the deadline and the effective
// lifetime (deadline − receipt) of tok. All results are wall-clock times
// (monotonic readings stripped), so they stay right across a suspend.
//
// The deadline is fetcher.Token.Deadline when the token says enough; a
// token without ReceivedAt counts as received at now, and a token without
// Lifetime falls back to ExpiresAt − IssuedAt, then to the requested TTL,
// then to one hour.
func tokenTimes(tok fetcher.Token, now time.Time) (receipt, deadline time.Time, life time.Duration) {
	if tok.ReceivedAt.IsZero() {
		tok.ReceivedAt = now
	}
	if tok.Lifetime <= 0 {
		switch {
		case !tok.ExpiresAt.IsZero() && !tok.IssuedAt.IsZero() && tok.ExpiresAt.After(tok.IssuedAt):
			tok.Lifetime = tok.ExpiresAt.Sub(tok.IssuedAt)
		case tok.Request.TTL > 0:
			tok.Lifetime = tok.Request.TTL
		default:
			tok.Lifetime = defaultTokenTTL
		}
	}
	receipt = tok.ReceivedAt.Round(0)
	deadline = tok.Deadline().Round(0)
	return receipt, deadline, deadline.Sub(receipt)
}

// leadFor returns the lead (time before the deadline) for a token of the
// given effective lifetime, before jitter: max(MinLead, LeadFraction×life).
func leadFor(life time.Duration, p Policy) time.Duration {
	lead := time.Duration(p.LeadFraction * float64(life))
	if lead < p.MinLead {
		lead = p.MinLead
	}
	return lead
}

// renewAt returns when a token received at receipt with the given deadline
// should be renewed, seen at now, with the jitter draw u in [0, 1); and
// whether the token is too short to renew safely (lifetime below MinTTL).
//
// The renewal time is deadline − lead − jitter (jitter up to
// JitterFraction × lead), but never earlier than half-way through the
// token's life (so short tokens do not make the engine loop; for lifetimes
// of at least MinTTL this still leaves SafetyLead before the deadline),
// never earlier than minRenewInterval after receipt, and never before now.
func renewAt(receipt, deadline, now time.Time, p Policy, u float64) (at time.Time, tooShort bool) {
	life := deadline.Sub(receipt)
	lead := leadFor(life, p)
	lead += time.Duration(u * p.JitterFraction * float64(lead))
	at = deadline.Add(-lead)
	// A token too short for the lead is renewed at half its life, or
	// earlier to beat the SDK's warning by SafetyLead — but never before a
	// third of its life, so a very short token cannot make the engine renew
	// every second.
	floor := receipt.Add(life / 2)
	if upper := deadline.Add(-SafetyLead); floor.After(upper) && !upper.Before(receipt.Add(life/3)) {
		floor = upper
	}
	if min := receipt.Add(minRenewInterval); floor.Before(min) {
		floor = min
	}
	if at.Before(floor) {
		at = floor
	}
	if at.Before(now) {
		at = now
	}
	return at, life < p.MinTTL
}

// spreadFirst returns the renewal time of a token obtained by a login, a
// join, a relogin or a rejoin under FirstRenewalSpread (the default):
// renewAt's time, moved by the draw v in [0, 1) to a point uniformly
// between minRenewInterval after receipt and that time, so keys that got
// their tokens together renew spread over one period. A token too short to
// renew safely keeps renewAt's time.
func spreadFirst(receipt, deadline, now time.Time, p Policy, u, v float64) (time.Time, bool) {
	at, short := renewAt(receipt, deadline, now, p, u)
	earliest := receipt.Add(minRenewInterval)
	if short || !at.After(earliest) {
		return at, short
	}
	at = earliest.Add(time.Duration(v * float64(at.Sub(earliest))))
	if at.Before(now) {
		at = now
	}
	return at, false
}

// nextRenewal returns when to renew a key's token, as install schedules
// it: renewAt with the key's jitter draw for generation gen, moved by
// spreadFirst (with a second draw) when the token came from a login, a
// join, a relogin or a rejoin (first) and p.FirstRenewal is
// FirstRenewalSpread; and whether the token is too short to renew safely.
func nextRenewal(receipt, deadline, now time.Time, p Policy, seed int64, user, channel string, gen uint64, first bool) (time.Time, bool) {
	u := jitterUnit(seed, user, channel, gen)
	if first && p.FirstRenewal == FirstRenewalSpread {
		return spreadFirst(receipt, deadline, now, p, u, jitterUnit(seed, user, channel, gen|1<<62))
	}
	return renewAt(receipt, deadline, now, p, u)
}

// backoffDelay turns the interval computed by the exponential backoff
// (base) into the wait before the next attempt: jittered down by up to one
// half with draw u (never zero, never a hot loop), BackoffLong instead for a
// long backoff, and at least the server's Retry-After (itself capped at
// BackoffLong).
func backoffDelay(base time.Duration, long bool, retryAfter time.Duration, p Policy, u float64) time.Duration {
	if long {
		base = p.BackoffLong
	}
	if base <= 0 {
		base = p.BackoffInitial
	}
	d := base/2 + time.Duration(u*float64(base/2))
	if retryAfter > p.BackoffLong {
		retryAfter = p.BackoffLong
	}
	if d < retryAfter {
		d = retryAfter
	}
	return d
}

// retryAt returns when to retry, waiting d from now; when bound is set (a
// renewal while the token is still valid) the retry happens no later than
// the deadline, where the expired path takes over.
func retryAt(now, deadline time.Time, d time.Duration, bound bool) time.Time {
	at := now.Add(d)
	if bound && at.After(deadline) && deadline.After(now) {
		at = deadline
	}
	return at
}

// jitterUnit returns a number in [0, 1) that depends only on its arguments:
// the engine seed, the session's user ID, the channel ("" for the login
// key) and a counter (generation or attempt). Jitter derived this way does
// not depend on the order in which goroutines run.
func jitterUnit(seed int64, user, channel string, n uint64) float64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	mix := func(b byte) { h ^= uint64(b); h *= prime }
	for i := 0; i < 8; i++ {
		mix(byte(uint64(seed) >> (8 * i)))
	}
	for i := 0; i < len(user); i++ {
		mix(user[i])
	}
	mix(0xff)
	for i := 0; i < len(channel); i++ {
		mix(channel[i])
	}
	mix(0xfe)
	for i := 0; i < 8; i++ {
		mix(byte(n >> (8 * i)))
	}
	// Finalize (splitmix64) so nearby inputs spread over the range.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return float64(h>>11) / (1 << 53)
}
