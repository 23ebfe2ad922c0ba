package signaling

import (
	"errors"
	"fmt"
	"testing"
)

func TestEnumNamesMatchSDK(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{LinkFailed.String(), "FAILED"},
		{LinkState(5).String(), "FAILED"},
		{LinkState(9).String(), "LinkState(9)"},
		{ServiceStream.String(), "STREAM"},
		{OpServerReject.String(), "SERVER_REJECT"},
		{LinkOperation(4).String(), "SERVER_REJECT"},
		{ReasonInvalidToken.String(), "INVALID_TOKEN"},
		{Reason(16).String(), "INVALID_TOKEN"},
		{Reason(17).String(), "TOKEN_EXPIRED"},
		{Reason(27).String(), "SAME_UID_LOGIN"},
		{Reason(37).String(), "LOGIN_TOO_FREQUENT"},
		{Reason(38).String(), "Reason(38)"},
		{Reason(-1).String(), "Reason(-1)"},
		{CodeTokenExpired.String(), "TOKEN_EXPIRED"},
		{ErrorCode(-10009).String(), "TOKEN_EXPIRED"},
		{ErrorCode(-10026).String(), "RENEW_TOKEN_TIMEOUT"},
		{ErrorCode(-99).String(), "ErrorCode(-99)"},
		{ClassKick.String(), "kick"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if len(reasonNames) != int(ReasonLoginTooFrequent)+1 {
		t.Errorf("reasonNames has %d entries, want %d", len(reasonNames), ReasonLoginTooFrequent+1)
	}
}

func TestReasonClass(t *testing.T) {
	tests := []struct {
		r    Reason
		want ReasonClass
	}{
		{ReasonInvalidToken, ClassToken},
		{ReasonTokenExpired, ClassToken},
		{ReasonSameUIDLogin, ClassKick},
		{ReasonKickedOutByServer, ClassKick},
		{ReasonLoginRejected, ClassKick},
		{ReasonLoginTooFrequent, ClassBackoff},
		{ReasonOperationRateExceedLimitation, ClassBackoff},
		{ReasonInconsistentAppID, ClassFatalConfig},
		{ReasonLoginNotAuthorized, ClassFatalConfig},
		{ReasonKeepAliveTimeout, ClassTransient},
		{ReasonLoginSuccess, ClassInfo},
		{ReasonUnknown, ClassEscalate},
		{Reason(99), ClassEscalate},
	}
	for _, tt := range tests {
		if got := tt.r.Class(); got != tt.want {
			t.Errorf("%v.Class() = %v, want %v", tt.r, got, tt.want)
		}
	}
	// Every named reason has a class other than "escalate", except UNKNOWN.
	for r := ReasonLogin; r <= ReasonLoginTooFrequent; r++ {
		if r.Class() == ClassEscalate {
			t.Errorf("%v has no class", r)
		}
	}
}

func TestTokenRejected(t *testing.T) {
	ev := LinkStateEvent{Current: LinkFailed, Operation: OpServerReject, ReasonCode: ReasonTokenExpired}
	if !ev.TokenRejected() {
		t.Error("FAILED + TOKEN_EXPIRED: TokenRejected() = false")
	}
	ev.Current = LinkConnected
	if ev.TokenRejected() {
		t.Error("CONNECTED + TOKEN_EXPIRED: TokenRejected() = true")
	}
	ev = LinkStateEvent{Current: LinkFailed, ReasonCode: ReasonSameUIDLogin}
	if ev.TokenRejected() {
		t.Error("FAILED + SAME_UID_LOGIN: TokenRejected() = true")
	}
}

func TestCloneCopiesChannels(t *testing.T) {
	orig := LinkStateEvent{AffectedChannels: []string{"a"}, UnrestoredChannels: []string{"b"}}
	c := orig.Clone()
	orig.AffectedChannels[0], orig.UnrestoredChannels[0] = "x", "y"
	if c.AffectedChannels[0] != "a" || c.UnrestoredChannels[0] != "b" {
		t.Fatalf("Clone shares the channel slices: %v %v", c.AffectedChannels, c.UnrestoredChannels)
	}
	if got := (LinkStateEvent{}).Clone(); got.AffectedChannels != nil {
		t.Errorf("Clone of nil channels = %v, want nil", got.AffectedChannels)
	}
}

func TestErrorIsAndCodeOf(t *testing.T) {
	err := fmt.Errorf("renew: %w", &Error{Op: "renewToken", Channel: "room", Code: CodeTokenExpired})
	if !errors.Is(err, &Error{Code: CodeTokenExpired}) {
		t.Error("errors.Is by code failed")
	}
	if errors.Is(err, &Error{Code: CodeInvalidToken}) {
		t.Error("errors.Is matched a different code")
	}
	if code, ok := CodeOf(err); !ok || code != CodeTokenExpired {
		t.Errorf("CodeOf = %v, %v; want TOKEN_EXPIRED, true", code, ok)
	}
	if _, ok := CodeOf(errors.New("plain")); ok {
		t.Error("CodeOf(plain error) reported a code")
	}
	want := `signaling: renewToken channel "room": TOKEN_EXPIRED (-10009)`
	if got := (&Error{Op: "renewToken", Channel: "room", Code: CodeTokenExpired}).Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
