package mock_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

func sigWantNext(t *testing.T, s *mock.Signaling, want time.Time) {
	t.Helper()
	got, ok := s.NextDue()
	if !ok || !got.Equal(want) {
		t.Fatalf("NextDue = %v, %v; want %v, true", got, ok, want)
	}
}

func TestSignalingLoginTokenWillExpireThenFailed(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	f.login(3600)
	f.join("b", 7200)
	f.join("a", 7200)
	d := time.Hour

	sigWantNext(t, f.sig, sigT0.Add(d-30*time.Second))
	if n := f.at(d - 30*time.Second - time.Nanosecond); n != 0 || len(f.takeWarns()) != 0 {
		t.Fatalf("1 ns before the warning: %d signals fired", n)
	}
	if n := f.at(d - 30*time.Second); n != 1 {
		t.Fatalf("at the warning: %d signals fired, want 1", n)
	}
	if got := f.takeWarns(); !slices.Equal(got, []string{""}) {
		t.Fatalf("warnings = %q, want [\"\"]", got)
	}
	sigWantNext(t, f.sig, sigT0.Add(d))
	if n := f.at(d - time.Nanosecond); n != 0 || len(f.takeLinks()) != 0 || f.sig.State() != signaling.LinkConnected {
		t.Fatalf("1 ns before the deadline: %d signals, state %v", n, f.sig.State())
	}
	if n := f.at(d); n != 1 {
		t.Fatalf("at the deadline: %d signals fired, want 1", n)
	}
	sigWantEvents(t, f.takeLinks(), signaling.LinkStateEvent{
		Current: signaling.LinkFailed, Previous: signaling.LinkConnected, Service: signaling.ServiceMessage,
		Operation: signaling.OpServerReject, ReasonCode: signaling.ReasonTokenExpired, Reason: "Token expired",
		AffectedChannels: []string{"a", "b"}, Timestamp: sigMillis(sigT0.Add(d))})
	if got := f.sig.State(); got != signaling.LinkFailed {
		t.Errorf("state = %v, want FAILED", got)
	}
	if got := f.sig.Joined(); len(got) != 0 {
		t.Errorf("stream channels kept after FAILED: %v", got)
	}
	if _, ok := f.sig.CurrentToken(""); ok {
		t.Error("login token kept after FAILED")
	}
	if _, ok := f.sig.NextDue(); ok {
		t.Error("signals still pending after FAILED")
	}
	st := f.sig.Stats()
	if st.WillExpireSignals != 1 || st.FailedSignals != 1 || st.ExpiredTokenUses != 0 {
		t.Errorf("stats = %+v, want 1 warning, 1 FAILED, 0 expired uses", st)
	}
	sigWantCode(t, f.sig.RenewToken(context.Background(), f.rtm(3600)), signaling.CodeNotConnected)
	sigWantCode(t, f.sig.Login(context.Background(), f.rtm(3600)), signaling.CodeDuplicateOperation)
}

func TestSignalingStreamTokenWillExpireThenFailed(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	f.login(7200)
	f.join("room", 600)
	d := 10 * time.Minute

	sigWantNext(t, f.sig, sigT0.Add(d-30*time.Second))
	f.at(d - 30*time.Second - time.Nanosecond)
	if got := f.takeWarns(); len(got) != 0 {
		t.Fatalf("warnings 1 ns early: %q", got)
	}
	f.at(d - 30*time.Second)
	if got := f.takeWarns(); !slices.Equal(got, []string{"room"}) {
		t.Fatalf("warnings = %q, want [room]", got)
	}
	f.at(d - time.Nanosecond)
	if got := f.takeLinks(); len(got) != 0 {
		t.Fatalf("events 1 ns before the deadline: %v", got)
	}
	f.at(d)
	sigWantEvents(t, f.takeLinks(), signaling.LinkStateEvent{
		Current: signaling.LinkFailed, Previous: signaling.LinkConnected, Service: signaling.ServiceStream,
		Operation: signaling.OpServerReject, ReasonCode: signaling.ReasonTokenExpired, Reason: "Token expired",
		AffectedChannels: []string{"room"}, Timestamp: sigMillis(sigT0.Add(d))})
	if got := f.sig.State(); got != signaling.LinkConnected {
		t.Errorf("message link = %v after a stream FAILED, want CONNECTED", got)
	}
	if got := f.sig.Joined(); len(got) != 0 {
		t.Errorf("Joined = %v, want the channel left", got)
	}
	sigWantCode(t, f.sig.RenewStreamToken(ctx, "room", f.rtc("room", 600)), signaling.CodeChannelNotJoined)
	if err := f.sig.JoinStream(ctx, "room", f.rtc("room", 600)); err != nil {
		t.Fatalf("rejoin with a fresh token: %v", err)
	}
}

