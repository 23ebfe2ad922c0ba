package fetcher

import (
	"net/http"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

func answerToken(tok string) func(http.ResponseWriter, *http.Request) {
	return jsonAnswer(map[string]string{"token": tok})
}

func TestTokenMismatch(t *testing.T) {
	rtc := func(ch, acc string, role accesstoken.Role) string { return rtcToken(t, ch, acc, role) }
	tests := []struct {
		name  string
		req   Request
		token string
		frags []string
	}{
		{"wrong app", rtmAlice, mint(t, otherApp, t0, 3600, accesstoken.RTMService("alice", 3600)),
			[]string{`app ID "` + otherApp + `"`}},
		{"wrong user", rtmAlice, rtmToken(t, "bob"), []string{`RTM user "bob"`, `not RTM user "alice"`}},
		{"rtc token for rtm request", rtmAlice, rtc("room-1", "alice", accesstoken.RolePublisher), []string{"rtc service"}},
		{"rtm token for rtc request", rtcRoom, rtmToken(t, "alice"), []string{"rtm service", `RTC channel "room-1" for user "alice"`}},
		{"wrong channel", rtcRoom, rtc("room-2", "alice", accesstoken.RolePublisher), []string{`RTC channel "room-2"`}},
		{"wrong account", rtcRoom, rtc("room-1", "bob", accesstoken.RolePublisher), []string{`for user "bob"`}},
		{"wildcard for account", rtcRoom, rtc("room-1", "", accesstoken.RolePublisher), []string{"wildcard uid 0"}},
		{"account for wildcard", Request{Kind: KindRTC, Channel: "room-1"}, rtc("room-1", "7", accesstoken.RolePublisher),
			[]string{`not RTC channel "room-1" for the wildcard uid 0`}},
		{"subscriber for publisher", rtcRoom, rtc("room-1", "alice", accesstoken.RoleSubscriber), []string{"subscriber rights only"}},
		{"no login privilege", rtmAlice, mint(t, testAppID, t0, 3600,
			accesstoken.Service{Type: accesstoken.ServiceRTM, UserID: "alice"}), []string{"lacks the login privilege"}},
		{"006 wrong channel", rtcRoom, legacy(t, "room-2", "alice", 1), []string{"checksums do not match"}},
		{"006 rtm for wrong user", rtmAlice, legacy(t, "bob", "", 1000), []string{"checksums"}},
		{"006 rtm without login privilege", rtmAlice, legacy(t, "alice", "", 1), []string{"lacks privilege 1000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHTTP(t, serve(answerToken(tt.token)), WithAppID(testAppID))
			_, err := h.Fetch(background(t), tt.req)
			wantErr(t, err, Permanent, ErrMismatch, tt.frags...)
		})
	}
}

// legacy mints a 006 token whose privilege priv lasts one hour from t0.
func legacy(t testing.TB, channel, uid string, priv uint16) string {
	t.Helper()
	tok, err := accesstoken.BuildLegacy(accesstoken.LegacyParams{
		AppID: testAppID, Certificate: testCert, Channel: channel, UID: uid, Salt: 1,
		Ts: uint32(t0.Add(24 * time.Hour).Unix()), Privileges: []accesstoken.Privilege{{ID: priv, Value: uint32(t0.Add(time.Hour).Unix())}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenAccepted(t *testing.T) {
	clk := mockClock()
	clk.Add(10 * time.Second) // the response arrives 10 s after issue
	tests := []struct {
		name      string
		req       Request
		token     string
		issued    time.Time
		expiresAt time.Time
	}{
		{"rtm", rtmAlice, rtmToken(t, "alice"), t0, t0.Add(time.Hour)},
		{"rtc publisher", rtcRoom, rtcToken(t, "room-1", "alice", accesstoken.RolePublisher), t0, t0.Add(time.Hour)},
		{"rtc subscriber gets publisher", Request{Kind: KindRTC, Channel: "room-1", Account: "alice", Role: RoleSubscriber},
			rtcToken(t, "room-1", "alice", accesstoken.RolePublisher), t0, t0.Add(time.Hour)},
		{"rtc numeric uid", Request{Kind: KindRTC, Channel: "c", UID: 1234}, rtcToken(t, "c", "1234", accesstoken.RolePublisher),
			t0, t0.Add(time.Hour)},
		{"rtm token with channel (rte)", rtmAlice, mint(t, testAppID, t0, 3600,
			accesstoken.Service{Type: accesstoken.ServiceRTC, Channel: "c", Account: "alice",
				Privileges: []accesstoken.Privilege{{ID: 1, Value: 3600}, {ID: 4, Value: 3600}}},
			accesstoken.RTMService("alice", 3600)), t0, t0.Add(time.Hour)},
		{"privilege shorter than token", rtmAlice, mint(t, testAppID, t0, 7200, accesstoken.RTMService("alice", 600)),
			t0, t0.Add(10 * time.Minute)},
		{"privilege 0 means token deadline", rtmAlice, mint(t, testAppID, t0, 900, accesstoken.RTMService("alice", 0)),
			t0, t0.Add(15 * time.Minute)},
		{"006 rtc", rtcRoom, legacy(t, "room-1", "alice", 1), t0, t0.Add(time.Hour)},
		{"006 rtm", rtmAlice, legacy(t, "alice", "", 1000), t0, t0.Add(time.Hour)},
		{"docs sample absolute-expiry bug", rtmAlice, mint(t, testAppID, t0, uint32(t0.Unix())+3600,
			accesstoken.RTMService("alice", uint32(t0.Unix())+3600)), t0, t0.Add(time.Duration(t0.Unix()+3600) * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHTTP(t, serve(answerToken(tt.token)), WithAppID(testAppID), WithClock(clk))
			tok, err := h.Fetch(background(t), tt.req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if !tok.ExpiresAt.Equal(tt.expiresAt) {
				t.Errorf("ExpiresAt = %v, want %v", tok.ExpiresAt, tt.expiresAt)
			}
			if tt.token[:3] == "007" && !tok.IssuedAt.Equal(tt.issued) {
				t.Errorf("IssuedAt = %v, want %v", tok.IssuedAt, tt.issued)
			}
			if !tok.ReceivedAt.Equal(t0.Add(10 * time.Second)) {
				t.Errorf("ReceivedAt = %v", tok.ReceivedAt)
			}
			if tok.Lifetime != tt.expiresAt.Sub(tok.IssuedAt) {
				t.Errorf("Lifetime = %v", tok.Lifetime)
			}
			if tok.Raw != tt.token {
				t.Errorf("Raw differs")
			}
			if d := tok.Deadline(); !d.Equal(tt.expiresAt) && d.After(tt.expiresAt) {
				t.Errorf("Deadline %v after ExpiresAt %v", d, tt.expiresAt)
			}
		})
	}
}

func TestTokenWhitespaceTrimmed(t *testing.T) {
	tok := rtmToken(t, "alice")
	h := newTestHTTP(t, serve(answerToken("\n "+tok+" \n")))
	got, err := h.Fetch(background(t), rtmAlice)
	if err != nil || got.Raw != tok {
		t.Fatalf("Fetch = %q, %v", got.Raw, err)
	}
}

func TestExpiredTokens(t *testing.T) {
	tests := []struct {
		name  string
		token string
		frags []string
	}{
		{"expired before arrival", mint(t, testAppID, t0.Add(-2*time.Hour), 3600, accesstoken.RTMService("alice", 3600)),
			[]string{"expired at 2025-06-01T11:00:00Z", "before it arrived at 2025-06-01T12:00:00Z"}},
		{"expires exactly on arrival", mint(t, testAppID, t0.Add(-time.Hour), 3600, accesstoken.RTMService("alice", 3600)),
			[]string{"expired at"}},
		{"zero lifetime", mint(t, testAppID, t0, 0, accesstoken.RTMService("alice", 0)), []string{"no lifetime"}},
		{"006 privilege in the past", legacyExpired(t), []string{"expired at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHTTP(t, serve(answerToken(tt.token)))
			_, err := h.Fetch(background(t), rtmAlice)
			wantErr(t, err, Retryable, ErrExpired, tt.frags...)
		})
	}
}

func legacyExpired(t testing.TB) string {
	tok, err := accesstoken.BuildLegacy(accesstoken.LegacyParams{
		AppID: testAppID, Certificate: testCert, Channel: "alice", Salt: 1,
		Ts: uint32(t0.Add(20 * time.Hour).Unix()), Privileges: []accesstoken.Privilege{{ID: 1000, Value: uint32(t0.Add(-time.Minute).Unix())}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// dated answers with tok and a Date header showing the server's clock.
func dated(tok string, serverNow time.Time) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", serverNow.UTC().Format(http.TimeFormat))
		answerToken(tok)(w, r)
	}
}

// TestServerClockFromDateHeader checks that expiry is judged on the token
// server's clock when it sends a Date header, and that the deadline is the
// token's remaining life measured from local receipt.
func TestServerClockFromDateHeader(t *testing.T) {
	serverNow := t0.Add(-2 * time.Hour) // the client's clock (t0) runs 2 h ahead of the server's
	fresh := mint(t, testAppID, serverNow, 3600, accesstoken.RTMService("alice", 3600))
	h := newTestHTTP(t, serve(dated(fresh, serverNow)))
	tok, err := h.Fetch(background(t), rtmAlice)
	if err != nil {
		t.Fatalf("a fresh token from a server 2 h behind the client was refused: %v", err)
	}
	if !tok.ServerTime.Equal(serverNow) {
		t.Errorf("ServerTime = %v, want %v", tok.ServerTime, serverNow)
	}
	if got, want := tok.Deadline(), tok.ReceivedAt.Add(time.Hour-time.Second); !got.Equal(want) {
		t.Errorf("Deadline = %v, want receipt + 1h − 1s = %v", got, want)
	}

	// A token served 40 min after it was issued has 20 min left, whatever
	// the client's clock says.
	cached := mint(t, testAppID, serverNow.Add(-40*time.Minute), 3600, accesstoken.RTMService("alice", 3600))
	h = newTestHTTP(t, serve(dated(cached, serverNow)))
	tok, err = h.Fetch(background(t), rtmAlice)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Deadline(), tok.ReceivedAt.Add(20*time.Minute-time.Second); !got.Equal(want) {
		t.Errorf("cached token: Deadline = %v, want receipt + 20m − 1s = %v", got, want)
	}

	// Expired by the server's own clock: refused, even though the client's
	// clock would not notice.
	stale := mint(t, testAppID, serverNow.Add(-2*time.Hour), 3600, accesstoken.RTMService("alice", 3600))
	h = newTestHTTP(t, serve(dated(stale, serverNow)))
	_, err = h.Fetch(background(t), rtmAlice)
	wantErr(t, err, Retryable, ErrExpired, "before the server sent it")
}

// TestDateHeaderDisagreeingWithToken checks that a Date header by which a
// token is already expired, while the local clock finds it fresh, is not
// trusted: the token is accepted with the local deadline rule.
func TestDateHeaderDisagreeingWithToken(t *testing.T) {
	tok := rtmToken(t, "alice") // issued at t0, the local (mock) time, for 1 h
	h := newTestHTTP(t, serve(dated(tok, t0.Add(3*time.Hour))))
	got, err := h.Fetch(background(t), rtmAlice)
	if err != nil {
		t.Fatalf("refused a token fresh by the local clock: %v", err)
	}
	if !got.ServerTime.IsZero() {
		t.Errorf("ServerTime = %v, want zero (the Date header contradicts the token)", got.ServerTime)
	}
	if want := got.ReceivedAt.Add(time.Hour); !got.Deadline().Equal(want) {
		t.Errorf("Deadline = %v, want %v", got.Deadline(), want)
	}
}
