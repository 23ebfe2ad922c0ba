package mock_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

func TestSignalingSubscriberAndWildcardTokensJoin(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	f.login(3600)
	sub := f.mint(600, accesstoken.RTCService("sub", sigUser, accesstoken.RoleSubscriber, 600))
	if err := f.sig.JoinStream(context.Background(), "sub", sub); err != nil {
		t.Errorf("subscriber token: %v", err)
	}
	wild := f.mint(600, accesstoken.RTCService("wild", "", accesstoken.RolePublisher, 600))
	if err := f.sig.JoinStream(context.Background(), "wild", wild); err != nil {
		t.Errorf("wildcard account token: %v", err)
	}
	// A token carrying both services logs in and joins.
	both := f.mint(600, accesstoken.RTCService("both", sigUser, accesstoken.RolePublisher, 600),
		accesstoken.RTMService(sigUser, 600))
	if err := f.sig.JoinStream(context.Background(), "both", both); err != nil {
		t.Errorf("RTC+RTM token: %v", err)
	}
}

func TestSignalingLegacyTokens(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	legacy := func(channel, uid string, priv uint16) string {
		tok, err := accesstoken.BuildLegacy(accesstoken.LegacyParams{AppID: mock.DefaultAppID,
			Certificate: mock.DefaultCertificate, Channel: channel, UID: uid, Salt: 7,
			Ts: uint32(sigT0.Add(time.Hour).Unix()), Privileges: []accesstoken.Privilege{{ID: priv}}})
		if err != nil {
			t.Fatalf("BuildLegacy: %v", err)
		}
		return tok
	}
	ctx := context.Background()
	sigWantCode(t, f.sig.Login(ctx, legacy("someone-else", "", 1000)), signaling.CodeInvalidToken)
	if err := f.sig.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.sig.Login(ctx, legacy(sigUser, "", 1000)); err != nil {
		t.Fatalf("legacy RTM login: %v", err)
	}
	if d, _ := f.sig.CurrentToken(""); !d.Equal(sigT0.Add(time.Hour)) {
		t.Errorf("legacy deadline = %v, want %v", d, sigT0.Add(time.Hour))
	}
	if err := f.sig.JoinStream(ctx, "room", legacy("room", sigUser, 1)); err != nil {
		t.Errorf("legacy RTC join: %v", err)
	}
	if err := f.sig.JoinStream(ctx, "wild", legacy("wild", "", 1)); err != nil {
		t.Errorf("legacy RTC join, uid 0: %v", err)
	}
	sigWantCode(t, f.sig.JoinStream(ctx, "other", legacy("room", sigUser, 1)), signaling.CodeInvalidToken)
	sigWantCode(t, f.sig.JoinStream(ctx, "acct", legacy("acct", "7", 1)), signaling.CodeInvalidToken)
	sigWantCode(t, f.sig.JoinStream(ctx, "nopriv", legacy("nopriv", sigUser, 2)), signaling.CodeInvalidToken)
}

