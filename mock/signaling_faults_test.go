package mock_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

func TestSignalingFailNext(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	f.login(3600)
	f.sig.FailNext(mock.CallRenew, 2, signaling.CodeRenewTokenTimeout)
	for i := range 2 {
		// Injected failures come before any token check.
		sigWantCode(t, f.sig.RenewToken(ctx, "not a token"), signaling.CodeRenewTokenTimeout)
		if e := f.lastEntry(); e.Kind != mock.EntryRenew || e.OK || e.Code != signaling.CodeRenewTokenTimeout {
			t.Errorf("entry %d = %v, want a failed renew with the injected code", i, e)
		}
	}
	if err := f.sig.RenewToken(ctx, f.rtm(3600)); err != nil {
		t.Fatalf("third renew: %v", err)
	}
	st := f.sig.Stats()
	if st.InjectedFaults != 2 || st.Renewals != 1 || st.RejectedTokens != 0 || st.FailedCalls != 2 {
		t.Errorf("stats = %+v", st)
	}
	var se *signaling.Error
	f.sig.FailNext(mock.CallJoin, 1, signaling.CodeChannelJoinFailed)
	if err := f.sig.JoinStream(ctx, "room", f.rtc("room", 600)); !errors.As(err, &se) || se.Op != "join" || se.Channel != "room" {
		t.Errorf("injected join failure = %v, want op join, channel room", err)
	}
}

func TestSignalingFaultsIgnoreBadArguments(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	f.sig.FailNext(mock.CallLogin, 1, signaling.CodeOK)
	f.sig.FailNext(mock.SDKOp(0), 1, signaling.CodeLoginTimeout)
	f.sig.FailNext(mock.SDKOp(99), 1, signaling.CodeLoginTimeout)
	f.sig.HangNext(mock.CallLogin, 0)
	f.sig.PanicNext(mock.CallLogin, -3)
	f.sig.DropWillExpire(-1)
	f.login(600)
	f.at(570 * time.Second)
	if got := f.takeWarns(); len(got) != 1 {
		t.Errorf("warnings = %q, want one", got)
	}
}

func TestSignalingFaultsApplyInQueueOrderAndReset(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	f.sig.FailNext(mock.CallLogin, 1, signaling.CodeLoginTimeout)
	f.sig.PanicNext(mock.CallLogin, 1)
	sigWantCode(t, f.sig.Login(ctx, f.rtm(3600)), signaling.CodeLoginTimeout)
	func() {
		defer func() {
			v := recover()
			err, ok := v.(error)
			if !ok || !errors.Is(err, mock.ErrSignalingPanic) {
				t.Errorf("recovered %v, want an error wrapping ErrSignalingPanic", v)
			}
		}()
		_ = f.sig.Login(ctx, f.rtm(3600))
		t.Error("Login did not panic")
	}()
	if got := f.sig.State(); got != signaling.LinkIdle {
		t.Errorf("state after injected faults = %v, want IDLE", got)
	}
	f.sig.FailNext(mock.CallLogin, 3, signaling.CodeLoginTimeout)
	f.sig.DropWillExpire(5)
	f.sig.ResetFaults()
	f.login(600)
	f.at(570 * time.Second)
	if got := f.takeWarns(); len(got) != 1 {
		t.Errorf("warnings after ResetFaults = %q, want one", got)
	}
	if st := f.sig.Stats(); st.InjectedFaults != 2 {
		t.Errorf("InjectedFaults = %d, want 2", st.InjectedFaults)
	}
}

func TestSignalingPanicNextLeavesFakeUsable(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	f.login(3600)
	f.sig.PanicNext(mock.CallRenew, 1)
	func() {
		defer func() { _ = recover() }()
		_ = f.sig.RenewToken(ctx, f.rtm(3600))
	}()
	// The lock is free and the token unchanged.
	if d, _ := f.sig.CurrentToken(""); !d.Equal(sigT0.Add(time.Hour)) {
		t.Errorf("deadline = %v after a panicking renew", d)
	}
	if err := f.sig.RenewToken(ctx, f.rtm(3600)); err != nil {
		t.Errorf("renew after the panic: %v", err)
	}
}

func TestSignalingHangNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newSigFixture(t, mock.SignalingConfig{})
		f.login(3600)
		f.sig.HangNext(mock.CallRenew, 2)

		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		tok := f.rtm(3600)
		go func() { errc <- f.sig.RenewToken(ctx, tok) }()
		synctest.Wait()
		if got := f.sig.Blocked(); got != 1 {
			t.Fatalf("Blocked = %d, want 1", got)
		}
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("hung call returned %v, want context.Canceled", err)
		}
		if got := f.sig.Blocked(); got != 0 {
			t.Errorf("Blocked = %d after the call returned", got)
		}

		tctx, tcancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer tcancel()
		start := time.Now()
		if err := f.sig.RenewToken(tctx, tok); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("second hung call returned %v, want DeadlineExceeded", err)
		}
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("hung for %v, want the context's 5s", got)
		}
		if err := f.sig.RenewToken(t.Context(), tok); err != nil {
			t.Errorf("third call: %v", err)
		}
		if st := f.sig.Stats(); st.InjectedFaults != 2 || st.Renewals != 1 {
			t.Errorf("stats = %+v", st)
		}
	})
}

func TestSignalingKick(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	if f.sig.Kick(signaling.ReasonSameUIDLogin) {
		t.Error("Kick when logged out reported true")
	}
	f.login(3600)
	f.join("room", 600)
	f.clk.Add(time.Minute)
	if !f.sig.Kick(signaling.ReasonSameUIDLogin) {
		t.Fatal("Kick reported false")
	}
	sigWantEvents(t, f.takeLinks(), signaling.LinkStateEvent{
		Current: signaling.LinkFailed, Previous: signaling.LinkConnected, Service: signaling.ServiceMessage,
		Operation: signaling.OpServerReject, ReasonCode: signaling.ReasonSameUIDLogin, Reason: "SAME_UID_LOGIN",
		AffectedChannels: []string{"room"}, Timestamp: sigMillis(sigT0.Add(time.Minute))})
	if got := f.sig.State(); got != signaling.LinkFailed || len(f.sig.Joined()) != 0 {
		t.Errorf("after Kick: state %v, joined %v", got, f.sig.Joined())
	}
	sigWantCode(t, f.sig.Login(context.Background(), f.rtm(3600)), signaling.CodeDuplicateOperation)
	if st := f.sig.Stats(); st.FailedSignals != 1 {
		t.Errorf("FailedSignals = %d, want 1", st.FailedSignals)
	}
}

func TestSignalingDropWillExpire(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	f.login(600)
	f.join("room", 600)
	f.sig.DropWillExpire(1)
	if n := f.at(570 * time.Second); n != 2 {
		t.Errorf("Tick processed %d signals, want 2", n)
	}
	if got := f.takeWarns(); !slices.Equal(got, []string{"room"}) {
		t.Errorf("delivered warnings = %q, want [room] (the login one dropped)", got)
	}
	var dropped []mock.Entry
	for _, e := range f.sig.Timeline() {
		if e.Kind == mock.EntryWillExpire && !e.OK {
			dropped = append(dropped, e)
		}
	}
	if len(dropped) != 1 || dropped[0].Channel != "" {
		t.Errorf("dropped entries = %v, want one for the login token", dropped)
	}
	if st := f.sig.Stats(); st.DroppedWillExpire != 1 || st.WillExpireSignals != 1 {
		t.Errorf("stats = %+v", st)
	}
	// The deadline still fires.
	f.at(600 * time.Second)
	if got := f.takeLinks(); len(got) != 1 || got[0].ReasonCode != signaling.ReasonTokenExpired {
		t.Errorf("events at the deadline = %v", got)
	}
}