func TestSignalingSignalOrder(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	f.login(600)
	f.join("b", 600)
	f.join("a", 600)
	var order []string
	f.sig.OnWillExpire(func(ch string) { order = append(order, "warn "+ch) })
	f.sig.OnLinkState(func(e signaling.LinkStateEvent) { order = append(order, fmt.Sprint("failed ", e.AffectedChannels)) })
	// One Tick far past every signal fires each in time order, the login
	// first among equals, then channels by name; the login FAILED drops the
	// channels, so their deadlines never fire.
	if n := f.at(time.Hour); n != 4 {
		t.Errorf("Tick fired %d signals, want 4", n)
	}
	want := []string{"warn ", "warn a", "warn b", "failed [a b]"}
	if !slices.Equal(order, want) {
		t.Errorf("order = %q, want %q", order, want)
	}
	// Entries carry the time each signal was due, not the time of the Tick.
	var warnTimes []time.Time
	for _, e := range f.sig.Timeline() {
		if e.Kind == mock.EntryWillExpire {
			warnTimes = append(warnTimes, e.Time)
		}
	}
	w := sigT0.Add(570 * time.Second)
	if !slices.Equal(warnTimes, []time.Time{w, w, w}) {
		t.Errorf("warning entries at %v, want three at %v", warnTimes, w)
	}
	if e := f.lastEntry(); e.Kind != mock.EntryLinkState || !e.Time.Equal(sigT0.Add(600*time.Second)) {
		t.Errorf("last entry = %v, want the FAILED event at %v", e, sigT0.Add(600*time.Second))
	}
}

func TestSignalingRenewMovesDeadlineAndRearmsWarning(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	f.login(100)
	f.join("room", 100)
	f.at(70 * time.Second)
	if got := f.takeWarns(); !slices.Equal(got, []string{"", "room"}) {
		t.Fatalf("warnings = %q", got)
	}
	f.at(80 * time.Second)
	if err := f.sig.RenewToken(ctx, f.rtm(100)); err != nil {
		t.Fatal(err)
	}
	if err := f.sig.RenewStreamToken(ctx, "room", f.rtc("room", 100)); err != nil {
		t.Fatal(err)
	}
	sigWantNext(t, f.sig, sigT0.Add(150*time.Second))
	if n := f.at(100 * time.Second); n != 0 || len(f.takeLinks()) != 0 {
		t.Fatalf("old deadline fired %d signals after renew", n)
	}
	f.at(150 * time.Second)
	if got := f.takeWarns(); !slices.Equal(got, []string{"", "room"}) {
		t.Fatalf("re-armed warnings = %q", got)
	}
	f.at(180 * time.Second)
	if got := f.takeLinks(); len(got) != 1 || got[0].Service != signaling.ServiceMessage {
		t.Fatalf("events at the new deadline = %v, want the login FAILED", got)
	}
}

func TestSignalingRenewBeforeWarningSkipsIt(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	f.login(100)
	f.at(60 * time.Second)
	if err := f.sig.RenewToken(context.Background(), f.rtm(100)); err != nil {
		t.Fatal(err)
	}
	if n := f.at(129 * time.Second); n != 0 {
		t.Fatalf("%d signals fired before the renewed warning", n)
	}
	f.at(130 * time.Second)
	if got := f.takeWarns(); len(got) != 1 {
		t.Fatalf("warnings = %q, want one", got)
	}
}

func TestSignalingPrivilegeDeadlineBoundsToken(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	// Tokens valid for an hour whose login and join privileges end after
	// ten and five minutes.
	if err := f.sig.Login(ctx, f.mint(3600, accesstoken.RTMService(sigUser, 600))); err != nil {
		t.Fatal(err)
	}
	if err := f.sig.JoinStream(ctx, "room", f.mint(3600,
		accesstoken.RTCService("room", sigUser, accesstoken.RoleSubscriber, 300))); err != nil {
		t.Fatal(err)
	}
	for ch, want := range map[string]time.Duration{"": 10 * time.Minute, "room": 5 * time.Minute} {
		if d, _ := f.sig.CurrentToken(ch); !d.Equal(sigT0.Add(want)) {
			t.Errorf("CurrentToken(%q) = %v, want the privilege deadline %v", ch, d, sigT0.Add(want))
		}
	}
	f.at(5 * time.Minute)
	if got := f.sig.Joined(); len(got) != 0 {
		t.Errorf("room still joined at its privilege deadline")
	}
	f.at(10 * time.Minute)
	if got := f.sig.State(); got != signaling.LinkFailed {
		t.Errorf("state at the login privilege deadline = %v, want FAILED", got)
	}
}

