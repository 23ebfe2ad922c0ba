package mock_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

func TestSignalingEntryString(t *testing.T) {
	cases := []struct {
		e    mock.Entry
		want string
	}{
		{mock.Entry{Time: sigT0, Kind: mock.EntryRenew, Op: mock.CallRenew, OK: true, Detail: "token 007eJx…(139 chars)"},
			"2026-11-25T10:00:00Z  renew         login token         ok  token 007eJx…(139 chars)"},
		{mock.Entry{Time: sigT0.Add(time.Millisecond), Kind: mock.EntryRejected, Op: mock.CallJoin, Channel: "room-1",
			Code: signaling.CodeInvalidToken, Detail: "join: bad"},
			"2026-11-25T10:00:00.001Z  rejected      channel \"room-1\"    INVALID_TOKEN(-10005)  join: bad"},
		{mock.Entry{Time: sigT0, Kind: mock.EntryWillExpire, OK: true},
			"2026-11-25T10:00:00Z  will-expire   login token         delivered"},
		{mock.Entry{Time: sigT0, Kind: mock.EntryWillExpire, Channel: "c"},
			"2026-11-25T10:00:00Z  will-expire   channel \"c\"         dropped"},
		{mock.Entry{Time: sigT0, Kind: mock.EntryLinkState, OK: true, Detail: "link"},
			"2026-11-25T10:00:00Z  link-state    message link        event  link"},
		{mock.Entry{Time: sigT0, Kind: mock.EntryRestore, OK: true},
			"2026-11-25T10:00:00Z  restore       session             ok"},
		{mock.Entry{Time: sigT0, Kind: mock.EntryLogin},
			"2026-11-25T10:00:00Z  login         login token         failed"},
	}
	for _, tc := range cases {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("String:\n got %q\nwant %q", got, tc.want)
		}
	}
	if got := mock.EntryKind(0).String(); got != "EntryKind(0)" {
		t.Errorf("EntryKind(0) = %q", got)
	}
	if got := mock.SDKOp(42).String(); got != "SDKOp(42)" {
		t.Errorf("SDKOp(42) = %q", got)
	}
	if got := mock.CallRestore.String(); got != "restoreSession" {
		t.Errorf("CallRestore = %q", got)
	}
}

func TestSignalingTimelineRecordsEverything(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newSigFixture(t, mock.SignalingConfig{Logger: logger})
	ctx := context.Background()
	var tokens []string
	keep := func(tok string) string { tokens = append(tokens, tok); return tok }

	if err := f.sig.Login(ctx, keep(f.rtm(600))); err != nil {
		t.Fatal(err)
	}
	_ = f.sig.RenewToken(ctx, tokens[0])
	_ = f.sig.JoinStream(ctx, "room", keep(f.rtc("room", 600)))
	_ = f.sig.RenewStreamToken(ctx, "room", keep(f.rtc("lobby", 600)))
	f.at(570 * time.Second)
	_ = f.sig.RenewToken(ctx, keep(f.rtm(600)))
	_ = f.sig.RenewStreamToken(ctx, "room", keep(f.rtc("room", 600)))
	_ = f.sig.RestoreSession(ctx, []string{"room"})
	_ = f.sig.LeaveStream(ctx, "room")
	_ = f.sig.Logout(ctx)
	f.clk.Add(time.Hour)
	_ = f.sig.Login(ctx, tokens[0]) // expired by now

	var kinds []mock.EntryKind
	var expiredUse mock.Entry
	for _, e := range f.sig.Timeline() {
		kinds = append(kinds, e.Kind)
		if e.Kind == mock.EntryExpiredUse {
			expiredUse = e
		}
		for _, tok := range tokens {
			if strings.Contains(e.String(), tok[6:]) {
				t.Errorf("entry holds a token: %s", e)
			}
		}
	}
	want := []mock.EntryKind{
		mock.EntryLinkState, mock.EntryLinkState, mock.EntryLogin, // CONNECTING, CONNECTED, login
		mock.EntryRenewNoop, mock.EntryJoin, mock.EntryRejected, // same token, join, wrong channel
		mock.EntryWillExpire, mock.EntryWillExpire, // login, room at 570 s
		mock.EntryRenew, mock.EntryRenewStream, mock.EntryRestore, mock.EntryLeave,
		mock.EntryLinkState, mock.EntryLogout, // IDLE, logout
		mock.EntryLinkState, mock.EntryExpiredUse, mock.EntryLinkState, // CONNECTING, expired token, FAILED
	}
	if !slices.Equal(kinds, want) {
		t.Fatalf("timeline kinds = %v\nwant %v", kinds, want)
	}
	if expiredUse.Op != mock.CallLogin || expiredUse.Code != signaling.CodeTokenExpired ||
		!strings.Contains(expiredUse.Detail, tokens[0][:6]+"…(") {
		t.Errorf("expired-use entry = %v, want a login with TOKEN_EXPIRED naming the token's prefix", expiredUse)
	}
	if !strings.Contains(logs.String(), "renew-noop") || strings.Contains(logs.String(), tokens[0][6:]) {
		t.Errorf("debug log misses entries or holds a token:\n%s", logs.String())
	}
}

func TestSignalingLoggedOutStats(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	f.at(time.Minute) // idle time before the first login is not counted
	if st := f.sig.Stats(); st.LoggedOut != 0 {
		t.Fatalf("LoggedOut before any login = %v", st.LoggedOut)
	}
	f.login(3600) // deadline T0+1h1m
	// Ticked 4 s late: the stretch still starts at the deadline.
	f.at(time.Hour + time.Minute + 4*time.Second)
	if f.sig.State() != signaling.LinkFailed {
		t.Fatal("login token did not expire")
	}
	if err := f.sig.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	f.at(time.Hour + time.Minute + 10*time.Second)
	f.login(7200)
	if st := f.sig.Stats(); st.LoggedOut != 10*time.Second || st.MaxLoggedOut != 10*time.Second {
		t.Errorf("after relogin: LoggedOut %v, MaxLoggedOut %v; want 10s, 10s", st.LoggedOut, st.MaxLoggedOut)
	}
	f.at(2 * time.Hour)
	f.sig.Disconnect()
	f.at(2*time.Hour + 5*time.Second)
	f.sig.Reconnect()
	if st := f.sig.Stats(); st.LoggedOut != 15*time.Second || st.MaxLoggedOut != 10*time.Second {
		t.Errorf("after reconnect: LoggedOut %v, MaxLoggedOut %v; want 15s, 10s", st.LoggedOut, st.MaxLoggedOut)
	}
	f.at(3 * time.Hour)
	if err := f.sig.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	f.at(3*time.Hour + 20*time.Second)
	if st := f.sig.Stats(); st.LoggedOut != 35*time.Second || st.MaxLoggedOut != 20*time.Second {
		t.Errorf("while logged out: LoggedOut %v, MaxLoggedOut %v; want 35s, 20s", st.LoggedOut, st.MaxLoggedOut)
	}
}
