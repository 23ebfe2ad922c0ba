package renewal

import (
	"math"
	"strconv"
	"time"
)

// Policy defaults. A zero field of Policy takes the matching default.
const (
	DefaultMinLead        = 2 * time.Minute
	DefaultLeadFraction   = 0.2
	DefaultJitterFraction = 0.1
	DefaultMinTTL         = 2 * time.Minute
	DefaultHookTimeout    = 10 * time.Second
	DefaultFetchTimeout   = 15 * time.Second
	DefaultBackoffInitial = time.Second
	DefaultBackoffMax     = time.Minute
	DefaultBackoffLong    = 5 * time.Minute
)

// SafetyLead is the least time before a deadline at which the engine renews
// a token whose lifetime allows it (lifetime ≥ MinTTL): twice the SDK's 30 s
// will-expire warning, so proactive renewal always runs before the warning.
const SafetyLead = 60 * time.Second

// minRenewInterval is the floor between two proactive renewals of a key,
// whatever the token's lifetime, so a server handing out tiny lifetimes can
// never make the engine loop.
const minRenewInterval = time.Second

// Policy says when and how keys are renewed. It applies alike to the login
// token and every stream channel of a session. The zero value is valid: each
// zero field takes the default documented on it. Negative durations and
// fractions outside their ranges are refused by NewSession.
type Policy struct {
	// MinLead is the least time before the deadline at which a token is
	// renewed. Zero means DefaultMinLead (2 min); it must be at least
	// SafetyLead (60 s).
	MinLead time.Duration
	// LeadFraction is the share of a token's lifetime renewed ahead of the
	// deadline when that exceeds MinLead (0.2: a 1 h token is renewed 12 min
	// before its deadline, plus jitter; the first renewal after a login or a
	// join comes earlier, see FirstRenewal). Zero means DefaultLeadFraction;
	// at most 0.5.
	LeadFraction float64
	// JitterFraction is the largest extra lead, as a share of the lead,
	// added by the deterministic per-key jitter that spreads renewals of
	// many keys. Zero means DefaultJitterFraction (0.1); negative means no
	// jitter; at most 1.
	JitterFraction float64
	// MinTTL is the shortest token lifetime the engine can renew safely.
	// A shorter token is still used, renewed at half its lifetime, and
	// reported with EventTokenTooShort. Zero means DefaultMinTTL (2 min).
	MinTTL time.Duration
	// HookTimeout bounds each SDK call (Login, Logout, RenewToken,
	// JoinStream, RenewStreamToken, LeaveStream, RestoreSession). Zero means
	// DefaultHookTimeout (10 s).
	HookTimeout time.Duration
	// FetchTimeout bounds each token fetch. Zero means DefaultFetchTimeout
	// (15 s).
	FetchTimeout time.Duration
	// BackoffInitial is the first retry interval after a retryable failure.
	// Intervals double up to BackoffMax and are jittered down by up to one
	// half. Zero means DefaultBackoffInitial (1 s).
	BackoffInitial time.Duration
	// BackoffMax caps the retry interval of retryable failures, including
	// the retries of the relogin path after a deadline passed: once the
	// token server is back, recovery takes at most about BackoffMax. Zero
	// means DefaultBackoffMax (1 min).
	BackoffMax time.Duration
	// BackoffLong is the retry interval after permanent failures (a token
	// server answering 401/403, a refused fresh token) and rate limits
	// (LOGIN_TOO_FREQUENT, OPERATION_RATE_EXCEED_LIMITATION). Retries never
	// stop, so an operator can fix the configuration without a restart.
	// Zero means DefaultBackoffLong (5 min).
	BackoffLong time.Duration
	// ReloginOnKick makes the engine log in again (after a backoff) when the
	// server removes the session (SAME_UID_LOGIN, KICKED_OUT_BY_SERVER,
	// LOGIN_REJECTED). Off by default: two instances of one user would
	// otherwise kick each other forever.
	ReloginOnKick bool
	// LogoutOnClose makes Session.Close call SDK.Logout after stopping
	// renewal. Off by default.
	LogoutOnClose bool
	// FirstRenewal says when the first renewal of a token obtained by a
	// login, a join, a relogin or a rejoin (not by a renewal) happens. The
	// zero value, FirstRenewalSpread, draws it uniformly over one renewal
	// period; FirstRenewalAtLead renews it at the usual time. Later
	// renewals always keep their usual time.
	FirstRenewal FirstRenewalMode
}