func TestSignalingRejectsBadTokens(t *testing.T) {
	const otherApp, otherCert = "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"
	// Each case runs on a fresh fixture, logged in with a 1 h token and
	// joined to "room" unless it tests Login itself.
	cases := []struct {
		name    string
		op      mock.SDKOp
		channel string
		token   func(f *sigFixture) string
		code    signaling.ErrorCode
		expired bool
	}{
		{"login empty", mock.CallLogin, "", func(*sigFixture) string { return "" }, signaling.CodeInvalidToken, false},
		{"login garbage", mock.CallLogin, "", func(*sigFixture) string { return "007notbase64!!" }, signaling.CodeInvalidToken, false},
		{"login bad signature", mock.CallLogin, "", func(f *sigFixture) string {
			return sigMint(t, mock.DefaultAppID, otherCert, sigT0, 3600, 1, accesstoken.RTMService(sigUser, 3600))
		}, signaling.CodeInvalidToken, false},
		{"login wrong app", mock.CallLogin, "", func(f *sigFixture) string {
			return sigMint(t, otherApp, otherCert, sigT0, 3600, 1, accesstoken.RTMService(sigUser, 3600))
		}, signaling.CodeInconsistentAppID, false},
		{"login wrong user", mock.CallLogin, "", func(f *sigFixture) string {
			return f.mint(3600, accesstoken.RTMService("bot-43", 3600))
		}, signaling.CodeInvalidToken, false},
		{"login with RTC-only token", mock.CallLogin, "", func(f *sigFixture) string {
			return f.mint(3600, accesstoken.RTCService("room", sigUser, accesstoken.RoleSubscriber, 3600))
		}, signaling.CodeInvalidToken, false},
		{"login without login privilege", mock.CallLogin, "", func(f *sigFixture) string {
			return f.mint(3600, accesstoken.Service{Type: accesstoken.ServiceRTM, UserID: sigUser,
				Privileges: []accesstoken.Privilege{{ID: 9, Value: 3600}}})
		}, signaling.CodeInvalidToken, false},
		{"login expired", mock.CallLogin, "", func(f *sigFixture) string {
			return sigMint(t, mock.DefaultAppID, mock.DefaultCertificate, sigT0.Add(-2*time.Hour), 3600, 1,
				accesstoken.RTMService(sigUser, 3600))
		}, signaling.CodeTokenExpired, true},
		{"login expires exactly now", mock.CallLogin, "", func(f *sigFixture) string {
			return sigMint(t, mock.DefaultAppID, mock.DefaultCertificate, sigT0.Add(-time.Hour), 3600, 1,
				accesstoken.RTMService(sigUser, 3600))
		}, signaling.CodeTokenExpired, true},
		{"login privilege expired", mock.CallLogin, "", func(f *sigFixture) string {
			return sigMint(t, mock.DefaultAppID, mock.DefaultCertificate, sigT0.Add(-2*time.Minute), 3600, 1,
				accesstoken.RTMService(sigUser, 60))
		}, signaling.CodeTokenExpired, true},
		{"renew wrong user", mock.CallRenew, "", func(f *sigFixture) string {
			return f.mint(3600, accesstoken.RTMService("bot-43", 3600))
		}, signaling.CodeInvalidToken, false},
		{"renew expired", mock.CallRenew, "", func(f *sigFixture) string {
			return sigMint(t, mock.DefaultAppID, mock.DefaultCertificate, sigT0.Add(-2*time.Hour), 3600, 1,
				accesstoken.RTMService(sigUser, 3600))
		}, signaling.CodeTokenExpired, true},
		{"renew wrong app", mock.CallRenew, "", func(f *sigFixture) string {
			return sigMint(t, otherApp, otherCert, sigT0, 3600, 1, accesstoken.RTMService(sigUser, 3600))
		}, signaling.CodeInconsistentAppID, false},
		{"join wrong channel", mock.CallJoin, "lobby", func(f *sigFixture) string { return f.rtc("room", 600) },
			signaling.CodeInvalidToken, false},
		{"join wrong account", mock.CallJoin, "lobby", func(f *sigFixture) string {
			return f.mint(600, accesstoken.RTCService("lobby", "99", accesstoken.RolePublisher, 600))
		}, signaling.CodeInvalidToken, false},
		{"join with RTM token", mock.CallJoin, "lobby", func(f *sigFixture) string { return f.rtm(600) },
			signaling.CodeInvalidToken, false},
		{"join bad signature", mock.CallJoin, "lobby", func(f *sigFixture) string {
			return sigMint(t, mock.DefaultAppID, otherCert, sigT0, 600, 1,
				accesstoken.RTCService("lobby", sigUser, accesstoken.RolePublisher, 600))
		}, signaling.CodeInvalidToken, false},
		{"join expired", mock.CallJoin, "lobby", func(f *sigFixture) string {
			return sigMint(t, mock.DefaultAppID, mock.DefaultCertificate, sigT0.Add(-time.Hour), 600, 1,
				accesstoken.RTCService("lobby", sigUser, accesstoken.RolePublisher, 600))
		}, signaling.CodeTokenExpired, true},
		{"renew stream wrong channel", mock.CallRenewStream, "room", func(f *sigFixture) string {
			return f.rtc("lobby", 600)
		}, signaling.CodeInvalidToken, false},
		{"renew stream expired", mock.CallRenewStream, "room", func(f *sigFixture) string {
			return sigMint(t, mock.DefaultAppID, mock.DefaultCertificate, sigT0.Add(-time.Hour), 600, 1,
				accesstoken.RTCService("room", sigUser, accesstoken.RolePublisher, 600))
		}, signaling.CodeTokenExpired, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newSigFixture(t, mock.SignalingConfig{})
			ctx := context.Background()
			if tc.op != mock.CallLogin {
				f.login(3600)
				f.join("room", 3600)
			}
			before := f.sig.Stats()
			loginDeadline, _ := f.sig.CurrentToken("")
			tok := tc.token(f)
			var err error
			switch tc.op {
			case mock.CallLogin:
				err = f.sig.Login(ctx, tok)
			case mock.CallRenew:
				err = f.sig.RenewToken(ctx, tok)
			case mock.CallJoin:
				err = f.sig.JoinStream(ctx, tc.channel, tok)
			case mock.CallRenewStream:
				err = f.sig.RenewStreamToken(ctx, tc.channel, tok)
			}
			sigWantCode(t, err, tc.code)
			var se *signaling.Error
			errors.As(err, &se)
			if se.Op != tc.op.String() || se.Channel != tc.channel {
				t.Errorf("error op, channel = %q, %q; want %q, %q", se.Op, se.Channel, tc.op, tc.channel)
			}

			st := f.sig.Stats()
			wantExpired, wantRejected := before.ExpiredTokenUses, before.RejectedTokens+1
			wantKind := mock.EntryRejected
			if tc.expired {
				wantExpired, wantRejected = before.ExpiredTokenUses+1, before.RejectedTokens
				wantKind = mock.EntryExpiredUse
			}
			if st.ExpiredTokenUses != wantExpired || st.RejectedTokens != wantRejected || st.FailedCalls != before.FailedCalls+1 {
				t.Errorf("stats expired/rejected/failed = %d/%d/%d, want %d/%d/%d", st.ExpiredTokenUses,
					st.RejectedTokens, st.FailedCalls, wantExpired, wantRejected, before.FailedCalls+1)
			}
			var found bool
			for _, e := range f.sig.Timeline() {
				if e.Kind == wantKind && e.Op == tc.op && e.Code == tc.code && e.Channel == tc.channel {
					found = true
				}
				if len(tok) > 12 && strings.Contains(e.String(), tok) {
					t.Errorf("timeline entry holds the token: %s", e)
				}
			}
			if !found {
				t.Errorf("no %v entry for %v with code %v in timeline:\n%v", wantKind, tc.op, tc.code, f.sig.Timeline())
			}
			// The token in use is unaffected by a rejected renewal.
			if tc.op == mock.CallRenew {
				if d, _ := f.sig.CurrentToken(""); !d.Equal(loginDeadline) {
					t.Errorf("login deadline changed to %v by a rejected renew", d)
				}
			}
		})
	}
}

func TestSignalingWrongAppLoginReportsInconsistentAppID(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	tok := sigMint(t, "00112233445566778899aabbccddeeff", mock.DefaultCertificate, sigT0, 3600, 1,
		accesstoken.RTMService(sigUser, 3600))
	sigWantCode(t, f.sig.Login(context.Background(), tok), signaling.CodeInconsistentAppID)
	links := f.takeLinks()
	if len(links) != 2 || links[1].ReasonCode != signaling.ReasonInconsistentAppID {
		t.Errorf("events = %v, want CONNECTING then FAILED with INCONSISTENT_APP_ID", links)
	}
}
