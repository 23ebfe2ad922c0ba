package mock_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/mock"
)

const (
	ctJSONUTF8 = "application/json; charset=utf-8"
	ctText     = "text/plain; charset=utf-8"
)

// TestTokenServerErrorShapes checks the verbatim error answers of the spec.
func TestTokenServerErrorShapes(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		status                   int
		ctype                    string
		want                     string
		header                   []string // key, value pairs expected
		token                    bool     // counts as a token request
	}{
		{"expiry abc", "GET", "/rtc/test-channel/publisher/uid/1234/?expiry=abc", "", 400, ctJSONUTF8,
			`{"message":"Error Generating RTC token: failed to parse expireTime: abc, causing error: strconv.ParseUint: parsing \"abc\": invalid syntax","status":400}`,
			nil, true},
		{"uid not a number", "GET", "/rtc/test-channel/publisher/uid/alice/", "", 400, ctJSONUTF8,
			`{"error":"Error Generating RTC token - failed to parse uidStr: alice, to uint causing error: strconv.ParseUint: parsing \"alice\": invalid syntax","status":400}`,
			nil, true},
		{"unknown token type", "GET", "/rtc/test-channel/publisher/account/1234/", "", 400, ctJSONUTF8,
			`{"error":"Error Generating RTC token - failed to generate RTC token for Unknown Tokentype: account","status":400}`, nil, true},
		{"rtm 0", "GET", "/rtm/0/", "", 400, ctJSONUTF8,
			`{"message":"Error Generating RTM token: invalid RTM User ID: \"0\"","status":400}`, nil, true},
		{"rtm empty", "GET", "/rtm//", "", 400, ctJSONUTF8,
			`{"message":"Error Generating RTM token: invalid RTM User ID: \"\"","status":400}`, nil, true},
		{"rte uid 0", "GET", "/rte/test-channel/publisher/uid/0/", "", 400, ctJSONUTF8,
			`{"message":"Error Generating RTC and RTM token: failed to parse rtm user ID. Cannot be empty or \"0\"","status":400}`, nil, true},
		{"expiry negative", "GET", "/rtm/alice/?expiry=-5", "", 400, ctJSONUTF8, "", nil, true},
		{"expiry fraction", "GET", "/rtm/alice/?expiry=1.5", "", 400, ctJSONUTF8, "", nil, true},
		{"expiry empty", "GET", "/rtm/alice/?expiry=", "", 400, ctJSONUTF8, "", nil, true},
		{"missing slash", "GET", "/rtc/test-channel/publisher/uid/1234", "", 301, "text/html; charset=utf-8",
			"<a href=\"/rtc/test-channel/publisher/uid/1234/\">Moved Permanently</a>.\n\n",
			[]string{"Location", "/rtc/test-channel/publisher/uid/1234/"}, false},
		{"missing slash keeps query", "GET", "/rtc/test-channel/publisher/uid/1234?expiry=60", "", 301, "", "",
			[]string{"Location", "/rtc/test-channel/publisher/uid/1234/?expiry=60"}, false},
		{"missing slash escaped", "GET", "/rtm/a%20b", "", 301, "", "", []string{"Location", "/rtm/a%20b/"}, false},
		{"ping slash", "GET", "/ping/", "", 301, "", "", []string{"Location", "/ping"}, false},
		{"getToken slash", "POST", "/getToken/", `{}`, 307, "", "", []string{"Location", "/getToken"}, false},
		{"unknown route", "GET", "/nope", "", 404, "text/plain", "404 page not found", nil, false},
		{"POST on GET route", "POST", "/rtm/alice/", "", 404, "text/plain", "404 page not found", nil, false},
		{"GET getToken", "GET", "/getToken", "", 404, "text/plain", "404 page not found", nil, false},
		{"HEAD ping", "HEAD", "/ping", "", 404, "text/plain", "", nil, false},
		{"case-sensitive", "POST", "/gettoken", `{}`, 404, "text/plain", "404 page not found", nil, false},
		{"escaped slash", "GET", "/rtc/a%2Fb/publisher/uid/1/", "", 404, "text/plain", "404 page not found", nil, false},
		{"POST missing uid", "POST", "/getToken", `{"tokenType":"rtc","channel":"test-channel","role":"publisher"}`, 400, ctText,
			"invalid: missing user ID or account\n", []string{"X-Content-Type-Options", "nosniff"}, true},
		{"POST missing channel", "POST", "/getToken", `{"tokenType":"rtc","channelName":"c","uid":"1"}`, 400, ctText,
			"invalid: missing channel name\n", nil, true},
		{"POST rtm missing uid", "POST", "/getToken", `{"tokenType":"rtm"}`, 400, ctText, "invalid: missing user ID or account\n", nil, true},
		{"POST no tokenType", "POST", "/getToken", `{"uid":"a"}`, 400, ctText, "Unsupported tokenType\n", nil, true},
		{"POST RTC upper case", "POST", "/getToken", `{"tokenType":"RTC","uid":"a","channel":"c"}`, 400, ctText, "Unsupported tokenType\n", nil, true},
		{"POST uid number", "POST", "/getToken", `{"tokenType":"rtc","uid":1234}`, 400, ctText,
			"json: cannot unmarshal number into Go struct field TokenRequest.uid of type string\n", nil, true},
		{"POST expire string", "POST", "/getToken", `{"tokenType":"rtm","uid":"a","expire":"600"}`, 400, ctText,
			"json: cannot unmarshal string into Go struct field TokenRequest.expire of type int\n", nil, true},
		{"POST expire fraction", "POST", "/getToken", `{"tokenType":"rtm","uid":"a","expire":1.5}`, 400, ctText,
			"json: cannot unmarshal number 1.5 into Go struct field TokenRequest.expire of type int\n", nil, true},
		{"POST truncated", "POST", "/getToken", `{"tokenType":`, 400, ctText, "unexpected EOF\n", nil, true},
		{"POST empty", "POST", "/getToken", "", 400, ctText, "EOF\n", nil, true},
		{"POST form", "POST", "/getToken", "tokenType=rtm&uid=a", 400, ctText,
			"invalid character 'o' in literal true (expecting 'r')\n", nil, true},
		{"ping", "GET", "/ping", "", 200, ctJSONUTF8, `{"message":"pong"}`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := newTS(t, mock.TokenServerConfig{})
			a := do(t, ts, tt.method, tt.path, tt.body)
			if a.status != tt.status {
				t.Errorf("status %d, want %d (%s)", a.status, tt.status, a.body)
			}
			if tt.ctype != "" && a.header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", a.header.Get("Content-Type"), tt.ctype)
			}
			if tt.want != "" && a.body != tt.want {
				t.Errorf("body\n got %q\nwant %q", a.body, tt.want)
			}
			for i := 0; i+1 < len(tt.header); i += 2 {
				if got := a.header.Get(tt.header[i]); got != tt.header[i+1] {
					t.Errorf("%s = %q, want %q", tt.header[i], got, tt.header[i+1])
				}
			}
			if got := a.header.Get("Cache-Control"); got != "private, no-cache, no-store, must-revalidate" {
				t.Errorf("Cache-Control %q", got)
			}
			st := ts.Stats()
			wantReq, wantFailed := 0, 0
			if tt.token {
				wantReq, wantFailed = 1, 1
			}
			if st.Requests != wantReq || st.Failed != wantFailed || st.Minted != 0 {
				t.Errorf("stats %+v, want %d requests, %d failed", st, wantReq, wantFailed)
			}
		})
	}
}

