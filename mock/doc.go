// Package mock is tokenkeeper's test kit: fakes of everything a token
// client talks to, driven by an injectable clock so that days of token life
// pass in milliseconds.
//
// # Token server
//
// [TokenServer] is an http.Handler that speaks the routes of the token
// servers people deploy (AgoraIO-Community/agora-token-service: POST
// /getToken and the GET /rtm, /rtc, /rte, /chat routes; the sample servers
// of Agora's documentation: POST /fetch_rtm_token and /fetch_rtc_token),
// with their response and error shapes and quirks, and mints real
// AccessToken2 tokens on its clock with the placeholder credentials
// [DefaultAppID] and [DefaultCertificate] unless told otherwise.
//
// Faults are scripted per request ([TokenServer.FailNext],
// [TokenServer.RateLimitNext], [TokenServer.BodyNext],
// [TokenServer.WrongUserNext], [TokenServer.ExpiredNext],
// [TokenServer.ResetNext], or any [Fault] with [TokenServer.Inject]), or
// set for all requests ([TokenServer.Outage], [TokenServer.SetLatency]).
// [TokenServer.Stats] tells what it served.
//
// Reach it in memory with [TokenServer.Transport] or [TokenServer.Client]
// and the base URL [TokenServerURL] (no sockets, so it works inside
// testing/synctest bubbles), or over real HTTP with net/http/httptest.
// [NewHandlerTransport] serves any other handler in memory the same way.
//
// # Signaling
//
// [Signaling] is a fake Signaling (RTM 2.x) SDK that checks each token it
// is given and fires the will-expire and link-state events the real SDK
// fires, on its clock.
//
// # Harness
//
// [Harness] wires the two together with a tokenclient.Client per session on
// one renewal engine, all on a [HarnessClock] (a clock.Clock whose timers
// live on a benbjohnson clock.Mock that is moved only when a timer is due,
// so a simulated step costs no real time): [NewHarness] with a
// [HarnessConfig] (sessions, stream channels, token lifetime, policy, seed),
// then [Harness.Start], [Harness.Advance] to step simulated time
// deterministically (to each due instant, waiting until the whole system is
// idle, never sleeping on the real clock), and [Harness.Summary],
// [Harness.Check] and [Harness.Timeline] to assert on what happened. Each
// [HarnessSession] exposes its fake SDK and its client, for scripting
// faults between Advance calls. The same seed and the same calls give the
// same run; tokenctl simulate is this harness at scale. A [LogBuffer]
// collects what its loggers write, for a test to search.
package mock
