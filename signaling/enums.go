package signaling

import "strconv"

// LinkState is the state of the Signaling link (RTM_LINK_STATE).
type LinkState int

// Link states with the SDK's numeric values.
const (
	LinkIdle         LinkState = 0 // not logged in
	LinkConnecting   LinkState = 1
	LinkConnected    LinkState = 2
	LinkDisconnected LinkState = 3 // the SDK reconnects by itself for about 2 minutes
	LinkSuspended    LinkState = 4 // the SDK retries every 30 s; the app may log in again
	LinkFailed       LinkState = 5 // unrecoverable; the app decides by the reason code
)

var linkStateNames = [...]string{"IDLE", "CONNECTING", "CONNECTED", "DISCONNECTED", "SUSPENDED", "FAILED"}

// String returns the SDK's name for s, or a number for an unknown value.
func (s LinkState) String() string { return enumName(linkStateNames[:], int(s), "LinkState") }

// ServiceType names the Signaling service an event or token belongs to
// (RTM_SERVICE_TYPE).
type ServiceType int

// Service types with the SDK's numeric values.
const (
	ServiceNone    ServiceType = 0
	ServiceMessage ServiceType = 1 // the login (RTM) token and message channels
	ServiceStream  ServiceType = 2 // stream channels, each with its own RTC token
)

var serviceTypeNames = [...]string{"NONE", "MESSAGE", "STREAM"}

// String returns the SDK's name for t.
func (t ServiceType) String() string { return enumName(serviceTypeNames[:], int(t), "ServiceType") }

// LinkOperation is the operation that caused a link-state change
// (RTM_LINK_OPERATION).
type LinkOperation int

// Link operations with the SDK's numeric values.
const (
	OpLogin         LinkOperation = 0
	OpLogout        LinkOperation = 1
	OpJoin          LinkOperation = 2
	OpLeave         LinkOperation = 3
	OpServerReject  LinkOperation = 4
	OpAutoReconnect LinkOperation = 5
	OpReconnected   LinkOperation = 6
	OpHeartbeatLost LinkOperation = 7 // HEARTBEAT_TIMEOUT in the JS SDK
	OpServerTimeout LinkOperation = 8
	OpNetworkChange LinkOperation = 9
)

var linkOperationNames = [...]string{"LOGIN", "LOGOUT", "JOIN", "LEAVE", "SERVER_REJECT",
	"AUTO_RECONNECT", "RECONNECTED", "HEARTBEAT_LOST", "SERVER_TIMEOUT", "NETWORK_CHANGE"}

// String returns the SDK's name for o.
func (o LinkOperation) String() string {
	return enumName(linkOperationNames[:], int(o), "LinkOperation")
}

// Reason is the reason code of a link-state change
// (RTM_LINK_STATE_CHANGE_REASON).
type Reason int

// Link-state change reasons with the SDK's numeric values.
const (
	ReasonUnknown                         Reason = 0
	ReasonLogin                           Reason = 1
	ReasonLoginSuccess                    Reason = 2
	ReasonLoginTimeout                    Reason = 3
	ReasonLoginNotAuthorized              Reason = 4
	ReasonLoginRejected                   Reason = 5
	ReasonRelogin                         Reason = 6
	ReasonLogout                          Reason = 7
	ReasonAutoReconnect                   Reason = 8
	ReasonReconnectTimeout                Reason = 9
	ReasonReconnectSuccess                Reason = 10
	ReasonJoin                            Reason = 11
	ReasonJoinSuccess                     Reason = 12
	ReasonJoinFailed                      Reason = 13
	ReasonRejoin                          Reason = 14
	ReasonLeave                           Reason = 15
	ReasonInvalidToken                    Reason = 16
	ReasonTokenExpired                    Reason = 17
	ReasonInconsistentAppID               Reason = 18
	ReasonInvalidChannelName              Reason = 19
	ReasonInvalidUserID                   Reason = 20
	ReasonNotInitialized                  Reason = 21
	ReasonRTMServiceNotConnected          Reason = 22
	ReasonChannelInstanceExceedLimitation Reason = 23
	ReasonOperationRateExceedLimitation   Reason = 24
	ReasonChannelInErrorState             Reason = 25
	ReasonPresenceNotConnected            Reason = 26
	ReasonSameUIDLogin                    Reason = 27
	ReasonKickedOutByServer               Reason = 28
	ReasonKeepAliveTimeout                Reason = 29
	ReasonConnectionError                 Reason = 30
	ReasonPresenceNotReady                Reason = 31
	ReasonNetworkChange                   Reason = 32
	ReasonServiceNotSupported             Reason = 33
	ReasonStreamChannelNotAvailable       Reason = 34
	ReasonStorageNotAvailable             Reason = 35
	ReasonLockNotAvailable                Reason = 36
	ReasonLoginTooFrequent                Reason = 37
)