func TestTokenServerInvalidAppID(t *testing.T) {
	ts, _ := newTS(t, mock.TokenServerConfig{AppID: "not-an-app-id"})
	a := do(t, ts, "GET", "/rtm/alice/", "")
	if want := `{"error":"Error Generating RTM token: check appId or appCertificate","status":400}`; a.status != 400 || a.body != want {
		t.Errorf("GET: %d %q", a.status, a.body)
	}
	a = do(t, ts, "POST", "/getToken", `{"tokenType":"rtm","uid":"alice"}`)
	if a.status != 400 || a.body != "check appId or appCertificate\n" {
		t.Errorf("POST: %d %q", a.status, a.body)
	}
}

func TestTokenServerCORS(t *testing.T) {
	const origin = "https://app.example.com"
	forbidden := `{"error":"Origin not allowed"}`
	tests := []struct {
		cors, origin, method, path string
		status                     int
		echoed                     bool
	}{
		{"", "", "GET", "/ping", 200, false},
		{"", origin, "GET", "/ping", 403, false},
		{"", origin, "POST", "/getToken", 403, false},
		{"*", origin, "GET", "/rtm/alice/", 200, true},
		{"*", "", "GET", "/rtm/alice/", 200, false},
		{origin + ",https://other.example.com", "", "GET", "/ping", 403, false},
		{origin + ",https://other.example.com", "", "GET", "/nope", 403, false},
		{origin + ", https://other.example.com", "https://other.example.com", "GET", "/rtm/alice/", 200, true},
		{origin, "https://evil.example.com", "GET", "/rtm/alice/", 403, false},
		{origin, origin, "OPTIONS", "/getToken", 204, true},
		{"", origin, "OPTIONS", "/getToken", 403, false},
	}
	for i, tt := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			ts, _ := newTS(t, mock.TokenServerConfig{CORSAllowOrigin: tt.cors})
			var hdr []string
			if tt.origin != "" {
				hdr = []string{"Origin", tt.origin}
			}
			body := ""
			if tt.method == "POST" {
				body = `{"tokenType":"rtm","uid":"a"}`
			}
			a := do(t, ts, tt.method, tt.path, body, hdr...)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d", a.status, tt.status)
			}
			if tt.status == 403 && a.body != forbidden {
				t.Errorf("body %q", a.body)
			}
			if got := a.header.Get("Access-Control-Allow-Origin"); (got == tt.origin && got != "") != tt.echoed {
				t.Errorf("Access-Control-Allow-Origin %q, echoed want %v", got, tt.echoed)
			}
			if a.header.Get("Access-Control-Allow-Methods") != "GET, POST, OPTIONS" {
				t.Errorf("Allow-Methods %q", a.header.Get("Access-Control-Allow-Methods"))
			}
		})
	}
}

