// Package fetcher gets tokens from an application's token server.
//
// A [Request] names the token (an RTM login token for a user ID, or an RTC
// token for a stream channel and user), a [Fetcher] returns a checked
// [Token], and failures are *[Error] values classified as [Retryable] or
// [Permanent].
//
// # The HTTP fetcher
//
// [NewHTTP] returns a Fetcher for a token server reached over HTTP(S),
// built on github.com/hashicorp/go-retryablehttp. A [Preset] says how to
// talk to the server: [PresetAgoraTokenService] (the default: POST /getToken
// of AgoraIO-Community/agora-token-service), [PresetAgoraTokenServiceGET]
// (its legacy GET routes), [PresetDocsSample] (the sample servers of Agora's
// documentation) or [Custom] for anything else.
//
// # Checks
//
// Every answer is checked before a token is returned: the HTTP status
// (2xx only), the body size (at most [MaxResponseSize]), that the body is
// JSON with the token field a string starting "006" or "007", that the token
// decodes (github.com/tokenkeeper/tokenkeeper/accesstoken, no certificate
// needed), that it names the app given with [WithAppID], the requested RTM
// user or RTC channel and user, and grants the privilege the request needs
// (RTM login; RTC join, plus publish for a publisher), and that it has not
// expired on arrival. Requests a server would silently turn into a token for
// someone else (an RTC account such as "0001" sent to POST /getToken) are
// refused before sending, with [ErrInvalidRequest].
//
// [Token.ExpiresAt] is the token's own deadline: issue time + lifetime,
// bounded by the deadline of the privilege the request needs and by an
// expiry the server sent next to the token (custom templates). Renew by
// [Token.Deadline], which also guards against a server clock that runs
// ahead.
//
// # Errors and retries
//
// Errors wrap one sentinel ([ErrStatus], [ErrTransport], [ErrBadResponse],
// …) and carry a [Class]: 5xx, 408, 429, timeouts, refused and reset
// connections are retryable, and so is a token that arrives already expired
// (a later fetch may bring a fresh one); 400, 401, 403, 404, malformed
// answers and tokens for the wrong app, user or channel are permanent. A few
// retryable failures are retried within the request (see [WithRetry]); a
// Retry-After longer than the longest in-request wait ends the fetch and is
// reported in [Error.RetryAfter], so the caller's scheduler can honour it.
// Error texts never contain a token: server text is sanitized, truncated
// and stripped of anything that looks like one.
//
// # Secrets
//
// Tokens, header values (an Authorization, say) and bodies are never
// logged nor put in errors, and a [Token] formats itself (fmt's %v, log/slog)
// with its Raw field redacted by [Redact], while an [HTTP] fetcher prints
// as its preset and server URL only. Plain http is refused except to
// loopback hosts, for server URLs and redirects alike, and headers set with
// [WithHeader] or a template do not follow a redirect to another host.
//
// # Concurrency
//
// Concurrent Fetch calls for identical requests (equal [Request.Key]) share
// one round trip and its outcome, success or failure; different requests
// never wait on each other. A caller whose context ends returns at once
// with an error wrapping ctx.Err(), without cancelling the round trip that
// other callers still wait for; the shared round trip is bounded by
// [WithTimeout] and cancelled when its last caller has gone.
package fetcher
