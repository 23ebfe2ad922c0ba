package mock_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// sigT0 is the fixtures' start time.
var sigT0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

const sigUser = "bot-42"

// sigFixture is a fake Signaling on a clock.Mock with recording callbacks.
type sigFixture struct {
	t    *testing.T
	clk  *clock.Mock
	sig  *mock.Signaling
	salt uint32

	mu    sync.Mutex
	warns []string
	links []signaling.LinkStateEvent
}

func newSigFixture(t *testing.T, cfg mock.SignalingConfig) *sigFixture {
	t.Helper()
	clk := clock.NewMock()
	clk.Set(sigT0)
	cfg.Clock = clk
	if cfg.UserID == "" {
		cfg.UserID = sigUser
	}
	f := &sigFixture{t: t, clk: clk, sig: mock.NewSignaling(cfg)}
	f.sig.OnWillExpire(func(ch string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.warns = append(f.warns, ch)
	})
	f.sig.OnLinkState(func(e signaling.LinkStateEvent) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.links = append(f.links, e)
	})
	return f
}

// sigMint builds a 007 token issued at issued; it fails the test on error.
func sigMint(t *testing.T, appID, cert string, issued time.Time, ttl, salt uint32, svcs ...accesstoken.Service) string {
	t.Helper()
	tok, err := accesstoken.Build(accesstoken.Params{AppID: appID, Certificate: cert,
		IssueTs: uint32(issued.Unix()), Expire: ttl, Salt: salt, Services: svcs})
	if err != nil {
		t.Fatalf("accesstoken.Build: %v", err)
	}
	return tok
}

// mint builds a token with the default credentials, issued now, with a
// fresh salt so that no two minted tokens are equal.
func (f *sigFixture) mint(ttl uint32, svcs ...accesstoken.Service) string {
	f.t.Helper()
	f.salt++
	return sigMint(f.t, mock.DefaultAppID, mock.DefaultCertificate, f.clk.Now(), ttl, f.salt, svcs...)
}

func (f *sigFixture) rtm(ttl uint32) string {
	f.t.Helper()
	return f.mint(ttl, accesstoken.RTMService(sigUser, ttl))
}

func (f *sigFixture) rtc(channel string, ttl uint32) string {
	f.t.Helper()
	return f.mint(ttl, accesstoken.RTCService(channel, sigUser, accesstoken.RolePublisher, ttl))
}

// login logs in with a fresh RTM token of ttl seconds and drops the events.
func (f *sigFixture) login(ttl uint32) string {
	f.t.Helper()
	tok := f.rtm(ttl)
	if err := f.sig.Login(context.Background(), tok); err != nil {
		f.t.Fatalf("Login: %v", err)
	}
	f.takeLinks()
	return tok
}

func (f *sigFixture) join(channel string, ttl uint32) string {
	f.t.Helper()
	tok := f.rtc(channel, ttl)
	if err := f.sig.JoinStream(context.Background(), channel, tok); err != nil {
		f.t.Fatalf("JoinStream(%q): %v", channel, err)
	}
	return tok
}

// at sets the clock to sigT0+d and runs Tick; it returns how many signals fired.
func (f *sigFixture) at(d time.Duration) int {
	f.clk.Set(sigT0.Add(d))
	return f.sig.Tick()
}

func (f *sigFixture) takeWarns() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.warns
	f.warns = nil
	return w
}

func (f *sigFixture) takeLinks() []signaling.LinkStateEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.links
	f.links = nil
	return l
}

func (f *sigFixture) lastEntry() mock.Entry {
	tl := f.sig.Timeline()
	if len(tl) == 0 {
		f.t.Fatal("timeline is empty")
	}
	return tl[len(tl)-1]
}

// sigWantCode fails unless err is a *signaling.Error with code want.
func sigWantCode(t *testing.T, err error, want signaling.ErrorCode) {
	t.Helper()
	var se *signaling.Error
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *signaling.Error %v", err, want)
	}
	if se.Code != want || !errors.Is(err, &signaling.Error{Code: want}) {
		t.Fatalf("code = %v, want %v (err %v)", se.Code, want, err)
	}
}

// sigEvent is the comparable part of a LinkStateEvent.
func sigEvent(e signaling.LinkStateEvent) string {
	return e.String() + " resumed=" + map[bool]string{true: "yes", false: "no"}[e.IsResumed]
}