func TestSignalingShortTokenWarnsAtOnce(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	tok := sigMint(t, mock.DefaultAppID, mock.DefaultCertificate, sigT0.Add(-50*time.Second), 60, 1,
		accesstoken.RTMService(sigUser, 60))
	if err := f.sig.Login(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	sigWantNext(t, f.sig, sigT0)
	if n := f.sig.Tick(); n != 1 || !slices.Equal(f.takeWarns(), []string{""}) {
		t.Fatalf("Tick fired %d signals, want the warning at once", n)
	}
	sigWantNext(t, f.sig, sigT0.Add(10*time.Second))
}

func TestSignalingCallbacksMayCallBack(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	f.login(3600)
	var errs []error
	f.sig.OnWillExpire(func(string) { errs = append(errs, f.sig.RenewToken(ctx, f.rtm(3600))) })
	f.sig.OnLinkState(func(e signaling.LinkStateEvent) {
		if e.TokenRejected() && e.Service == signaling.ServiceMessage {
			errs = append(errs, f.sig.Logout(ctx), f.sig.Login(ctx, f.rtm(3600)))
		}
	})
	f.at(time.Hour - 30*time.Second)
	wantDeadline := sigT0.Add(2*time.Hour - 30*time.Second)
	if d, _ := f.sig.CurrentToken(""); !d.Equal(wantDeadline) {
		t.Fatalf("deadline = %v, want %v (renewed inside the callback)", d, wantDeadline)
	}
	f.sig.ExpireNow("")
	for _, err := range errs {
		if err != nil {
			t.Errorf("call from a callback: %v", err)
		}
	}
	if got := f.sig.State(); got != signaling.LinkConnected || len(errs) != 3 {
		t.Errorf("state = %v after %d calls, want CONNECTED after a relogin in the callback", got, len(errs))
	}
}

func TestSignalingRunFiresOnTheRealClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := mock.NewSignaling(mock.SignalingConfig{UserID: sigUser})
		var (
			mu    sync.Mutex
			warns []string
			links []signaling.LinkStateEvent
		)
		s.OnWillExpire(func(ch string) { mu.Lock(); warns = append(warns, ch); mu.Unlock() })
		s.OnLinkState(func(e signaling.LinkStateEvent) { mu.Lock(); links = append(links, e); mu.Unlock() })
		counts := func() (int, int) { mu.Lock(); defer mu.Unlock(); return len(warns), len(links) }

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		synctest.Wait() // Run waits with nothing scheduled

		start := time.Now()
		tok := sigMint(t, mock.DefaultAppID, mock.DefaultCertificate, start, 60, 1, accesstoken.RTMService(sigUser, 60))
		if err := s.Login(ctx, tok); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30*time.Second - time.Nanosecond)
		synctest.Wait()
		if w, _ := counts(); w != 0 {
			t.Fatalf("warning 1 ns early")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if w, _ := counts(); w != 1 {
			t.Fatalf("%d warnings at deadline-30s, want 1", w)
		}
		// A renewal while Run waits moves its timer.
		time.Sleep(10 * time.Second)
		renewed := sigMint(t, mock.DefaultAppID, mock.DefaultCertificate, time.Now(), 60, 2, accesstoken.RTMService(sigUser, 60))
		if err := s.RenewToken(ctx, renewed); err != nil {
			t.Fatal(err)
		}
		time.Sleep(25 * time.Second) // start+65s: past the old deadline, before the new warning (start+70s)
		synctest.Wait()
		if w, l := counts(); w != 1 || l != 2 {
			t.Fatalf("after the old deadline: %d warnings, %d events; want 1 and the 2 login events", w, l)
		}
		time.Sleep(35 * time.Second) // start+100s: the new deadline
		synctest.Wait()
		if w, l := counts(); w != 2 || l != 3 || s.State() != signaling.LinkFailed {
			t.Fatalf("at the new deadline: %d warnings, %d events, state %v", w, l, s.State())
		}
		if got := time.Since(start); got != 100*time.Second {
			t.Errorf("elapsed %v, want 100s", got)
		}
		cancel()
		<-done
	})
}

func TestSignalingConcurrentUse(t *testing.T) {
	f := newSigFixture(t, mock.SignalingConfig{})
	ctx := context.Background()
	f.login(3600)
	const workers, rounds = 4, 30
	renewTokens := make([][]string, workers)
	joinTokens := make([][]string, workers)
	for w := range workers {
		for range rounds {
			renewTokens[w] = append(renewTokens[w], f.rtm(3600))
			joinTokens[w] = append(joinTokens[w], f.rtc(fmt.Sprint("ch-", w), 3600))
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ch := fmt.Sprint("ch-", w)
			for i := range rounds {
				if err := f.sig.RenewToken(ctx, renewTokens[w][i]); err != nil {
					t.Errorf("RenewToken: %v", err)
				}
				if err := f.sig.JoinStream(ctx, ch, joinTokens[w][i]); err != nil {
					t.Errorf("JoinStream: %v", err)
				}
				f.sig.Tick()
				f.sig.NextDue()
				_ = f.sig.Stats()
				_ = f.sig.Timeline()
				_ = f.sig.Joined()
				if err := f.sig.LeaveStream(ctx, ch); err != nil {
					t.Errorf("LeaveStream: %v", err)
				}
			}
		})
	}
	wg.Wait()
	st := f.sig.Stats()
	if st.Renewals != workers*rounds || st.Joins != workers*rounds || st.Leaves != workers*rounds {
		t.Errorf("stats = %+v, want %d renewals, joins and leaves", st, workers*rounds)
	}
}
