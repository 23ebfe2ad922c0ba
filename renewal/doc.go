// Package renewal is tokenkeeper's renewal engine: it keeps the login (RTM)
// token and the stream-channel (RTC) tokens of any number of Signaling
// sessions renewed, and recovers when a token expires anyway.
package renewal