var reasonNames = [...]string{
	"UNKNOWN", "LOGIN", "LOGIN_SUCCESS", "LOGIN_TIMEOUT", "LOGIN_NOT_AUTHORIZED",
	"LOGIN_REJECTED", "RELOGIN", "LOGOUT", "AUTO_RECONNECT", "RECONNECT_TIMEOUT",
	"RECONNECT_SUCCESS", "JOIN", "JOIN_SUCCESS", "JOIN_FAILED", "REJOIN", "LEAVE",
	"INVALID_TOKEN", "TOKEN_EXPIRED", "INCONSISTENT_APP_ID", "INVALID_CHANNEL_NAME",
	"INVALID_USER_ID", "NOT_INITIALIZED", "RTM_SERVICE_NOT_CONNECTED",
	"CHANNEL_INSTANCE_EXCEED_LIMITATION", "OPERATION_RATE_EXCEED_LIMITATION",
	"CHANNEL_IN_ERROR_STATE", "PRESENCE_NOT_CONNECTED", "SAME_UID_LOGIN",
	"KICKED_OUT_BY_SERVER", "KEEP_ALIVE_TIMEOUT", "CONNECTION_ERROR",
	"PRESENCE_NOT_READY", "NETWORK_CHANGE", "SERVICE_NOT_SUPPORTED",
	"STREAM_CHANNEL_NOT_AVAILABLE", "STORAGE_NOT_AVAILABLE", "LOCK_NOT_AVAILABLE",
	"LOGIN_TOO_FREQUENT",
}

// String returns the SDK's name for r.
func (r Reason) String() string { return enumName(reasonNames[:], int(r), "Reason") }

// ReasonClass is how tokenkeeper treats a reason that comes with a FAILED link.
type ReasonClass int

// Reason classes.
const (
	ClassInfo        ReasonClass = iota // informational; nothing to do
	ClassTransient                      // the SDK recovers by itself
	ClassToken                          // the token is invalid or expired: fetch a fresh one
	ClassBackoff                        // rate limited or a failed join: wait, then retry
	ClassKick                           // another login or the server removed us: never auto-relogin by default
	ClassFatalConfig                    // wrong app ID, channel, user, or service not enabled: report
	ClassEscalate                       // unknown or unexpected: report
)

var reasonClassNames = [...]string{"info", "transient", "token", "backoff", "kick", "fatal-config", "escalate"}

// String returns a lower-case name for c.
func (c ReasonClass) String() string { return enumName(reasonClassNames[:], int(c), "ReasonClass") }

// Class reports how a FAILED link with reason r is handled (the "class" column
// of the SDK's reason table).
func (r Reason) Class() ReasonClass {
	switch r {
	case ReasonLogin, ReasonLoginSuccess, ReasonRelogin, ReasonLogout, ReasonReconnectSuccess,
		ReasonJoin, ReasonJoinSuccess, ReasonRejoin, ReasonLeave:
		return ClassInfo
	case ReasonLoginTimeout, ReasonAutoReconnect, ReasonReconnectTimeout, ReasonRTMServiceNotConnected,
		ReasonPresenceNotConnected, ReasonKeepAliveTimeout, ReasonPresenceNotReady, ReasonNetworkChange:
		return ClassTransient
	case ReasonInvalidToken, ReasonTokenExpired:
		return ClassToken
	case ReasonOperationRateExceedLimitation, ReasonLoginTooFrequent, ReasonConnectionError,
		ReasonChannelInErrorState, ReasonJoinFailed:
		return ClassBackoff
	case ReasonLoginRejected, ReasonSameUIDLogin, ReasonKickedOutByServer:
		return ClassKick
	case ReasonLoginNotAuthorized, ReasonInconsistentAppID, ReasonInvalidChannelName, ReasonInvalidUserID,
		ReasonNotInitialized, ReasonChannelInstanceExceedLimitation, ReasonServiceNotSupported,
		ReasonStreamChannelNotAvailable, ReasonStorageNotAvailable, ReasonLockNotAvailable:
		return ClassFatalConfig
	default:
		return ClassEscalate
	}
}

func enumName(names []string, v int, typ string) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(v) + ")"
}