// FirstRenewalMode is the value of Policy.FirstRenewal.
type FirstRenewalMode uint8

const (
	// FirstRenewalSpread, the default, draws the first renewal of a token
	// obtained by a login, a join, a relogin or a rejoin uniformly between
	// one second after its receipt and the usual renewal time, i.e. over
	// one renewal period. Keys that got their tokens together, such as a
	// fleet starting at once or a relogin storm after a token-server
	// outage, then renew evenly spread instead of in a burst one period
	// later: for 100k sessions logged in within one second the busiest
	// second of renewals is 1.9× the even rate instead of 42×
	// (BENCHMARKS.md). It costs about one extra fetch per two logins. A
	// token too short to renew safely (lifetime below MinTTL) keeps the
	// usual time; a drawn time that has passed by the time the login or
	// join call returns means renewing at once.
	FirstRenewalSpread FirstRenewalMode = iota
	// FirstRenewalAtLead renews the first token at the usual time, like
	// every later one: deadline − lead − jitter (12–13.2 min before the
	// deadline of a 1 h token with the defaults). For programs that start
	// few sessions and would rather not pay for the early first renewal.
	FirstRenewalAtLead
)

// String returns "spread" or "at-lead" (or the number, for an unknown mode).
func (m FirstRenewalMode) String() string {
	switch m {
	case FirstRenewalSpread:
		return "spread"
	case FirstRenewalAtLead:
		return "at-lead"
	}
	return "FirstRenewalMode(" + strconv.Itoa(int(m)) + ")"
}

// normalize fills defaults and validates p.
func (p Policy) normalize() (Policy, error) {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"MinLead", p.MinLead}, {"MinTTL", p.MinTTL}, {"HookTimeout", p.HookTimeout},
		{"FetchTimeout", p.FetchTimeout}, {"BackoffInitial", p.BackoffInitial},
		{"BackoffMax", p.BackoffMax}, {"BackoffLong", p.BackoffLong},
	} {
		if d.v < 0 {
			return p, configErr("Policy.%s is negative (%v)", d.name, d.v)
		}
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.MinLead, DefaultMinLead)
	def(&p.MinTTL, DefaultMinTTL)
	def(&p.HookTimeout, DefaultHookTimeout)
	def(&p.FetchTimeout, DefaultFetchTimeout)
	def(&p.BackoffInitial, DefaultBackoffInitial)
	def(&p.BackoffMax, DefaultBackoffMax)
	def(&p.BackoffLong, DefaultBackoffLong)
	if math.IsNaN(p.LeadFraction) || p.LeadFraction < 0 || p.LeadFraction > 0.5 {
		return p, configErr("Policy.LeadFraction %v is outside [0, 0.5]", p.LeadFraction)
	}
	if p.LeadFraction == 0 {
		p.LeadFraction = DefaultLeadFraction
	}
	if math.IsNaN(p.JitterFraction) || p.JitterFraction > 1 {
		return p, configErr("Policy.JitterFraction %v is above 1", p.JitterFraction)
	}
	switch {
	case p.JitterFraction == 0:
		p.JitterFraction = DefaultJitterFraction
	case p.JitterFraction < 0:
		p.JitterFraction = 0
	}
	if p.FirstRenewal > FirstRenewalAtLead {
		return p, configErr("Policy.FirstRenewal %v is unknown", p.FirstRenewal)
	}
	if p.MinLead < SafetyLead {
		return p, configErr("Policy.MinLead %v is below %v: renewal would race the SDK's 30 s warning", p.MinLead, SafetyLead)
	}
	if p.BackoffMax < p.BackoffInitial {
		return p, configErr("Policy.BackoffMax %v is below BackoffInitial %v", p.BackoffMax, p.BackoffInitial)
	}
	if p.BackoffLong < p.BackoffMax {
		return p, configErr("Policy.BackoffLong %v is below BackoffMax %v", p.BackoffLong, p.BackoffMax)
	}
	return p, nil
}
