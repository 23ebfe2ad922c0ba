package signaling

import (
	"fmt"
	"slices"
)

// LinkStateEvent is the payload of the SDK's link-state callback
// (onLinkStateEvent / OnLinkStateEvent / the JS "linkState" event), field for
// field.
//
// Adapters for native SDKs must copy the channel lists before the callback
// returns; the SDK owns that memory.
type LinkStateEvent struct {
	Current            LinkState
	Previous           LinkState
	Service            ServiceType
	Operation          LinkOperation
	ReasonCode         Reason
	Reason             string // free text; never used for decisions
	AffectedChannels   []string
	UnrestoredChannels []string
	IsResumed          bool
	Timestamp          uint64 // RTM server time, UTC milliseconds
}

// Clone returns a deep copy of e, so the caller may keep it after the SDK
// reuses its buffers.
func (e LinkStateEvent) Clone() LinkStateEvent {
	e.AffectedChannels = slices.Clone(e.AffectedChannels)
	e.UnrestoredChannels = slices.Clone(e.UnrestoredChannels)
	return e
}

// TokenRejected reports whether e says the server rejected a token: the link
// is FAILED with reason INVALID_TOKEN or TOKEN_EXPIRED.
func (e LinkStateEvent) TokenRejected() bool {
	return e.Current == LinkFailed && e.ReasonCode.Class() == ClassToken
}

// String formats e for logs: states, service, operation and reason by name.
func (e LinkStateEvent) String() string {
	return fmt.Sprintf("link %s→%s service=%s op=%s reason=%s(%d) affected=%v",
		e.Previous, e.Current, e.Service, e.Operation, e.ReasonCode, int(e.ReasonCode), e.AffectedChannels)
}