func TestSignalingExpireNow(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	if f.sig.ExpireNow("") || f.sig.ExpireNow("room") {
		t.Error("ExpireNow without tokens reported true")
	}
	login := f.login(3600)
	room := f.join("room", 3600)
	f.clk.Add(time.Minute)

	if !f.sig.ExpireNow("room") {
		t.Fatal("ExpireNow(room) reported false")
	}
	sigWantEvents(t, f.takeLinks(), signaling.LinkStateEvent{
		Current: signaling.LinkFailed, Previous: signaling.LinkConnected, Service: signaling.ServiceStream,
		Operation: signaling.OpServerReject, ReasonCode: signaling.ReasonTokenExpired, Reason: "Token expired",
		AffectedChannels: []string{"room"}, Timestamp: sigMillis(sigT0.Add(time.Minute))})
	if len(f.takeWarns()) != 0 {
		t.Error("ExpireNow fired a warning")
	}
	sigWantCode(t, f.sig.JoinStream(ctx, "room", room), signaling.CodeTokenExpired)

	f.join("room", 3600)
	if !f.sig.ExpireNow("") {
		t.Fatal("ExpireNow(\"\") reported false")
	}
	sigWantEvents(t, f.takeLinks(), signaling.LinkStateEvent{
		Current: signaling.LinkFailed, Previous: signaling.LinkConnected, Service: signaling.ServiceMessage,
		Operation: signaling.OpServerReject, ReasonCode: signaling.ReasonTokenExpired, Reason: "Token expired",
		AffectedChannels: []string{"room"}, Timestamp: sigMillis(sigT0.Add(time.Minute))})
	if err := f.sig.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	sigWantCode(t, f.sig.Login(ctx, login), signaling.CodeTokenExpired)
	if st := f.sig.Stats(); st.ExpiredTokenUses != 2 || st.FailedSignals != 2 {
		t.Errorf("stats = %+v, want 2 expired uses and 2 FAILED signals", st)
	}
}

func TestSignalingDisconnectReconnect(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	if f.sig.Disconnect() || f.sig.Reconnect() {
		t.Error("Disconnect or Reconnect on an IDLE link reported true")
	}
	f.login(3600)
	f.join("room", 3600)
	if f.sig.Reconnect() {
		t.Error("Reconnect on a CONNECTED link reported true")
	}
	if !f.sig.Disconnect() || f.sig.Disconnect() {
		t.Fatal("Disconnect: want true, then false")
	}
	f.clk.Add(5 * time.Second)
	if !f.sig.Reconnect() {
		t.Fatal("Reconnect reported false")
	}
	ts := sigMillis(sigT0)
	sigWantEvents(t, f.takeLinks(),
		signaling.LinkStateEvent{Current: signaling.LinkDisconnected, Previous: signaling.LinkConnected,
			Service: signaling.ServiceMessage, Operation: signaling.OpHeartbeatLost,
			ReasonCode: signaling.ReasonKeepAliveTimeout, Reason: "KEEP_ALIVE_TIMEOUT",
			AffectedChannels: []string{"room"}, Timestamp: ts},
		signaling.LinkStateEvent{Current: signaling.LinkConnected, Previous: signaling.LinkDisconnected,
			Service: signaling.ServiceMessage, Operation: signaling.OpReconnected,
			ReasonCode: signaling.ReasonReconnectSuccess, Reason: "RECONNECT_SUCCESS",
			AffectedChannels: []string{"room"}, IsResumed: true, Timestamp: ts + 5000})
	if got := f.sig.Joined(); !slices.Equal(got, []string{"room"}) {
		t.Errorf("Joined after reconnect = %v", got)
	}
	if st := f.sig.Stats(); st.LoggedOut != 5*time.Second {
		t.Errorf("LoggedOut = %v, want 5s", st.LoggedOut)
	}
	// A deadline passing while disconnected still fails the link.
	f.sig.Disconnect()
	f.takeLinks()
	f.at(time.Hour)
	if got := f.takeLinks(); len(got) != 1 || got[0].Previous != signaling.LinkDisconnected || got[0].Current != signaling.LinkFailed {
		t.Errorf("events at the deadline while disconnected = %v", got)
	}
}
