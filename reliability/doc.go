// Package reliability holds tokenkeeper's reliability and security tests;
// it has no exported API and nothing imports it.
//
// The tests drive the whole library (tokenclient, renewal, fetcher,
// accesstoken) against the test kit in package mock and check the
// promises of the design:
//
//   - The fault matrix (TestFaultMatrix) throws one fault at a time at a
//     session on the mock Harness — token-server outages, slow, broken and
//     hostile answers, rate limits, failing, hanging and panicking SDK hooks,
//     kicks, clock jumps and suspends — and asserts that no expired token is
//     ever used and that, once the fault clears, the session is logged in
//     and joined again within one backoff step. Each row is a subtest; run
//     with -update it rewrites the observed column of RELIABILITY.md.
//   - The security tests run a simulated week with every logger at debug
//     level and fail if a minted token or the app certificate (or any 16
//     characters of either) appears in any log line, event, error, timeline
//     entry or summary; they also check the response-size caps, TLS
//     verification, the refusal of plain HTTP to remote hosts, and that the
//     client side never needs the app certificate.
//
// Every scenario runs inside a testing/synctest bubble, so the mock
// clock's real sleeps cost nothing and a simulated day takes milliseconds.
// See RELIABILITY.md at the repository root for the results and how to
// reproduce them.
package reliability