func TestTokenServerDocsSamples(t *testing.T) {
	ts, _ := newTS(t, mock.TokenServerConfig{})
	a := do(t, ts, "POST", "/fetch_rtm_token", `{"uid":"alice"}`)
	if a.status != 200 || !strings.HasPrefix(a.body, `{"code":"200","token":"007`) || a.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("rtm: %d %q %v", a.status, a.body, a.header)
	}
	tok := decode(t, ts, field(t, a, "token"), tsT0)
	// The sample's bug: now+3600 passed as a lifetime.
	if want := uint32(tsT0.Unix()) + 3600; tok.Expire != want || services(tok)[0].UserID != "alice" {
		t.Errorf("rtm expire %d (want %d), services %+v", tok.Expire, want, services(tok))
	}

	a = do(t, ts, "POST", "/fetch_rtc_token", `{"uid":42,"channelName":"ch","role":2}`)
	tok = decode(t, ts, field(t, a, "token"), tsT0)
	if got, want := services(tok), []svc{rtcSvc("ch", "42", 40, 1)}; tok.Expire != 40 || !equalSvcs(got, want) {
		t.Errorf("rtc: expire %d, services %+v", tok.Expire, got)
	}
	// An unknown role keeps the previous one (subscriber).
	a = do(t, ts, "POST", "/fetch_rtc_token", `{"uid":0,"ChannelName":"ch","role":7}`)
	if got := services(decode(t, ts, field(t, a, "token"), tsT0)); !equalSvcs(got, []svc{rtcSvc("ch", "", 40, 1)}) {
		t.Errorf("role 7: %+v", got)
	}
	a = do(t, ts, "POST", "/fetch_rtc_token", `{"uid":1,"ChannelName":"ch","role":1}`)
	if got := services(decode(t, ts, field(t, a, "token"), tsT0)); !equalSvcs(got, []svc{rtcSvc("ch", "1", 40, 1, 2, 3, 4)}) {
		t.Errorf("role 1: %+v", got)
	}

	errs := []struct{ path, body, want string }{
		{"/fetch_rtc_token", `{"uid":"42","ChannelName":"ch"}`, "Bad request. Wrong type provided for field string"},
		{"/fetch_rtm_token", `{"uid":`, "Bad request."},
		{"/fetch_rtm_token", `{"uid":5}`, "Bad request. Wrong type provided for field number"},
	}
	for _, e := range errs {
		a = do(t, ts, "POST", e.path, e.body)
		if a.status != 400 || !strings.HasPrefix(field(t, a, "token"), e.want) || field(t, a, "code") != "400" {
			t.Errorf("%s %s: %d %q", e.path, e.body, a.status, a.body)
		}
	}
	a = do(t, ts, "GET", "/fetch_rtm_token", "")
	if a.status != 404 || a.body != "Unsupported method. Please check." {
		t.Errorf("GET: %d %q", a.status, a.body)
	}
	if a = do(t, ts, "OPTIONS", "/fetch_rtc_token", ""); a.status != 200 {
		t.Errorf("OPTIONS: %d", a.status)
	}
	if st := ts.Stats(); st.Requests != 7 || st.Minted != 4 || st.Failed != 3 || st.ByRoute["POST /fetch_rtc_token"] != 4 {
		t.Errorf("stats %+v", st)
	}
}

func equalSvcs(a, b []svc) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Channel != b[i].Channel || a[i].Account != b[i].Account || a[i].UserID != b[i].UserID ||
			len(a[i].Privs) != len(b[i].Privs) {
			return false
		}
		for k, v := range a[i].Privs {
			if b[i].Privs[k] != v {
				return false
			}
		}
	}
	return true
}

// TestTokenServerMissingUIDDocs: the docs RTM sample builds a token for the
// empty user when uid is missing.
func TestTokenServerMissingUIDDocs(t *testing.T) {
	ts, clk := newTS(t, mock.TokenServerConfig{})
	clk.Add(time.Minute)
	a := do(t, ts, "POST", "/fetch_rtm_token", `{}`)
	tok := decode(t, ts, field(t, a, "token"), tsT0.Add(time.Minute))
	if s, ok := tok.Service(accesstoken.ServiceRTM); !ok || s.UserID != "" {
		t.Errorf("services %+v", services(tok))
	}
}