func sigWantEvents(t *testing.T, got []signaling.LinkStateEvent, want ...signaling.LinkStateEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d link events, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if sigEvent(g) != sigEvent(w) || g.Reason != w.Reason || g.Timestamp != w.Timestamp ||
			!slices.Equal(g.UnrestoredChannels, w.UnrestoredChannels) {
			t.Errorf("event %d:\n got %s %q ts=%d\nwant %s %q ts=%d", i, sigEvent(g), g.Reason, g.Timestamp,
				sigEvent(w), w.Reason, w.Timestamp)
		}
	}
}

func sigMillis(t time.Time) uint64 { return uint64(t.UnixMilli()) }

func TestSignalingLoginEmitsConnectingConnected(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	if got := f.sig.State(); got != signaling.LinkIdle {
		t.Fatalf("initial state = %v, want IDLE", got)
	}
	tok := f.rtm(3600)
	if err := f.sig.Login(context.Background(), tok); err != nil {
		t.Fatalf("Login: %v", err)
	}
	ts := sigMillis(sigT0)
	sigWantEvents(t, f.takeLinks(),
		signaling.LinkStateEvent{Current: signaling.LinkConnecting, Previous: signaling.LinkIdle,
			Service: signaling.ServiceMessage, Operation: signaling.OpLogin, ReasonCode: signaling.ReasonLogin,
			Reason: "Login", Timestamp: ts},
		signaling.LinkStateEvent{Current: signaling.LinkConnected, Previous: signaling.LinkConnecting,
			Service: signaling.ServiceMessage, Operation: signaling.OpLogin, ReasonCode: signaling.ReasonLoginSuccess,
			Reason: "Login success", Timestamp: ts})
	if got := f.sig.State(); got != signaling.LinkConnected {
		t.Errorf("state = %v, want CONNECTED", got)
	}
	d, ok := f.sig.CurrentToken("")
	if !ok || !d.Equal(sigT0.Add(time.Hour)) {
		t.Errorf("CurrentToken(\"\") = %v, %v; want %v, true", d, ok, sigT0.Add(time.Hour))
	}
	if st := f.sig.Stats(); st.Logins != 1 || st.FailedCalls != 0 {
		t.Errorf("stats = %+v, want 1 login and no failures", st)
	}

	if err := f.sig.Logout(context.Background()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	sigWantEvents(t, f.takeLinks(), signaling.LinkStateEvent{Current: signaling.LinkIdle,
		Previous: signaling.LinkConnected, Service: signaling.ServiceMessage, Operation: signaling.OpLogout,
		ReasonCode: signaling.ReasonLogout, Reason: "Logout", Timestamp: ts})
	if _, ok := f.sig.CurrentToken(""); ok {
		t.Error("login token still installed after Logout")
	}
}

func TestSignalingRenewJoinRenewStreamLeave(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	f.login(3600)

	f.clk.Add(10 * time.Minute)
	if err := f.sig.RenewToken(ctx, f.rtm(3600)); err != nil {
		t.Fatalf("RenewToken: %v", err)
	}
	if d, _ := f.sig.CurrentToken(""); !d.Equal(sigT0.Add(70 * time.Minute)) {
		t.Errorf("login deadline after renew = %v, want %v", d, sigT0.Add(70*time.Minute))
	}

	f.join("room-1", 600)
	f.join("room-0", 1200)
	if got, want := f.sig.Joined(), []string{"room-0", "room-1"}; !slices.Equal(got, want) {
		t.Errorf("Joined = %v, want %v", got, want)
	}
	if d, ok := f.sig.CurrentToken("room-1"); !ok || !d.Equal(sigT0.Add(20*time.Minute)) {
		t.Errorf("room-1 deadline = %v, %v; want %v", d, ok, sigT0.Add(20*time.Minute))
	}
	f.clk.Add(time.Minute)
	if err := f.sig.RenewStreamToken(ctx, "room-1", f.rtc("room-1", 600)); err != nil {
		t.Fatalf("RenewStreamToken: %v", err)
	}
	if d, _ := f.sig.CurrentToken("room-1"); !d.Equal(sigT0.Add(21 * time.Minute)) {
		t.Errorf("room-1 deadline after renew = %v, want %v", d, sigT0.Add(21*time.Minute))
	}
	if err := f.sig.LeaveStream(ctx, "room-0"); err != nil {
		t.Fatalf("LeaveStream: %v", err)
	}
	if got := f.sig.Joined(); !slices.Equal(got, []string{"room-1"}) {
		t.Errorf("Joined after leave = %v", got)
	}
	if err := f.sig.RestoreSession(ctx, []string{"room-1"}); err != nil {
		t.Fatalf("RestoreSession: %v", err)
	}
	st := f.sig.Stats()
	want := mock.SignalingStats{Logins: 1, Renewals: 1, Joins: 2, StreamRenewals: 1, Leaves: 1, Restores: 1}
	if st != want {
		t.Errorf("stats = %+v\nwant  %+v", st, want)
	}
}

func TestSignalingFailedLoginGoesFailedAndNeedsLogout(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	expired := sigMint(t, mock.DefaultAppID, mock.DefaultCertificate, sigT0.Add(-2*time.Hour), 3600, 1,
		accesstoken.RTMService(sigUser, 3600))
	sigWantCode(t, f.sig.Login(ctx, expired), signaling.CodeTokenExpired)
	ts := sigMillis(sigT0)
	sigWantEvents(t, f.takeLinks(),
		signaling.LinkStateEvent{Current: signaling.LinkConnecting, Previous: signaling.LinkIdle,
			Service: signaling.ServiceMessage, Operation: signaling.OpLogin, ReasonCode: signaling.ReasonLogin,
			Reason: "Login", Timestamp: ts},
		signaling.LinkStateEvent{Current: signaling.LinkFailed, Previous: signaling.LinkConnecting,
			Service: signaling.ServiceMessage, Operation: signaling.OpLogin, ReasonCode: signaling.ReasonTokenExpired,
			Reason: "TOKEN_EXPIRED", Timestamp: ts})
	if got := f.sig.State(); got != signaling.LinkFailed {
		t.Errorf("state = %v, want FAILED", got)
	}
	// The wrapper quirk: a second Login without Logout fails, even with a good token.
	good := f.rtm(3600)
	sigWantCode(t, f.sig.Login(ctx, good), signaling.CodeDuplicateOperation)
	if err := f.sig.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if err := f.sig.Login(ctx, good); err != nil {
		t.Fatalf("Login after Logout: %v", err)
	}
	// Logged in: a second Login fails too.
	sigWantCode(t, f.sig.Login(ctx, f.rtm(3600)), signaling.CodeDuplicateOperation)
	if st := f.sig.Stats(); st.Logins != 1 || st.ExpiredTokenUses != 1 || st.FailedCalls != 3 {
		t.Errorf("stats = %+v, want 1 login, 1 expired use, 3 failed calls", st)
	}
}

func TestSignalingStateErrors(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	sigWantCode(t, f.sig.RenewToken(ctx, f.rtm(3600)), signaling.CodeNotConnected)
	sigWantCode(t, f.sig.JoinStream(ctx, "room", f.rtc("room", 600)), signaling.CodeNotConnected)
	sigWantCode(t, f.sig.RestoreSession(ctx, nil), signaling.CodeNotConnected)
	if err := f.sig.Logout(ctx); err != nil {
		t.Errorf("Logout when logged out = %v, want nil", err)
	}
	if links := f.takeLinks(); len(links) != 0 {
		t.Errorf("Logout when IDLE emitted %v", links)
	}

	f.login(3600)
	sigWantCode(t, f.sig.JoinStream(ctx, "", f.rtc("", 600)), signaling.CodeInvalidChannelName)
	long := strings.Repeat("x", 65)
	sigWantCode(t, f.sig.JoinStream(ctx, long, f.rtc(long, 600)), signaling.CodeInvalidChannelName)
	sigWantCode(t, f.sig.RenewStreamToken(ctx, "", f.rtc("room", 600)), signaling.CodeInvalidChannelName)
	sigWantCode(t, f.sig.RenewStreamToken(ctx, "room", f.rtc("room", 600)), signaling.CodeChannelNotJoined)
	sigWantCode(t, f.sig.LeaveStream(ctx, "room"), signaling.CodeChannelNotJoined)
	sigWantCode(t, f.sig.LeaveStream(ctx, ""), signaling.CodeInvalidChannelName)
	f.join("room", 600)
	sigWantCode(t, f.sig.JoinStream(ctx, "room", f.rtc("room", 600)), signaling.CodeDuplicateOperation)

	if !f.sig.Disconnect() {
		t.Fatal("Disconnect on a connected link reported false")
	}
	sigWantCode(t, f.sig.RenewToken(ctx, f.rtm(3600)), signaling.CodeNotConnected)
	sigWantCode(t, f.sig.RenewStreamToken(ctx, "room", f.rtc("room", 600)), signaling.CodeNotConnected)
	if st := f.sig.Stats(); st.RejectedTokens != 0 || st.ExpiredTokenUses != 0 {
		t.Errorf("state errors counted as token rejections: %+v", st)
	}
}

func TestSignalingRenewWithTokenInUseIsNoop(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	tok := f.login(3600)
	room := f.join("room", 600)
	f.clk.Add(time.Minute)
	if err := f.sig.RenewToken(ctx, tok); err != nil {
		t.Fatalf("RenewToken(same): %v", err)
	}
	if err := f.sig.RenewStreamToken(ctx, "room", room); err != nil {
		t.Fatalf("RenewStreamToken(same): %v", err)
	}
	if d, _ := f.sig.CurrentToken(""); !d.Equal(sigT0.Add(time.Hour)) {
		t.Errorf("deadline moved by a no-op renew: %v", d)
	}
	st := f.sig.Stats()
	if st.RenewNoops != 2 || st.Renewals != 0 || st.StreamRenewals != 0 {
		t.Errorf("stats = %+v, want 2 no-ops and no renewals", st)
	}
	if e := f.lastEntry(); e.Kind != mock.EntryRenewNoop || e.Channel != "room" || !e.OK {
		t.Errorf("last entry = %v, want a renew-noop for room", e)
	}
}

func TestSignalingLoginRateLimit(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{LoginRateLimit: 2, LoginRateWindow: time.Second})
	ctx := context.Background()
	for i := range 2 {
		if err := f.sig.Login(ctx, f.rtm(3600)); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		if err := f.sig.Logout(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tok := f.rtm(3600)
	sigWantCode(t, f.sig.Login(ctx, tok), signaling.CodeOperationRateExceedLimitation)
	if got := f.sig.State(); got != signaling.LinkIdle {
		t.Errorf("state after a rate-limited login = %v, want IDLE", got)
	}
	f.clk.Add(time.Second - time.Nanosecond)
	sigWantCode(t, f.sig.Login(ctx, tok), signaling.CodeOperationRateExceedLimitation)
	f.clk.Add(time.Nanosecond)
	if err := f.sig.Login(ctx, tok); err != nil {
		t.Fatalf("login after the window: %v", err)
	}
}

func TestSignalingDefaults(t *testing.T) {
	s := mock.NewSignaling(mock.SignalingConfig{})
	if got := s.UserID(); got != "user-1" {
		t.Errorf("default UserID = %q, want user-1", got)
	}
	tok := sigMint(t, mock.DefaultAppID, mock.DefaultCertificate, time.Now(), 3600, 1,
		accesstoken.RTMService("user-1", 3600))
	if err := s.Login(context.Background(), tok); err != nil {
		t.Fatalf("Login with default credentials on the real clock: %v", err)
	}

	// The default rate limit is 20 logins per second.
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	tok = f.rtm(3600)
	for i := range 20 {
		if err := f.sig.Login(ctx, tok); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		if err := f.sig.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Millisecond)
	}
	sigWantCode(t, f.sig.Login(ctx, tok), signaling.CodeOperationRateExceedLimitation)
	f.clk.Add(979 * time.Millisecond) // 999 ms after the first login
	sigWantCode(t, f.sig.Login(ctx, tok), signaling.CodeOperationRateExceedLimitation)
	f.clk.Add(time.Millisecond) // the first login leaves the window
	if err := f.sig.Login(ctx, tok); err != nil {
		t.Fatalf("login once the first left the window: %v", err)
	}
}

func TestSignalingCanceledContext(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.sig.Login(ctx, f.rtm(3600)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Login with a canceled context = %v, want context.Canceled", err)
	}
	if got := f.sig.State(); got != signaling.LinkIdle {
		t.Errorf("state = %v, want IDLE", got)
	}
	if e := f.lastEntry(); e.Kind != mock.EntryLogin || e.OK {
		t.Errorf("last entry = %v, want a failed login", e)
	}
}

// TestSignalingPrintsNoCertificate: printing the fake SDK never shows the
// certificate it verifies with.
func TestSignalingPrintsNoCertificate(t *testing.T) {
	const cert = "5cfd2fd1755d40ecb72977518be15d3b"
	s := mock.NewSignaling(mock.SignalingConfig{Certificate: cert, UserID: sigUser})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s)} {
		if strings.Contains(out, cert) {
			t.Errorf("%q shows the certificate", out)
		}
		if !strings.Contains(out, sigUser) {
			t.Errorf("%q does not name the user", out)
		}
	}
}
