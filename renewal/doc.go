// Package renewal is tokenkeeper's renewal engine: it keeps the login (RTM)
// token and the stream-channel (RTC) tokens of any number of Signaling
// sessions renewed, and recovers when a token expires anyway.
//
// Most applications use package tokenclient, which wraps one [Session] on a
// private [Engine]. Use this package directly to run many sessions on one
// engine, or to drive the engine from a test harness.
//
// # Keys, deadlines and renewal times
//
// A key is the login of a session or one joined stream channel. Each key
// holds its current token, its deadline (fetcher.Token.Deadline: local
// receipt time + lifetime, capped by the token's own expiry), the time of
// its next renewal, the operation in flight, and a generation number.
//
// A token obtained by a renewal is renewed at deadline − lead, lead =
// max(Policy.MinLead, Policy.LeadFraction × lifetime), moved earlier by a
// deterministic jitter of up to Policy.JitterFraction × lead, and never
// later than [SafetyLead] (60 s) before the deadline, so the SDK's 30 s
// will-expire warning and the FAILED/TOKEN_EXPIRED event stay backstops.
// With the defaults a 1 h token is renewed 12–13.2 min before its deadline,
// a 24 h token 4.8–5.3 h before.
//
// The first renewal of a token obtained by a login, a join, a relogin or a
// rejoin comes earlier by default ([FirstRenewalSpread]): it is drawn
// uniformly between one second after receipt and that usual time, so keys
// that got their tokens together (a fleet starting at once, a relogin storm
// after a token-server outage) renew spread over one period instead of in a
// burst one period later. A 1 h token from a login is thus renewed between
// 12 min and 59 min 59 s before its deadline, and every later token 12–13.2
// min before. Policy.FirstRenewal = [FirstRenewalAtLead] renews the first
// token at the usual time too.
//
// # What the engine does
//
// Signals come from the SDK's callbacks through [Session.WillExpire] and
// [Session.LinkState], never block, and are handled in order by the
// scheduler. [Decide], a pure function, maps a signal and the key's
// situation to an [Action]:
//
//   - proactive timer or WillExpire, link CONNECTED: fetch a fresh token and
//     call SDK.RenewToken (login) or StreamSDK.RenewStreamToken (channel);
//   - FAILED with INVALID_TOKEN/TOKEN_EXPIRED on the message link: Logout →
//     fetch → Login → rejoin every stream channel → SessionRestorer;
//   - the same on a stream channel: fetch → JoinStream for that channel;
//   - a failed renewal while the token is valid: retry with capped, jittered
//     exponential backoff, bounded by the deadline; token codes escalate
//     (TOKEN_EXPIRED → relogin, INVALID_TOKEN → one forced refetch, then
//     relogin), NOT_CONNECTED waits for CONNECTED;
//   - a token server that is down: keep the current token, report every
//     failure with its class and retry-in, honour Retry-After, and once the
//     deadline passes take the relogin (or rejoin) path, retrying at most
//     Policy.BackoffMax apart; permanent errors and rate limits retry after
//     Policy.BackoffLong, forever, so operators can fix the cause;
//   - kicks (SAME_UID_LOGIN, KICKED_OUT_BY_SERVER, LOGIN_REJECTED) and fatal
//     configuration errors: report and stop the key ([EventKicked],
//     [EventGaveUp]); [Session.RenewNow] resumes it; Policy.ReloginOnKick
//     relogs automatically.
//
// One operation runs per key at a time; signals that arrive meanwhile join
// it. Every operation start bumps the key's generation and a result is
// applied only if its generation is still current, so a FAILED arriving
// during a renewal supersedes it (its result is dropped and the relogin
// runs once it has returned). The SDK is never asked to renew with the
// token already in use. Login, logout and renew of a session never overlap;
// stream renewals run concurrently with each other but not with a relogin.
//
// # Scheduling and time
//
// One scheduler goroutine keeps a min-heap of due times (ties broken by
// insertion order) and sleeps on one timer of the configured clock; a
// bounded pool of Config.Workers goroutines runs fetches and SDK calls. An
// engine costs 1 + Workers goroutines whatever the number of sessions and
// about 270 bytes per key. Workers never sleep: retries go back to the heap.
//
// Every wait goes through Config.Clock (github.com/benbjohnson/clock);
// fetches and SDK calls have their own timeouts (Policy.FetchTimeout,
// Policy.HookTimeout) on contexts derived from the engine's, never the
// caller's. Due times and deadlines are wall-clock times, compared with the
// wall clock on every wake; a watchdog (Config.WatchdogInterval) wakes the
// scheduler at least once a minute to notice a suspend (Go timers pause while
// the machine sleeps) or a wall-clock jump: what is due then runs at once,
// and a backward jump shifts every due time and deadline back by the same
// amount, so the engine neither loops nor sleeps past a deadline.
//
// # Hooks
//
// The SDK adapter's methods and the fetcher are called from worker
// goroutines with a context that ends at their timeout or at Close. They
// MUST honour it: a call that ignores its context keeps its worker until it
// returns ([EventHookTimeout] reports it while it hangs, and
// Stats.HookTimeouts counts it). A panicking call is recovered and counts as
// a failure ([EventHookPanic]).
//
// # Observability
//
// Typed [Event] values go to SessionConfig.OnEvent (in order, from engine
// goroutines; it must not block) and to Config.Logger (log/slog). Tokens are
// never logged, and errors that would contain one are redacted.
// [Session.State] returns a [KeyState] per key for health checks.
//
// # Test harnesses
//
// [Engine.Activity] tells a harness driving a clock.Mock when the engine is
// idle and when it will act next, so time can be stepped deterministically
// without sleeping. With Workers = 1 and a fixed Seed a run is reproducible.
package renewal
