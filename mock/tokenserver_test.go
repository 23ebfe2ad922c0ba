package mock_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

// tsT0 is the token server tests' clock time.
var tsT0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newTS(t testing.TB, cfg mock.TokenServerConfig) (*mock.TokenServer, *clock.Mock) {
	t.Helper()
	clk := clock.NewMock()
	clk.Set(tsT0)
	if cfg.Clock == nil {
		cfg.Clock = clk
	}
	return mock.NewTokenServer(cfg), clk
}

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   string
}

// do sends one request through the server's in-memory client (redirects
// not followed).
func do(t testing.TB, ts *mock.TokenServer, method, path, body string, header ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, mock.TokenServerURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// field decodes a JSON object answer and returns its string member.
func field(t testing.TB, a answer, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(a.body), &m); err != nil {
		t.Fatalf("answer %d %q is not a JSON object: %v", a.status, a.body, err)
	}
	s, _ := m[key].(string)
	if s == "" {
		t.Fatalf("answer %q has no %q", a.body, key)
	}
	return s
}

// decode parses a minted token and checks its signature and issue time.
func decode(t testing.TB, ts *mock.TokenServer, raw string, issued time.Time) *accesstoken.Token {
	t.Helper()
	tok, err := accesstoken.Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := tok.Verify(ts.Certificate()); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if tok.AppID != ts.AppID() {
		t.Errorf("app %q, want %q", tok.AppID, ts.AppID())
	}
	if !tok.IssuedAt().Equal(issued) {
		t.Errorf("issued %v, want %v", tok.IssuedAt(), issued)
	}
	return tok
}

// svc summarizes a service for comparisons.
type svc struct {
	Type    accesstoken.ServiceType
	Privs   map[uint16]uint32
	Channel string
	Account string
	UserID  string
}

func services(tok *accesstoken.Token) []svc {
	var out []svc
	for _, s := range tok.Services {
		p := map[uint16]uint32{}
		for _, pr := range s.Privileges {
			p[pr.ID] = pr.Value
		}
		out = append(out, svc{s.Type, p, s.Channel, s.Account, s.UserID})
	}
	return out
}

func rtcSvc(ch, acc string, exp uint32, privs ...uint16) svc {
	p := map[uint16]uint32{}
	for _, id := range privs {
		p[id] = exp
	}
	return svc{Type: accesstoken.ServiceRTC, Privs: p, Channel: ch, Account: acc}
}

func rtmSvc(user string, exp uint32) svc {
	return svc{Type: accesstoken.ServiceRTM, Privs: map[uint16]uint32{1: exp}, UserID: user}
}

