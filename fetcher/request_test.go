package fetcher

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

func TestNewHTTPValidatesURLAndOptions(t *testing.T) {
	tests := []struct {
		name string
		url  string
		opts []Option
		want error // nil = success
	}{
		{"https", "https://tokens.example.com", nil, nil},
		{"https with path", "https://example.com/api/", nil, nil},
		{"http loopback v4", "http://127.0.0.1:8080", nil, nil},
		{"http loopback 127/8", "http://127.9.9.9", nil, nil},
		{"http localhost", "http://localhost:8080", nil, nil},
		{"http loopback v6", "http://[::1]:8080", nil, nil},
		{"http remote", "http://tokens.example.com", nil, ErrInsecureURL},
		{"http private IP", "http://10.0.0.5:8080", nil, ErrInsecureURL},
		{"http remote allowed", "http://tokens.example.com", []Option{WithInsecureHTTP()}, nil},
		{"ftp", "ftp://example.com", nil, ErrInvalidConfig},
		{"no host", "https:///getToken", nil, ErrInvalidConfig},
		{"garbage", "://", nil, ErrInvalidConfig},
		{"negative retries", "https://x.example", []Option{WithRetry(-1, 0, 0)}, ErrInvalidConfig},
		{"min above max", "https://x.example", []Option{WithRetry(1, time.Second, time.Millisecond)}, ErrInvalidConfig},
		{"TTL too long", "https://x.example", []Option{WithDefaultTTL(25 * time.Hour)}, ErrInvalidConfig},
		{"TTL too short", "https://x.example", []Option{WithDefaultTTL(time.Millisecond)}, ErrInvalidConfig},
		{"bad header name", "https://x.example", []Option{WithHeader("Bad Name", "v")}, ErrInvalidConfig},
		{"header injection", "https://x.example", []Option{WithHeader("Origin", "a\r\nX: y")}, ErrInvalidConfig},
		{"nil client", "https://x.example", []Option{WithHTTPClient(nil)}, ErrInvalidConfig},
		{"nil transport", "https://x.example", []Option{WithTransport(nil)}, ErrInvalidConfig},
		{"nil clock", "https://x.example", []Option{WithClock(nil)}, ErrInvalidConfig},
		{"zero timeout", "https://x.example", []Option{WithTimeout(0)}, ErrInvalidConfig},
		{"bad template", "https://x.example", []Option{WithPreset(Custom(Template{TokenPath: "a..b"}))}, ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHTTP(tt.url, tt.opts...)
			if tt.want == nil {
				if err != nil || h == nil {
					t.Fatalf("NewHTTP(%q) = %v, %v; want a fetcher", tt.url, h, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("NewHTTP(%q) error = %v; want %v", tt.url, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "fetcher: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestServerURLErrorsHideCredentials(t *testing.T) {
	for _, u := range []string{"http://user:pa55word@tokens.example.com/?key=s3cret", "ftp://user:pa55word@x/?key=s3cret",
		"https://x.example/%zz?key=s3cret"} {
		_, err := NewHTTP(u)
		if err == nil || strings.Contains(err.Error(), "pa55word") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("NewHTTP(%q) error %v", u, err)
		}
	}
}

func TestPresetByName(t *testing.T) {
	for _, name := range []string{NameAgoraTokenService, NameAgoraTokenServiceGET, NameDocsSample} {
		p, err := PresetByName(name)
		if err != nil || p.Name() != name {
			t.Errorf("PresetByName(%q) = %v, %v", name, p, err)
		}
	}
	if _, err := PresetByName("agora"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("unknown preset: error %v, want ErrInvalidConfig", err)
	}
	if got := (Preset{}).Name(); got != NameAgoraTokenService {
		t.Errorf("zero Preset name = %q", got)
	}
}

// TestRequestShapes checks the exact HTTP request each preset sends, and
// that the answer in the preset's shape yields a token.
func TestRequestShapes(t *testing.T) {
	tests := []struct {
		name      string
		preset    Preset
		req       Request
		method    string
		path      string
		query     string
		body      string // JSON, compared semantically; "" = no body
		answerKey string
		token     string
		docs      bool
	}{
		{
			name: "POST rtm", preset: PresetAgoraTokenService, req: Request{Kind: KindRTM, UserID: "alice", TTL: 2 * time.Hour},
			method: "POST", path: "/getToken", body: `{"tokenType":"rtm","uid":"alice","expire":7200}`,
			answerKey: "token", token: rtmToken(t, "alice"),
		},
		{
			name: "POST rtc account", preset: PresetAgoraTokenService, req: rtcRoom,
			method: "POST", path: "/getToken",
			body:      `{"tokenType":"rtc","channel":"room-1","role":"publisher","uid":"alice","expire":3600}`,
			answerKey: "token", token: rtcToken(t, "room-1", "alice", accesstoken.RolePublisher),
		},
		{
			name: "POST rtc uid subscriber", preset: PresetAgoraTokenService,
			req:    Request{Kind: KindRTC, Channel: "test-channel", UID: 1234, Role: RoleSubscriber, TTL: 90 * time.Second},
			method: "POST", path: "/getToken",
			body:      `{"tokenType":"rtc","channel":"test-channel","role":"subscriber","uid":"1234","expire":90}`,
			answerKey: "token", token: rtcToken(t, "test-channel", "1234", accesstoken.RoleSubscriber),
		},
		{
			name: "POST rtc wildcard uid", preset: PresetAgoraTokenService,
			req:    Request{Kind: KindRTC, Channel: "c", UID: 0},
			method: "POST", path: "/getToken",
			body:      `{"tokenType":"rtc","channel":"c","role":"publisher","uid":"0","expire":3600}`,
			answerKey: "token", token: rtcToken(t, "c", "", accesstoken.RolePublisher),
		},
		{
			name: "GET rtm", preset: PresetAgoraTokenServiceGET, req: Request{Kind: KindRTM, UserID: "bob smith@x"},
			method: "GET", path: "/rtm/bob smith@x/", query: "expiry=3600",
			answerKey: "rtmToken", token: rtmToken(t, "bob smith@x"),
		},
		{
			name: "GET rtc uid", preset: PresetAgoraTokenServiceGET, req: Request{Kind: KindRTC, Channel: "test-channel", UID: 1234, TTL: time.Minute},
			method: "GET", path: "/rtc/test-channel/publisher/uid/1234/", query: "expiry=60",
			answerKey: "rtcToken", token: rtcToken(t, "test-channel", "1234", accesstoken.RolePublisher),
		},
		{
			name: "GET rtc account numeric-looking", preset: PresetAgoraTokenServiceGET,
			req:    Request{Kind: KindRTC, Channel: "my channel", Account: "0001", Role: RoleSubscriber},
			method: "GET", path: "/rtc/my channel/subscriber/userAccount/0001/", query: "expiry=3600",
			answerKey: "rtcToken", token: rtcToken(t, "my channel", "0001", accesstoken.RoleSubscriber),
		},
		{
			name: "docs rtm", preset: PresetDocsSample, req: rtmAlice,
			method: "POST", path: "/fetch_rtm_token", body: `{"uid":"alice"}`,
			answerKey: "token", token: rtmToken(t, "alice"), docs: true,
		},
		{
			name: "docs rtc", preset: PresetDocsSample, req: Request{Kind: KindRTC, Channel: "ch", Account: "42", Role: RoleSubscriber},
			method: "POST", path: "/fetch_rtc_token", body: `{"uid":42,"ChannelName":"ch","role":2}`,
			answerKey: "token", token: rtcToken(t, "ch", "42", accesstoken.RoleSubscriber), docs: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer := map[string]any{tt.answerKey: tt.token}
			if tt.docs {
				answer["code"] = "200"
			}
			srv := serve(jsonAnswer(answer))
			h := newTestHTTP(t, srv, WithPreset(tt.preset), WithHeader("Origin", "https://app.example.com"), WithAppID(testAppID))
			tok, err := h.Fetch(background(t), tt.req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if tok.Raw != tt.token || tok.Request != tt.req {
				t.Errorf("token/request not returned as sent: %+v", tok.Request)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			got := reqs[0]
			if got.Method != tt.method || got.Path != tt.path || got.Query != tt.query {
				t.Errorf("sent %s %s ?%s, want %s %s ?%s", got.Method, got.Path, got.Query, tt.method, tt.path, tt.query)
			}
			if o := got.Header.Get("Origin"); o != "https://app.example.com" {
				t.Errorf("Origin = %q", o)
			}
			if tt.body == "" {
				if len(got.Body) != 0 {
					t.Errorf("unexpected body %s", got.Body)
				}
				return
			}
			if ct := got.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var gotBody, wantBody any
			if err := json.Unmarshal(got.Body, &gotBody); err != nil {
				t.Fatalf("body %s: %v", got.Body, err)
			}
			_ = json.Unmarshal([]byte(tt.body), &wantBody)
			if g, w := mustJSON(gotBody), mustJSON(wantBody); g != w {
				t.Errorf("body = %s, want %s", g, w)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestEscapedPathSegments(t *testing.T) {
	srv := serve(jsonAnswer(map[string]string{"rtcToken": rtcToken(t, "a%b?c#d", "x y", accesstoken.RolePublisher)}))
	h := newTestHTTP(t, srv, WithPreset(PresetAgoraTokenServiceGET))
	if _, err := h.Fetch(background(t), Request{Kind: KindRTC, Channel: "a%b?c#d", Account: "x y"}); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	got := srv.requests()[0]
	if want := "/rtc/a%25b%3Fc%23d/publisher/userAccount/x%20y/"; got.RawPath != want && got.RawPath != "" {
		t.Errorf("raw path = %q, want %q", got.RawPath, want)
	}
	if want := "/rtc/a%b?c#d/publisher/userAccount/x y/"; got.Path != want {
		t.Errorf("path = %q, want %q", got.Path, want)
	}
}

func TestServerURLPathPrefixAndQueryKept(t *testing.T) {
	srv := serve(jsonAnswer(map[string]string{"rtmToken": rtmToken(t, "alice")}))
	h, err := NewHTTP("https://example.com/tokens/?key=k1", WithTransport(srv), WithPreset(PresetAgoraTokenServiceGET),
		WithClock(mockClock()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Fetch(background(t), rtmAlice); err != nil {
		t.Fatal(err)
	}
	got := srv.requests()[0]
	if got.Path != "/tokens/rtm/alice/" || got.Query != "key=k1&expiry=3600" {
		t.Errorf("sent %s ?%s", got.Path, got.Query)
	}
}

// TestRefusedBeforeSending: requests a server would misread, or that cannot
// be expressed, fail with ErrInvalidRequest and send nothing.
func TestRefusedBeforeSending(t *testing.T) {
	tests := []struct {
		name    string
		preset  Preset
		req     Request
		message []string
	}{
		{"POST account 0001", PresetAgoraTokenService, Request{Kind: KindRTC, Channel: "c", Account: "0001"},
			[]string{`account "0001" looks like a number`, `uid "1"`, NameAgoraTokenServiceGET, "userAccount"}},
		{"POST account 2^32+1", PresetAgoraTokenService, Request{Kind: KindRTC, Channel: "c", Account: "4294967297"},
			[]string{`uid "1"`, NameAgoraTokenServiceGET}},
		{"POST account 0", PresetAgoraTokenService, Request{Kind: KindRTC, Channel: "c", Account: "0"},
			[]string{"wildcard uid 0", NameAgoraTokenServiceGET}},
		{"GET rtm 0", PresetAgoraTokenServiceGET, Request{Kind: KindRTM, UserID: "0"}, []string{`"0"`, NameAgoraTokenService}},
		{"GET slash in user", PresetAgoraTokenServiceGET, Request{Kind: KindRTM, UserID: "a/b"}, []string{`"/"`}},
		{"GET slash in channel", PresetAgoraTokenServiceGET, Request{Kind: KindRTC, Channel: "a/b", UID: 1}, []string{`"/"`}},
		{"GET dot-dot account", PresetAgoraTokenServiceGET, Request{Kind: KindRTC, Channel: "c", Account: ".."}, []string{"path segment"}},
		{"docs non-numeric account", PresetDocsSample, Request{Kind: KindRTC, Channel: "c", Account: "alice"}, []string{"numeric uids only"}},
		{"docs account 0", PresetDocsSample, Request{Kind: KindRTC, Channel: "c", Account: "0"}, []string{"numeric uids only"}},
		{"empty user", PresetAgoraTokenService, Request{Kind: KindRTM}, []string{"empty user ID"}},
		{"empty channel", PresetAgoraTokenService, Request{Kind: KindRTC, UID: 3}, []string{"empty channel"}},
		{"bad role", PresetAgoraTokenService, Request{Kind: KindRTC, Channel: "c", Role: 7}, []string{"unknown role"}},
		{"bad kind", PresetAgoraTokenService, Request{UserID: "a"}, []string{"unknown token kind"}},
		{"TTL too long", PresetAgoraTokenService, Request{Kind: KindRTM, UserID: "a", TTL: 25 * time.Hour}, []string{"outside"}},
		{"TTL negative", PresetAgoraTokenService, Request{Kind: KindRTM, UserID: "a", TTL: -time.Second}, []string{"outside"}},
		{"TTL too short", PresetAgoraTokenService, Request{Kind: KindRTM, UserID: "a", TTL: time.Millisecond}, []string{"outside"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(func(w http.ResponseWriter, _ *http.Request) { t.Error("request sent") })
			h := newTestHTTP(t, srv, WithPreset(tt.preset))
			_, err := h.Fetch(background(t), tt.req)
			e := wantErr(t, err, Permanent, ErrInvalidRequest, tt.message...)
			if e.Request != tt.req {
				t.Errorf("Error.Request = %+v, want %+v", e.Request, tt.req)
			}
		})
	}
}

func TestPOSTKeepsNonNumericAndCanonicalAccounts(t *testing.T) {
	// "-5", " 12" and "1234" survive POST /getToken verbatim (1234 as the
	// numeric uid 1234, whose token is identical).
	for _, acc := range []string{"-5", " 12", "1234", "alice", "1e3"} {
		srv := serve(jsonAnswer(map[string]string{"token": rtcToken(t, "c", acc, accesstoken.RolePublisher)}))
		h := newTestHTTP(t, srv)
		if _, err := h.Fetch(background(t), Request{Kind: KindRTC, Channel: "c", Account: acc}); err != nil {
			t.Errorf("account %q: %v", acc, err)
		}
	}
}

func TestHeadersOverrideAndAccumulate(t *testing.T) {
	srv := serve(jsonAnswer(map[string]string{"token": rtmToken(t, "alice")}))
	h := newTestHTTP(t, srv, WithHeader("Authorization", "Bearer s3cret"), WithHeader("X-Multi", "a"), WithHeader("X-Multi", "b"),
		WithHeader("Accept", "application/vnd.custom+json"))
	if _, err := h.Fetch(background(t), rtmAlice); err != nil {
		t.Fatal(err)
	}
	hd := srv.requests()[0].Header
	if hd.Get("Authorization") != "Bearer s3cret" || strings.Join(hd.Values("X-Multi"), ",") != "a,b" ||
		hd.Get("Accept") != "application/vnd.custom+json" {
		t.Errorf("headers = %v", hd)
	}
}
