package main

// This file describes the Signaling SDK binding the bot is written
// against, in the shape of the Go server SDK's agorartm package
// (AgoraIO-Extensions/Agora-Golang-Server-SDK, go_sdk/rtm): calls return at
// once with a wrapper status and a request ID, and the outcome arrives later
// in a callback of the event handler. With the real SDK, delete this file
// and standin.go, and use agorartm's types in adapter.go: the names and
// signatures below follow it.

// rtmClient is the part of agorartm.IRtmClient the bot uses.
type rtmClient interface {
	// Login starts a login. ret is the wrapper's own check (0, or a local
	// error such as "already logged in"); the outcome arrives in
	// OnLoginResult with the same requestID.
	Login(token string) (ret int, requestID uint64)
	// Logout starts a logout; the outcome arrives in OnLogoutResult.
	Logout() (ret int, requestID uint64)
	// RenewToken starts a renewal of the login token; the outcome arrives in
	// OnRenewTokenResult with serverType 1 (MESSAGE).
	RenewToken(token string) (ret int, requestID uint64)
	// CreateStreamChannel returns a handle for a stream channel.
	CreateStreamChannel(name string) streamChannel
}

// streamChannel is the part of agorartm.IStreamChannel the bot uses.
type streamChannel interface {
	// Join starts joining with an RTC token and writes the request ID; the
	// outcome arrives in OnJoinResult. The Go wrapper always returns 0.
	Join(opts *joinChannelOptions, requestID *uint64) int
	// RenewToken starts a renewal of the channel's RTC token. The Go
	// wrapper drops the request ID: the outcome arrives in
	// OnRenewTokenResult with serverType 2 (STREAM) and the channel name.
	RenewToken(token string) int
	// Leave starts leaving; the outcome arrives in OnLeaveResult.
	Leave(requestID *uint64) int
}

// joinChannelOptions mirrors agorartm.JoinChannelOptions.
type joinChannelOptions struct {
	Token                                         string
	WithMetadata, WithPresence, WithLock, BeQuiet bool
}

// Service types of OnRenewTokenResult and of link-state events.
const (
	serviceMessage = 1
	serviceStream  = 2
)

// rtmEventHandler mirrors agorartm.RtmEventHandler: a struct of callbacks
// the SDK calls on its own threads. None of them may block.
type rtmEventHandler struct {
	OnLoginResult              func(requestID uint64, errorCode int)
	OnLogoutResult             func(requestID uint64, errorCode int)
	OnRenewTokenResult         func(requestID uint64, serverType int, channelName string, errorCode int)
	OnJoinResult               func(requestID uint64, channelName, userID string, errorCode int)
	OnLeaveResult              func(requestID uint64, channelName, userID string, errorCode int)
	OnTokenPrivilegeWillExpire func(channelName string)
	OnLinkStateEvent           func(event *rtmLinkStateEvent)
}

// rtmLinkStateEvent mirrors agorartm.LinkStateEvent: plain integers with
// the SDK's enum values.
type rtmLinkStateEvent struct {
	CurrentState, PreviousState int
	ServiceType                 int
	Operation                   int
	ReasonCode                  int
	Reason                      string
	AffectedChannels            []string
	UnrestoredChannels          []string
	IsResumed                   bool
	Timestamp                   uint64
}
