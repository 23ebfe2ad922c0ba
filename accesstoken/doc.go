// Package accesstoken reads, verifies and mints Agora tokens: AccessToken2
// ("007…") and the legacy AccessToken ("006…").
//
// It imports only the standard library and its functions are pure: none
// reads the clock or a random source, and all are safe for concurrent use.
//
// # Reading a token without the certificate
//
// [Parse] decodes a token a client received from its token server: the app
// ID, issue time, lifetime, salt and every service with its privileges.
// Times in a 007 token are relative to its issue time; [Token.ExpiresAt] and
// [Token.PrivilegeExpiresAt] turn them into absolute deadlines. Parse is
// lenient about the text (whitespace, URL-safe or unpadded base64, any zlib
// stream) and strict about the structure: every short field is an error
// wrapping [ErrMalformed], usually a *[ParseError] naming the field. A token
// with a service type this package does not know is returned with the
// services before it and [Token.Complete] false.
//
// # Verifying and minting
//
// [Token.Verify] checks a 007 signature against the app certificate over the
// bytes exactly as received, in constant time. [Build] mints a 007 token
// byte-identical to Agora's official Go builder for the same issue time and
// salt; [RTCService] and [RTMService] build the common service records.
// [Token.VerifyLegacy] and [BuildLegacy] do the same for 006 tokens, whose
// signature also covers the channel name and uid.
//
// A parsed [Token] prints (fmt's %v, %+v, %#v) as its version, app, times
// and services, never its signature: with the signed bytes it would be the
// token itself.
//
// # Performance
//
// Parse decodes standard base64 straight from the token string, inflates
// with a small DEFLATE decoder of its own (it accepts exactly what
// compress/zlib accepts, which the tests and fuzz targets check; in blocks
// with the fixed code it decodes runs of literals without waiting on table
// loads), and keeps the payload in the same block of memory as the Token,
// slicing every string field out of it: a token with one service costs one
// allocation and about half a microsecond. Build compresses with an encoder
// of its own that writes exactly compress/zlib's default-level bytes (and
// hands larger payloads to compress/zlib), so that its output stays
// byte-identical to the official Go builder's; it allocates only the token
// string. BENCHMARKS.md has the measurements.
package accesstoken
