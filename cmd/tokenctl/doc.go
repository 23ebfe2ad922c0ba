// Command tokenctl decodes, verifies, mints and fetches Agora tokens, and
// runs the tokenkeeper test harness at scale.
//
// Usage:
//
//	tokenctl decode [--json] TOKEN
//	tokenctl verify --cert CERT TOKEN
//	tokenctl mint --app-id ID --cert CERT (--user USER | --channel CH (--uid N | --account S) [--role publisher|subscriber])
//	              [--expire SECONDS] [--issue-ts UNIX] [--salt N]
//	tokenctl help [COMMAND]
//
// Further commands (fetch, serve, simulate) are described in
// spec/tokenctl.md; 'tokenctl help' lists the ones built in.
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
// # Adding a command
//
// A command lives in its own file and registers itself from init() with
// register(&command{...}). Its run function must parse its flags first with
// newFlagSet and parseFlags (so 'tokenctl help NAME' can run it with -h),
// return usagef(...) for bad usage, and may use readTokenArg and writeJSON.
package main