func TestTokenServerRoutesMint(t *testing.T) {
	pub := []uint16{1, 2, 3, 4}
	tests := []struct {
		name, method, path, body string
		ctype                    string // exact Content-Type
		key                      string
		expire                   uint32
		want                     []svc
	}{
		{"GET rtm", "GET", "/rtm/alice/", "", "application/json; charset=utf-8", "rtmToken", 3600, []svc{rtmSvc("alice", 3600)}},
		{"GET rtm numeric", "GET", "/rtm/42/?expiry=60", "", "application/json; charset=utf-8", "rtmToken", 60, []svc{rtmSvc("42", 60)}},
		{"GET rtc uid publisher", "GET", "/rtc/test-channel/publisher/uid/1234/", "", "application/json; charset=utf-8", "rtcToken", 3600,
			[]svc{rtcSvc("test-channel", "1234", 3600, pub...)}},
		{"GET rtc account subscriber", "GET", "/rtc/test-channel/subscriber/userAccount/alice/?expiry=600", "", "", "rtcToken", 600,
			[]svc{rtcSvc("test-channel", "alice", 600, 1)}},
		{"GET rtc docs example is subscriber", "GET", "/rtc/MyChannel/1/uid/1/?expiry=300", "", "", "rtcToken", 300,
			[]svc{rtcSvc("MyChannel", "1", 300, 1)}},
		{"GET rtc Publisher is subscriber", "GET", "/rtc/c/Publisher/uid/1/", "", "", "rtcToken", 3600, []svc{rtcSvc("c", "1", 3600, 1)}},
		{"GET rtc uid 0 wildcard", "GET", "/rtc/c/publisher/uid/0/", "", "", "rtcToken", 3600, []svc{rtcSvc("c", "", 3600, pub...)}},
		{"GET rtc empty uid wildcard", "GET", "/rtc/c/publisher/uid//", "", "", "rtcToken", 3600, []svc{rtcSvc("c", "", 3600, pub...)}},
		{"GET rtc uid truncated", "GET", "/rtc/c/publisher/uid/4294967297/", "", "", "rtcToken", 3600, []svc{rtcSvc("c", "1", 3600, pub...)}},
		{"GET rtc uid 0001", "GET", "/rtc/c/publisher/uid/0001/", "", "", "rtcToken", 3600, []svc{rtcSvc("c", "1", 3600, pub...)}},
		{"GET rtc account 0 verbatim", "GET", "/rtc/c/publisher/userAccount/0/", "", "", "rtcToken", 3600, []svc{rtcSvc("c", "0", 3600, pub...)}},
		{"GET rtc escaped channel", "GET", "/rtc/my%20channel/publisher/userAccount/a%40b/", "", "", "rtcToken", 3600,
			[]svc{rtcSvc("my channel", "a@b", 3600, pub...)}},
		{"GET expiry 0", "GET", "/rtm/alice/?expiry=0", "", "", "rtmToken", 0, []svc{rtmSvc("alice", 0)}},
		{"GET expiry wraps", "GET", "/rtm/alice/?expiry=4294967296", "", "", "rtmToken", 0, []svc{rtmSvc("alice", 0)}},
		{"GET first expiry wins", "GET", "/rtm/alice/?expiry=60&expiry=abc", "", "", "rtmToken", 60, []svc{rtmSvc("alice", 60)}},
		{"GET rte rtc token", "GET", "/rte/test-channel/publisher/uid/1234/alice/", "", "", "rtcToken", 3600,
			[]svc{rtcSvc("test-channel", "1234", 3600, pub...)}},
		{"GET rte rtm token", "GET", "/rte/test-channel/publisher/uid/1234/alice/", "", "", "rtmToken", 3600,
			[]svc{rtcSvc("test-channel", "alice", 3600, 1, 4), rtmSvc("alice", 3600)}},
		{"GET rte same uid", "GET", "/rte/c/subscriber/uid/77/", "", "", "rtmToken", 3600, []svc{rtcSvc("c", "77", 3600, 1, 4), rtmSvc("77", 3600)}},
		{"GET chat app", "GET", "/chat/app/", "", "", "chatToken", 3600,
			[]svc{{Type: accesstoken.ServiceChat, Privs: map[uint16]uint32{2: 3600}}}},
		{"GET chat user", "GET", "/chat/account/bob/", "", "", "chatToken", 3600,
			[]svc{{Type: accesstoken.ServiceChat, Privs: map[uint16]uint32{1: 3600}, UserID: "bob"}}},
		{"POST rtm", "POST", "/getToken", `{"tokenType":"rtm","uid":"alice","expire":7200}`, "application/json", "token", 7200,
			[]svc{rtmSvc("alice", 7200)}},
		{"POST rtm uid 0", "POST", "/getToken", `{"tokenType":"rtm","uid":"0"}`, "", "token", 3600, []svc{rtmSvc("0", 3600)}},
		{"POST rtc", "POST", "/getToken", `{"tokenType":"rtc","channel":"test-channel","role":"publisher","uid":"1234","expire":3600}`,
			"", "token", 3600, []svc{rtcSvc("test-channel", "1234", 3600, pub...)}},
		{"POST rtc role omitted", "POST", "/getToken", `{"tokenType":"rtc","channel":"c","uid":"bob"}`, "", "token", 3600,
			[]svc{rtcSvc("c", "bob", 3600, 1)}},
		{"POST rtm with channel", "POST", "/getToken", `{"tokenType":"rtm","uid":"alice","channel":"test-channel"}`, "", "token", 3600,
			[]svc{rtcSvc("test-channel", "alice", 3600, 1, 4), rtmSvc("alice", 3600)}},
		{"POST uid 0001", "POST", "/getToken", `{"tokenType":"rtc","channel":"c","uid":"0001"}`, "", "token", 3600, []svc{rtcSvc("c", "1", 3600, 1)}},
		{"POST uid 2^32+1", "POST", "/getToken", `{"tokenType":"rtc","channel":"c","uid":"4294967297"}`, "", "token", 3600,
			[]svc{rtcSvc("c", "1", 3600, 1)}},
		{"POST uid 0 wildcard", "POST", "/getToken", `{"tokenType":"rtc","channel":"c","uid":"0"}`, "", "token", 3600, []svc{rtcSvc("c", "", 3600, 1)}},
		{"POST uid -5 verbatim", "POST", "/getToken", `{"tokenType":"rtc","channel":"c","uid":"-5"}`, "", "token", 3600,
			[]svc{rtcSvc("c", "-5", 3600, 1)}},
		{"POST uid space verbatim", "POST", "/getToken", `{"tokenType":"rtc","channel":"c","uid":" 12"}`, "", "token", 3600,
			[]svc{rtcSvc("c", " 12", 3600, 1)}},
		{"POST expire -1 wraps", "POST", "/getToken", `{"tokenType":"rtm","uid":"a","expire":-1}`, "", "token", 4294967295,
			[]svc{rtmSvc("a", 4294967295)}},
		{"POST expiry is no alias", "POST", "/getToken", `{"tokenType":"rtm","uid":"a","expiry":60}`, "", "token", 3600, []svc{rtmSvc("a", 3600)}},
		{"POST chat app", "POST", "/getToken", `{"tokenType":"chat"}`, "", "token", 3600,
			[]svc{{Type: accesstoken.ServiceChat, Privs: map[uint16]uint32{2: 3600}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := newTS(t, mock.TokenServerConfig{})
			a := do(t, ts, tt.method, tt.path, tt.body)
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if tt.ctype != "" && a.header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", a.header.Get("Content-Type"), tt.ctype)
			}
			tok := decode(t, ts, field(t, a, tt.key), tsT0)
			if tok.Expire != tt.expire {
				t.Errorf("expire %d, want %d", tok.Expire, tt.expire)
			}
			if got := services(tok); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("services\n got %+v\nwant %+v", got, tt.want)
			}
			if st := ts.Stats(); st.Requests != 1 || st.Minted != 1 || st.Failed != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestTokenServerPOSTBodyShape(t *testing.T) {
	ts, _ := newTS(t, mock.TokenServerConfig{})
	a := do(t, ts, "POST", "/getToken", `{"tokenType":"rtm","uid":"alice"}`)
	tok := field(t, a, "token")
	if want := `{"token":"` + tok + "\"}\n"; a.body != want {
		t.Errorf("body %q, want %q", a.body, want)
	}
	a = do(t, ts, "GET", "/rtm/alice/", "")
	if want := `{"rtmToken":"` + field(t, a, "rtmToken") + `"}`; a.body != want {
		t.Errorf("GET body %q, want %q", a.body, want)
	}
}

func TestTokenServerDeterministicSalts(t *testing.T) {
	a, _ := newTS(t, mock.TokenServerConfig{Seed: 7})
	b, _ := newTS(t, mock.TokenServerConfig{Seed: 7})
	c, _ := newTS(t, mock.TokenServerConfig{Seed: 8})
	var ta, tb, tc []string
	for range 3 {
		ta = append(ta, field(t, do(t, a, "GET", "/rtm/alice/", ""), "rtmToken"))
		tb = append(tb, field(t, do(t, b, "GET", "/rtm/alice/", ""), "rtmToken"))
		tc = append(tc, field(t, do(t, c, "GET", "/rtm/alice/", ""), "rtmToken"))
	}
	if !reflect.DeepEqual(ta, tb) {
		t.Errorf("same seed, different tokens")
	}
	if reflect.DeepEqual(ta, tc) || ta[0] == ta[1] {
		t.Errorf("salts do not vary")
	}
}

func TestTokenServerConfigDefaults(t *testing.T) {
	ts := mock.NewTokenServer(mock.TokenServerConfig{DefaultTTL: 90 * time.Second})
	if ts.AppID() != mock.DefaultAppID || ts.Certificate() != mock.DefaultCertificate {
		t.Errorf("credentials %q %q", ts.AppID(), ts.Certificate())
	}
	a := do(t, ts, "GET", "/rtm/alice/", "")
	tok, err := accesstoken.Parse(field(t, a, "rtmToken"))
	if err != nil || tok.Expire != 90 {
		t.Fatalf("token %+v, %v", tok, err)
	}
	if d := time.Since(tok.IssuedAt()); d < -time.Second || d > time.Minute {
		t.Errorf("issued %v, not now on the real clock", tok.IssuedAt())
	}
}

// TestTokenServerOverHTTP serves every preset's success path over a real
// loopback connection, redirects included.
func TestTokenServerOverHTTP(t *testing.T) {
	ts, _ := newTS(t, mock.TokenServerConfig{})
	srv := httptest.NewServer(ts)
	defer srv.Close()
	c := srv.Client()
	defer c.CloseIdleConnections()
	resp, err := c.Post(srv.URL+"/getToken/", "application/json", strings.NewReader(`{"tokenType":"rtm","uid":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), `{"token":"007`) {
		t.Errorf("POST /getToken/ via 307: %d %s", resp.StatusCode, b)
	}
	resp, err = c.Get(srv.URL + "/rtc/test-channel/publisher/uid/1234?expiry=60")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := decode(t, ts, field(t, answer{200, nil, string(b)}, "rtcToken"), tsT0)
	if tok.Expire != 60 {
		t.Errorf("expire %d after 301", tok.Expire)
	}
	if st := ts.Stats(); st.Requests != 2 || st.ByRoute["redirect"] != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestTokenServerPrintsNoCertificate: printing the server never shows the
// certificate it signs with.
func TestTokenServerPrintsNoCertificate(t *testing.T) {
	const cert = "5cfd2fd1755d40ecb72977518be15d3b"
	s := mock.NewTokenServer(mock.TokenServerConfig{Certificate: cert})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s)} {
		if strings.Contains(out, cert) {
			t.Errorf("%q shows the certificate", out)
		}
		if !strings.Contains(out, mock.DefaultAppID) {
			t.Errorf("%q does not name the app", out)
		}
	}
}
