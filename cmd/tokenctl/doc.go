// Command tokenctl decodes, verifies, mints and fetches Agora tokens, serves
// development tokens, and runs the tokenkeeper test harness at scale.
//
// Usage:
//
//	tokenctl decode [--json] TOKEN
//	tokenctl verify --cert CERT TOKEN
//	tokenctl mint --app-id ID --cert CERT (--user USER | --channel CH (--uid N | --account S) [--role publisher|subscriber])
//	              [--expire SECONDS] [--issue-ts UNIX] [--salt N]
//	tokenctl fetch --server URL [--preset NAME] (--user USER | --channel CH (--uid N | --account S) [--role publisher|subscriber])
//	              [--app-id ID] [--expire SECONDS] [--header 'K: V']... [--json] [--retries N] [--insecure-http]
//	tokenctl serve [--addr 127.0.0.1:8080] [--app-id ID] [--cert CERT] [--allow-remote]
//	tokenctl simulate --sessions N --channels K --days D --ttl T [--faults none|flaky|outage|chaos] [--seed S] [--json]
//	tokenctl help [COMMAND]
//
// 'tokenctl help COMMAND' prints a command's flags. The commands, their
// output and their exit statuses are a public contract that changes only
// compatibly.
//
// # Conventions
//
// A TOKEN argument of "-" reads the token from standard input (at most 1 MiB,
// surrounding whitespace trimmed). Flags are written --flag or -flag and may
// come before or after the arguments; "--" ends the flags. --app-id and
// --cert default to the APP_ID and APP_CERTIFICATE environment variables,
// which keeps the certificate out of the shell history.
//
// Every error is one line on standard error starting with "tokenctl: ".
// The exit status is 0 on success, 1 when the operation failed (a malformed
// token, an invalid signature, a failed fetch) and 2 for bad usage. tokenctl
// never prints a certificate, and decode never prints the token or its
// signature.
//
// # Commands
//
// decode reads a 007 (AccessToken2) or 006 (AccessToken) token without the
// certificate. Without --json it prints a summary: app ID, issue time,
// expiry with the time left, and each service with its channel or user and
// its privileges by name. With --json it prints one JSON object with the
// fields exactly as stored (privilege values of 007 tokens are seconds after
// issueTs, those of 006 tokens absolute unix times).
//
// verify checks the signature with the app certificate and prints "valid",
// or fails with "tokenctl: invalid signature". A 006 signature also covers
// the channel name and uid, which the token holds only as CRC-32 values:
// pass them with --channel and --uid (or --account).
//
// mint builds an AccessToken2: an RTM login token (--user) or an RTC token
// (--channel with --uid or --account; a publisher gets privileges 1-4, a
// subscriber privilege 1). Every privilege lasts --expire seconds (default
// 3600). With --issue-ts and --salt given the output is byte-identical to
// Agora's official Go builder for the same inputs.
//
// fetch asks a token server for a token, the way package fetcher does
// (presets agora-token-service, the default, with POST /getToken;
// agora-token-service-get with the legacy GET routes; agora-docs-sample),
// and checks it: it must decode, and name the requested user or channel and
// uid, and the app of --app-id ($APP_ID) when given. Transient failures
// (5xx, 429, timeouts, refused connections) are retried --retries times
// (default 2) with backoff. It prints the raw token, or with --json an
// object with the token, its expiry and its decoded fields. --header values
// (an Origin, an Authorization) are never echoed, even in errors. Plain
// http is allowed to loopback hosts only, unless --insecure-http.
//
// serve runs a development token server (mock.TokenServer) that speaks every
// preset's routes and mints real 007 tokens with --app-id and --cert
// ($APP_ID, $APP_CERTIFICATE; placeholder credentials, with a warning, when
// absent). It listens on loopback only unless --allow-remote, prints
// "listening on http://ADDR" once it accepts connections, logs one line per
// request (method, path, status, duration; never a query, header, body or
// token) to standard error, and shuts down gracefully on SIGINT or SIGTERM.
//
// simulate runs the mock harness (mock.Harness) at scale: --sessions
// sessions, each logged in with --channels stream channels, for --days
// simulated days with tokens of lifetime --ttl, against the mock token server
// and the mock Signaling SDK on a mock clock, with the fault profile of
// --faults. It prints a summary, or with --json one object with at least
// sessions, simulatedSeconds, fetches, renewals, relogins, rejoins,
// willExpireSignals, expiredTokenUses, maxLoggedOutSeconds and wallSeconds.
// The same --seed gives the same summary, wallSeconds aside.
//
// # Adding a command
//
// A command lives in its own file and registers itself from init() with
// register(&command{...}). Its run function must parse its flags first with
// newFlagSet and parseFlags (so 'tokenctl help NAME' can run it with -h),
// return usagef(...) for bad usage, and may use readTokenArg and writeJSON.
package main
