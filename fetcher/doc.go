// Package fetcher gets tokens from an application's token server.
//
// A [Request] names the token (an RTM login token for a user ID, or an RTC
// token for a stream channel and user), a [Fetcher] returns a checked
// [Token], and failures are *[Error] values classified as [Retryable] or
// [Permanent].
package fetcher
