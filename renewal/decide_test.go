package renewal

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

func failed(svc signaling.ServiceType, r signaling.Reason, ch ...string) signaling.LinkStateEvent {
	return signaling.LinkStateEvent{Current: signaling.LinkFailed, Previous: signaling.LinkConnected,
		Service: svc, Operation: signaling.OpServerReject, ReasonCode: r, AffectedChannels: ch}
}

func sdkErr(c signaling.ErrorCode) error { return &signaling.Error{Op: "renewToken", Code: c} }

func TestDecide(t *testing.T) {
	login := Situation{Key: KeyLogin, Phase: PhaseFresh, Link: signaling.LinkConnected}
	stream := Situation{Key: KeyStream, Phase: PhaseFresh, Link: signaling.LinkConnected}
	with := func(s Situation, f func(*Situation)) Situation { f(&s); return s }
	timer := Signal{Trigger: TriggerTimer}
	will := Signal{Trigger: TriggerWillExpire}
	link := func(ev signaling.LinkStateEvent) Signal { return Signal{Trigger: TriggerLink, Link: ev} }
	hook := func(op OpKind, err error) Signal { return Signal{Trigger: TriggerHookFailed, Op: op, Err: err} }
	fetchErr := func(op OpKind, err error) Signal { return Signal{Trigger: TriggerFetchFailed, Op: op, Err: err} }
	retryable := &fetcher.Error{Class: fetcher.Retryable, Err: fetcher.ErrStatus, StatusCode: 503}
	permanent := &fetcher.Error{Class: fetcher.Permanent, Err: fetcher.ErrStatus, StatusCode: 403}
	expired := func(s *Situation) { s.Expired = true }
	renewing := func(s *Situation) { s.InFlight = OpRenew; s.Phase = PhaseRenewing }

	tests := []struct {
		name string
		s    Situation
		sig  Signal
		want Action
	}{
		// Proactive timer / will-expire.
		{"timer login connected → renew", login, timer, Action{Op: OpRenew}},
		{"will-expire login connected → renew", login, will, Action{Op: OpRenew}},
		{"timer stream → renew", stream, timer, Action{Op: OpRenew}},
		{"will-expire stream → renew", stream, will, Action{Op: OpRenew}},
		{"timer login disconnected → renew when connected", with(login, func(s *Situation) { s.Link = signaling.LinkDisconnected }),
			timer, Action{Op: OpRenew, When: WhenConnected}},
		{"fallback timer while waiting → try anyway", with(login, func(s *Situation) { s.Link = signaling.LinkSuspended; s.Phase = PhaseWaiting }),
			timer, Action{Op: OpRenew}},
		{"will-expire while waiting → nothing more", with(login, func(s *Situation) { s.Link = signaling.LinkSuspended; s.Phase = PhaseWaiting }),
			will, Action{}},
		{"timer login expired → relogin", with(login, expired), timer, Action{Op: OpRelogin, Report: EventExpired, Class: "expired"}},
		{"timer stream expired → rejoin", with(stream, expired), timer, Action{Op: OpRejoin, Report: EventExpired, Class: "expired"}},
		{"will-expire during renew joins it", with(login, renewing), will, Action{}},
		{"timer during renew joins it", with(stream, renewing), timer, Action{}},
		{"will-expire while backing off keeps the schedule", with(login, func(s *Situation) { s.Phase = PhaseBackoff }), will, Action{}},
		{"stream will-expire during relogin joins it", with(stream, func(s *Situation) { s.Relogin = true }), will, Action{}},
		{"timer on kicked key → nothing", with(login, func(s *Situation) { s.Phase = PhaseKicked }), timer, Action{}},
		{"renew-now on kicked login → relogin", with(login, func(s *Situation) { s.Phase = PhaseKicked }),
			Signal{Trigger: TriggerRenewNow}, Action{Op: OpRelogin, Class: "manual"}},
		{"renew-now on gave-up stream → rejoin", with(stream, func(s *Situation) { s.Phase = PhaseGaveUp }),
			Signal{Trigger: TriggerRenewNow}, Action{Op: OpRejoin, Class: "manual"}},
		{"timer before first token → nothing", with(login, func(s *Situation) { s.Phase = PhaseNew }), timer, Action{}},

		// Message link FAILED.
		{"FAILED MESSAGE 17 → relogin", login, link(failed(signaling.ServiceMessage, signaling.ReasonTokenExpired)),
			Action{Op: OpRelogin, Supersede: true, Class: "token"}},
		{"FAILED NONE 16 → relogin", login, link(failed(signaling.ServiceNone, signaling.ReasonInvalidToken)),
			Action{Op: OpRelogin, Supersede: true, Class: "token"}},
		{"FAILED 17 during renew supersedes it", with(login, renewing), link(failed(signaling.ServiceMessage, signaling.ReasonTokenExpired)),
			Action{Op: OpRelogin, Supersede: true, Class: "token"}},
		{"FAILED 17 during relogin joins it", with(login, func(s *Situation) { s.InFlight = OpRelogin }),
			link(failed(signaling.ServiceMessage, signaling.ReasonTokenExpired)), Action{}},
		{"FAILED 17 while a relogin retry is scheduled keeps the backoff", with(login, func(s *Situation) { s.Relogin = true; s.Phase = PhaseExpired }),
			link(failed(signaling.ServiceMessage, signaling.ReasonTokenExpired)), Action{}},
		{"FAILED 27 while a relogin retry is scheduled → kicked", with(login, func(s *Situation) { s.Relogin = true }),
			link(failed(signaling.ServiceMessage, signaling.ReasonSameUIDLogin)), Action{Supersede: true, Report: EventKicked, Class: "kick"}},
		{"FAILED 27 SAME_UID → kicked, no relogin", login, link(failed(signaling.ServiceMessage, signaling.ReasonSameUIDLogin)),
			Action{Supersede: true, Report: EventKicked, Class: "kick"}},
		{"FAILED 28 kicked by server → kicked", login, link(failed(signaling.ServiceMessage, signaling.ReasonKickedOutByServer)),
			Action{Supersede: true, Report: EventKicked, Class: "kick"}},
		{"FAILED 5 login rejected → kicked", login, link(failed(signaling.ServiceMessage, signaling.ReasonLoginRejected)),
			Action{Supersede: true, Report: EventKicked, Class: "kick"}},
		{"FAILED 27 with ReloginOnKick → relogin after backoff", with(login, func(s *Situation) { s.ReloginOnKick = true }),
			link(failed(signaling.ServiceMessage, signaling.ReasonSameUIDLogin)),
			Action{Op: OpRelogin, When: WhenBackoff, Supersede: true, Report: EventKicked, Class: "kick"}},
		{"FAILED 18 inconsistent app → gave up", login, link(failed(signaling.ServiceMessage, signaling.ReasonInconsistentAppID)),
			Action{Supersede: true, Report: EventGaveUp, Class: "fatal-config"}},
		{"FAILED 37 too frequent → long backoff", login, link(failed(signaling.ServiceMessage, signaling.ReasonLoginTooFrequent)),
			Action{Op: OpRelogin, When: WhenLongBackoff, Supersede: true, Class: "backoff"}},
		{"FAILED 24 rate → long backoff", login, link(failed(signaling.ServiceMessage, signaling.ReasonOperationRateExceedLimitation)),
			Action{Op: OpRelogin, When: WhenLongBackoff, Supersede: true, Class: "backoff"}},
		{"FAILED 30 connection error → backoff", login, link(failed(signaling.ServiceMessage, signaling.ReasonConnectionError)),
			Action{Op: OpRelogin, When: WhenBackoff, Supersede: true, Class: "backoff"}},
		{"FAILED 3 login timeout → backoff relogin", login, link(failed(signaling.ServiceMessage, signaling.ReasonLoginTimeout)),
			Action{Op: OpRelogin, When: WhenBackoff, Supersede: true, Class: "transient"}},
		{"FAILED 0 unknown → long backoff relogin", login, link(failed(signaling.ServiceMessage, signaling.ReasonUnknown)),
			Action{Op: OpRelogin, When: WhenLongBackoff, Supersede: true, Class: "escalate"}},
		{"FAILED info reason → nothing", login, link(failed(signaling.ServiceMessage, signaling.ReasonLogout)), Action{}},
		{"DISCONNECTED transient → nothing", login, link(signaling.LinkStateEvent{Current: signaling.LinkDisconnected,
			Service: signaling.ServiceMessage, ReasonCode: signaling.ReasonKeepAliveTimeout}), Action{}},
		{"CONNECTED while waiting → renew", with(login, func(s *Situation) { s.Phase = PhaseWaiting }),
			link(signaling.LinkStateEvent{Current: signaling.LinkConnected, Service: signaling.ServiceMessage}), Action{Op: OpRenew}},
		{"CONNECTED while waiting but expired → relogin", with(login, func(s *Situation) { s.Phase = PhaseWaiting; s.Expired = true }),
			link(signaling.LinkStateEvent{Current: signaling.LinkConnected}), Action{Op: OpRelogin, Report: EventExpired, Class: "expired"}},
		{"CONNECTED when fresh → nothing", login, link(signaling.LinkStateEvent{Current: signaling.LinkConnected}), Action{}},

		// Stream link FAILED.
		{"FAILED STREAM 17 → rejoin", stream, link(failed(signaling.ServiceStream, signaling.ReasonTokenExpired, "c")),
			Action{Op: OpRejoin, Supersede: true, Class: "token"}},
		{"FAILED STREAM 16 during renew → rejoin, superseding", with(stream, renewing), link(failed(signaling.ServiceStream, signaling.ReasonInvalidToken, "c")),
			Action{Op: OpRejoin, Supersede: true, Class: "token"}},
		{"FAILED STREAM during rejoin joins it", with(stream, func(s *Situation) { s.InFlight = OpRejoin }),
			link(failed(signaling.ServiceStream, signaling.ReasonTokenExpired, "c")), Action{}},
		{"FAILED STREAM during relogin → nothing", with(stream, func(s *Situation) { s.Relogin = true }),
			link(failed(signaling.ServiceStream, signaling.ReasonTokenExpired, "c")), Action{}},
		{"FAILED STREAM 28 → kicked", stream, link(failed(signaling.ServiceStream, signaling.ReasonKickedOutByServer, "c")),
			Action{Supersede: true, Report: EventKicked, Class: "kick"}},
		{"FAILED STREAM 25 → rejoin after backoff", stream, link(failed(signaling.ServiceStream, signaling.ReasonChannelInErrorState, "c")),
			Action{Op: OpRejoin, When: WhenBackoff, Supersede: true, Class: "backoff"}},
		{"FAILED STREAM 19 → gave up", stream, link(failed(signaling.ServiceStream, signaling.ReasonInvalidChannelName, "c")),
			Action{Supersede: true, Report: EventGaveUp, Class: "fatal-config"}},

		// Renew hook failures.
		{"renew TOKEN_EXPIRED → relogin", login, hook(OpRenew, sdkErr(signaling.CodeTokenExpired)),
			Action{Op: OpRelogin, Report: EventRenewFailed, Class: "token"}},
		{"renew NOT_LOGIN → relogin", login, hook(OpRenew, sdkErr(signaling.CodeNotLogin)),
			Action{Op: OpRelogin, Report: EventRenewFailed, Class: "token"}},
		{"stream renew TOKEN_EXPIRED → rejoin", stream, hook(OpRenew, sdkErr(signaling.CodeTokenExpired)),
			Action{Op: OpRejoin, Report: EventRenewFailed, Class: "token"}},
		{"renew INVALID_TOKEN → one forced refetch", login, hook(OpRenew, sdkErr(signaling.CodeInvalidToken)),
			Action{Op: OpRenew, Force: true, Report: EventRenewFailed, Class: "token"}},
		{"renew INVALID_TOKEN after the forced refetch → escalate", with(login, func(s *Situation) { s.Forced = true }),
			hook(OpRenew, sdkErr(signaling.CodeInvalidToken)), Action{Op: OpRelogin, Report: EventRenewFailed, Class: "token"}},
		{"renew NOT_CONNECTED → wait for CONNECTED", login, hook(OpRenew, sdkErr(signaling.CodeNotConnected)),
			Action{Op: OpRenew, When: WhenConnected, Report: EventRenewFailed, Class: "not-connected"}},
		{"renew RENEW_TOKEN_TIMEOUT while valid → retry", login, hook(OpRenew, sdkErr(signaling.CodeRenewTokenTimeout)),
			Action{Op: OpRenew, When: WhenBackoff, Report: EventRenewFailed, Class: "retry"}},
		{"renew RENEW_TOKEN_TIMEOUT after deadline → relogin", with(login, expired), hook(OpRenew, sdkErr(signaling.CodeRenewTokenTimeout)),
			Action{Op: OpRelogin, When: WhenBackoff, Report: EventRenewFailed, Class: "retry"}},
		{"renew rate limited → long backoff", login, hook(OpRenew, sdkErr(signaling.CodeOperationRateExceedLimitation)),
			Action{Op: OpRenew, When: WhenLongBackoff, Report: EventRenewFailed, Class: "backoff"}},
		{"renew our timeout → retry", login, Signal{Trigger: TriggerHookFailed, Op: OpRenew, Err: context.DeadlineExceeded, Timeout: true},
			Action{Op: OpRenew, When: WhenBackoff, Report: EventRenewFailed, Class: "retry"}},
		{"renew panic → retry", login, hook(OpRenew, fmt.Errorf("%w: boom", ErrHookPanic)),
			Action{Op: OpRenew, When: WhenBackoff, Report: EventRenewFailed, Class: "retry"}},
		{"stream renew CHANNEL_NOT_JOINED → rejoin", stream, hook(OpRenew, sdkErr(signaling.CodeChannelNotJoined)),
			Action{Op: OpRejoin, Report: EventRenewFailed, Class: "rejoin"}},
		{"renew INVALID_APP_ID → gave up", login, hook(OpRenew, sdkErr(signaling.CodeInvalidAppID)),
			Action{Report: EventGaveUp, Class: "fatal-config"}},
		{"renew DUPLICATE_USER_ID → kicked", login, hook(OpRenew, sdkErr(signaling.CodeDuplicateUserID)),
			Action{Report: EventKicked, Class: "kick"}},
		{"cancelled (superseded) → nothing", login, hook(OpRenew, context.Canceled), Action{}},

		// Login / join hook failures.
		{"relogin login fails TIMEOUT → retry relogin", login, hook(OpRelogin, sdkErr(signaling.CodeLoginTimeout)),
			Action{Op: OpRelogin, When: WhenBackoff, Report: EventRenewFailed, Class: "retry"}},
		{"relogin refused fresh token → long backoff", login, hook(OpRelogin, sdkErr(signaling.CodeInvalidToken)),
			Action{Op: OpRelogin, When: WhenLongBackoff, Report: EventRenewFailed, Class: "token"}},
		{"relogin LOGIN_REJECTED → kicked", login, hook(OpRelogin, sdkErr(signaling.CodeLoginRejected)),
			Action{Report: EventKicked, Class: "kick"}},
		{"rejoin fails → retry rejoin", stream, hook(OpRejoin, sdkErr(signaling.CodeChannelJoinFailed)),
			Action{Op: OpRejoin, When: WhenBackoff, Report: EventRenewFailed, Class: "retry"}},
		{"first login failure goes to the caller", login, hook(opLogin, sdkErr(signaling.CodeLoginTimeout)),
			Action{Report: EventRenewFailed, Class: "caller"}},

		// Fetch failures.
		{"fetch retryable while valid → keep token, back off", login, fetchErr(OpRenew, retryable),
			Action{Op: OpRenew, When: WhenBackoff, Report: EventFetchFailed, Class: "retryable"}},
		{"fetch retryable after deadline → relogin path", with(login, expired), fetchErr(OpRenew, retryable),
			Action{Op: OpRelogin, When: WhenBackoff, Report: EventFetchFailed, Class: "retryable"}},
		{"stream fetch retryable after deadline → rejoin path", with(stream, expired), fetchErr(OpRenew, retryable),
			Action{Op: OpRejoin, When: WhenBackoff, Report: EventFetchFailed, Class: "retryable"}},
		{"fetch permanent → long backoff", login, fetchErr(OpRenew, permanent),
			Action{Op: OpRenew, When: WhenLongBackoff, Report: EventFetchFailed, Class: "permanent"}},
		{"fetch timeout → retryable", login, Signal{Trigger: TriggerFetchFailed, Op: OpRenew, Err: context.DeadlineExceeded, Timeout: true},
			Action{Op: OpRenew, When: WhenBackoff, Report: EventFetchFailed, Class: "retryable"}},
		{"same token served → retryable", login, fetchErr(OpRenew, ErrSameToken),
			Action{Op: OpRenew, When: WhenBackoff, Report: EventFetchFailed, Class: "retryable"}},
		{"relogin fetch fails → retry relogin", with(login, expired), fetchErr(OpRelogin, retryable),
			Action{Op: OpRelogin, When: WhenBackoff, Report: EventFetchFailed, Class: "retryable"}},
		{"fetch cancelled → nothing", login, fetchErr(OpRenew, fmt.Errorf("x: %w", context.Canceled)), Action{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.s, tc.sig); got != tc.want {
				t.Errorf("Decide() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestDecideNeverHotLoops checks, over every reason and error code, that no
// failure decision retries at once except the documented immediate
// escalations (token codes, which change the operation or force a refetch).
func TestDecideNeverHotLoops(t *testing.T) {
	codes := []signaling.ErrorCode{0, -1}
	for c := signaling.ErrorCode(-10000); c >= -10030; c-- {
		codes = append(codes, c)
	}
	codes = append(codes, signaling.CodeChannelNotJoined, signaling.CodeChannelJoinFailed)
	for _, key := range []KeyKind{KeyLogin, KeyStream} {
		for _, op := range []OpKind{OpRenew, OpRelogin, OpRejoin} {
			for _, c := range codes {
				for _, exp := range []bool{false, true} {
					s := Situation{Key: key, Phase: PhaseRenewing, Link: signaling.LinkConnected, Expired: exp, Forced: true}
					a := Decide(s, Signal{Trigger: TriggerHookFailed, Op: op, Err: sdkErr(c)})
					if a.Op != OpNone && a.When == WhenNow && a.Op == op {
						t.Errorf("key %d op %v code %v expired %v: retries %v at once", key, op, c, exp, a.Op)
					}
				}
			}
		}
	}
	for r := signaling.Reason(0); r <= 40; r++ {
		a := Decide(Situation{Key: KeyLogin, Phase: PhaseRelogin, InFlight: OpNone}, Signal{Trigger: TriggerLink, Link: failed(signaling.ServiceMessage, r)})
		if a.Op != OpNone && a.When == WhenNow && r.Class() != signaling.ClassToken {
			t.Errorf("reason %v: relogin at once (class %v)", r, r.Class())
		}
	}
	if a := Decide(Situation{Key: KeyLogin}, Signal{Trigger: TriggerFetchFailed, Op: OpRenew, Err: errors.New("no class")}); a.When != WhenBackoff {
		t.Errorf("unclassified fetch error: When = %v, want backoff", a.When)
	}
}
