package signaling

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrorCode is an RTM 2.x error code (RTM_ERROR_CODE), as reported in the
// SDK's result callbacks (onLoginResult, onRenewTokenResult, onJoinResult).
type ErrorCode int

// Error codes with the SDK's numeric values. Only the codes that matter for
// tokens and sessions are named; any other code is still carried as a number.
const (
	CodeOK                            ErrorCode = 0
	CodeNotInitialized                ErrorCode = -10001
	CodeNotLogin                      ErrorCode = -10002
	CodeInvalidAppID                  ErrorCode = -10003
	CodeInvalidToken                  ErrorCode = -10005
	CodeInvalidUserID                 ErrorCode = -10006
	CodeInvalidChannelName            ErrorCode = -10008
	CodeTokenExpired                  ErrorCode = -10009
	CodeLoginNoServerResources        ErrorCode = -10010
	CodeLoginTimeout                  ErrorCode = -10011
	CodeLoginRejected                 ErrorCode = -10012
	CodeLoginAborted                  ErrorCode = -10013
	CodeInvalidParameter              ErrorCode = -10014
	CodeLoginNotAuthorized            ErrorCode = -10015
	CodeInconsistentAppID             ErrorCode = -10016
	CodeDuplicateOperation            ErrorCode = -10017
	CodeInstanceAlreadyReleased       ErrorCode = -10018
	CodeOperationRateExceedLimitation ErrorCode = -10021
	CodeLoginCanceled                 ErrorCode = -10023
	CodeNotConnected                  ErrorCode = -10025
	CodeRenewTokenTimeout             ErrorCode = -10026
	CodeDuplicateUserID               ErrorCode = -10027
	CodeChannelNotJoined              ErrorCode = -11001
	CodeChannelJoinFailed             ErrorCode = -11007
	CodeChannelSubscribeTooFrequent   ErrorCode = -11020
)

var codeNames = map[ErrorCode]string{
	CodeOK:                            "OK",
	CodeNotInitialized:                "NOT_INITIALIZED",
	CodeNotLogin:                      "NOT_LOGIN",
	CodeInvalidAppID:                  "INVALID_APP_ID",
	CodeInvalidToken:                  "INVALID_TOKEN",
	CodeInvalidUserID:                 "INVALID_USER_ID",
	CodeInvalidChannelName:            "INVALID_CHANNEL_NAME",
	CodeTokenExpired:                  "TOKEN_EXPIRED",
	CodeLoginNoServerResources:        "LOGIN_NO_SERVER_RESOURCES",
	CodeLoginTimeout:                  "LOGIN_TIMEOUT",
	CodeLoginRejected:                 "LOGIN_REJECTED",
	CodeLoginAborted:                  "LOGIN_ABORTED",
	CodeInvalidParameter:              "INVALID_PARAMETER",
	CodeLoginNotAuthorized:            "LOGIN_NOT_AUTHORIZED",
	CodeInconsistentAppID:             "INCONSISTENT_APPID",
	CodeDuplicateOperation:            "DUPLICATE_OPERATION",
	CodeInstanceAlreadyReleased:       "INSTANCE_ALREADY_RELEASED",
	CodeOperationRateExceedLimitation: "OPERATION_RATE_EXCEED_LIMITATION",
	CodeLoginCanceled:                 "LOGIN_CANCELED",
	CodeNotConnected:                  "NOT_CONNECTED",
	CodeRenewTokenTimeout:             "RENEW_TOKEN_TIMEOUT",
	CodeDuplicateUserID:               "DUPLICATE_USER_ID",
	CodeChannelNotJoined:              "CHANNEL_NOT_JOINED",
	CodeChannelJoinFailed:             "CHANNEL_JOIN_FAILED",
	CodeChannelSubscribeTooFrequent:   "CHANNEL_SUBSCRIBE_TOO_FREQUENT",
}

// String returns the SDK's name for c, or its number when unnamed.
func (c ErrorCode) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return "ErrorCode(" + strconv.Itoa(int(c)) + ")"
}

// Error is a failed SDK call: the operation, the channel it concerned (empty
// for the login token) and the SDK's error code. Adapters return it from the
// [SDK] and [StreamSDK] methods so the renewal engine can decide by code.
type Error struct {
	Op      string // "login", "logout", "renewToken", "join", "renewStreamToken", "leave"
	Channel string
	Code    ErrorCode
}

// Error formats e as "signaling: OP [channel CH]: NAME (CODE)".
func (e *Error) Error() string {
	ch := ""
	if e.Channel != "" {
		ch = " channel " + strconv.Quote(e.Channel)
	}
	return fmt.Sprintf("signaling: %s%s: %s (%d)", e.Op, ch, e.Code, int(e.Code))
}

// Is reports whether target is an *Error with the same code, so
// errors.Is(err, &signaling.Error{Code: signaling.CodeTokenExpired}) works
// regardless of operation and channel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// CodeOf returns the SDK error code carried by err, if any.
func CodeOf(err error) (ErrorCode, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, true
	}
	return 0, false
}
