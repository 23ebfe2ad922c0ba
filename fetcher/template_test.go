package fetcher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

func TestCustomTemplate(t *testing.T) {
	tok := rtcToken(t, `r"o/o m`, "al&ice", accesstoken.RoleSubscriber)
	srv := serve(jsonAnswer(map[string]any{"data": map[string]any{"items": []any{map[string]any{"token": tok}}}}))
	p := Custom(Template{
		Method:    "PUT",
		URL:       "/v1/{kind}/{channel}?user={user}&role={role}&r={roleid}&ttl={expire}&x={unknown",
		Body:      `{"who":"{account}","uid":"{uid}","channel":"{channel}","expire":{expire},"literal":"{}","nested":{"a":1}}`,
		TokenPath: "data.items.0.token",
		Headers:   map[string]string{"X-Channel": "{channel}"},
	})
	h := newTestHTTP(t, srv, WithPreset(p))
	req := Request{Kind: KindRTC, Channel: `r"o/o m`, Account: "al&ice", Role: RoleSubscriber, TTL: 10 * time.Minute}
	if _, err := h.Fetch(background(t), req); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	got := srv.requests()[0]
	if got.Method != "PUT" {
		t.Errorf("method %s", got.Method)
	}
	if want := `/v1/rtc/r"o/o m`; got.Path != want {
		t.Errorf("path %q, want %q", got.Path, want)
	}
	if want := "user=al%26ice&role=subscriber&r=2&ttl=600&x={unknown"; got.Query != want {
		t.Errorf("query %q, want %q", got.Query, want)
	}
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("body %s: %v", got.Body, err)
	}
	if body["who"] != "al&ice" || body["uid"] != "al&ice" || body["channel"] != `r"o/o m` || body["expire"] != 600.0 || body["literal"] != "{}" {
		t.Errorf("body %s", got.Body)
	}
	if got.Header.Get("X-Channel") != `r"o/o m` {
		t.Errorf("header %q", got.Header.Get("X-Channel"))
	}
}

func TestCustomTemplateErrors(t *testing.T) {
	tests := []struct {
		name string
		t    Template
		frag string
	}{
		{"no token path", Template{}, "TokenPath: empty path"},
		{"empty segment", Template{TokenPath: "data..token"}, "empty segment"},
		{"unknown placeholder", Template{URL: "/x/{nope}", TokenPath: "token"}, "unknown placeholder {nope}"},
		{"unknown in body", Template{Body: `{"a":"{usr}"}`, TokenPath: "token"}, "{usr}"},
		{"bad method", Template{Method: "get", TokenPath: "token"}, "upper-case"},
		{"GET with body", Template{Method: "GET", Body: "{}", TokenPath: "token"}, "cannot carry a body"},
		{"absolute URL", Template{URL: "https://other.example/x", TokenPath: "token"}, "appended to the server URL"},
		{"fragment", Template{URL: "/x#y", TokenPath: "token"}, "fragment"},
		{"bad expiry path", Template{TokenPath: "token", ExpiryPath: "."}, "ExpiryPath"},
		{"bad header", Template{TokenPath: "token", Headers: map[string]string{"A B": "x"}}, "header name"},
		{"header injection", Template{TokenPath: "token", Headers: map[string]string{"A": "x\ny"}}, "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Custom(tt.t)
			if p.Name() != "custom" {
				t.Errorf("Name() = %q", p.Name())
			}
			_, err := NewHTTP("https://x.example", WithPreset(p))
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.frag) {
				t.Errorf("error %v, want ErrInvalidConfig containing %q", err, tt.frag)
			}
		})
	}
}

func TestCustomTemplatePerRequestErrors(t *testing.T) {
	// {uid} unquoted suits numeric uids only; an account makes invalid JSON.
	p := Custom(Template{Body: `{"uid":{uid}}`, TokenPath: "token"})
	srv := serve(answerToken(rtcToken(t, "c", "5", accesstoken.RolePublisher)))
	h := newTestHTTP(t, srv, WithPreset(p))
	if _, err := h.Fetch(background(t), Request{Kind: KindRTC, Channel: "c", UID: 5}); err != nil {
		t.Fatalf("numeric uid: %v", err)
	}
	_, err := h.Fetch(background(t), Request{Kind: KindRTC, Channel: "c", Account: "bob"})
	wantErr(t, err, Permanent, ErrInvalidRequest, "not valid JSON")

	p = Custom(Template{TokenPath: "token", Headers: map[string]string{"X-User": "{user}"}})
	h = newTestHTTP(t, srv, WithPreset(p))
	_, err = h.Fetch(background(t), Request{Kind: KindRTM, UserID: "a\r\nInjected: yes"})
	wantErr(t, err, Permanent, ErrInvalidRequest, "line break")
	if len(srv.requests()) != 1 {
		t.Errorf("%d requests sent, want 1", len(srv.requests()))
	}
}

func TestCustomExpiryPath(t *testing.T) {
	tok := rtmToken(t, "alice") // expires t0+1h
	tests := []struct {
		name   string
		expiry any
		want   time.Time
		err    error
	}{
		{"earlier seconds", t0.Add(30 * time.Minute).Unix(), t0.Add(30 * time.Minute), nil},
		{"earlier string", "1748781000", time.Unix(1748781000, 0), nil},
		{"milliseconds", t0.Add(20*time.Minute).UnixMilli() + 500, t0.Add(20*time.Minute + 500*time.Millisecond), nil},
		{"later keeps token's", t0.Add(5 * time.Hour).Unix(), t0.Add(time.Hour), nil},
		{"past", t0.Add(-time.Minute).Unix(), time.Time{}, ErrExpired},
		{"not a number", "soon", time.Time{}, ErrBadResponse},
		{"negative", -5, time.Time{}, ErrBadResponse},
		{"bool", true, time.Time{}, ErrBadResponse},
		{"missing", nil, time.Time{}, ErrBadResponse},
	}
	p := Custom(Template{Body: `{"uid":"{user}"}`, TokenPath: "rtmToken", ExpiryPath: "expireAt"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := map[string]any{"rtmToken": tok}
			if tt.expiry != nil {
				ans["expireAt"] = tt.expiry
			}
			h := newTestHTTP(t, serve(jsonAnswer(ans)), WithPreset(p))
			got, err := h.Fetch(background(t), rtmAlice)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || !got.ExpiresAt.Equal(tt.want) {
				t.Fatalf("ExpiresAt = %v, %v; want %v", got.ExpiresAt, err, tt.want)
			}
		})
	}
}

func TestLookupPath(t *testing.T) {
	doc, err := decodeJSON([]byte(`{"a":{"b":[1,{"c":"x"}]},"d":null}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want any
		ok   bool
	}{
		{"a.b.1.c", "x", true},
		{"a.b.2", nil, false},
		{"a.b.-1", nil, false},
		{"a.b.x", nil, false},
		{"a.c", nil, false},
		{"d", nil, true},
		{"d.e", nil, false},
		{"a.b.1.c.d", nil, false},
	}
	for _, tt := range tests {
		p, err := parsePath(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := lookupPath(doc, p)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("lookup %q = %v, %v", tt.path, got, ok)
		}
	}
	if _, err := parsePath(strings.Repeat("a.", maxPathSegments) + "a"); err == nil {
		t.Errorf("overlong path accepted")
	}
}

func TestSanitize(t *testing.T) {
	tok := rtmToken(t, "alice")
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"  a \n\t b\x00c  ", "a b c"},
		{"token " + tok + " end", "token " + Redact(tok) + " end"},
		{"short 007abc stays", "short 007abc stays"},
		{"bad \xff utf8", "bad utf8"},
		{strings.Repeat("é", 300), strings.Repeat("é", 200) + "…"},
		// A run cut by the clean-up limit (400 characters) is finished
		// before redaction, so no piece of it reaches the output once the
		// first run has shrunk to its Redact form.
		{"007" + strings.Repeat("A", 382) + " 007" + strings.Repeat("B", 30),
			Redact("007"+strings.Repeat("A", 382)) + " " + Redact("007"+strings.Repeat("B", 30))},
		// The same across a dropped invalid byte.
		{"007" + strings.Repeat("A", 382) + " 007BBBBBBBBBB\xffBBBBBBBBBBBBBBBBBBBB",
			Redact("007"+strings.Repeat("A", 382)) + " " + Redact("007"+strings.Repeat("B", 30))},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%.40q) = %.60q, want %.60q", tt.in, got, tt.want)
		}
	}
}

// TestLogsNoSecrets: the logger sees outcomes but no token, header value or
// body.
func TestLogsNoSecrets(t *testing.T) {
	tok := rtmToken(t, "alice")
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newTestHTTP(t, serve(answerToken(tok)), WithLogger(log), WithHeader("Authorization", "Bearer hunter2"))
	if _, err := h.Fetch(background(t), rtmAlice); err != nil {
		t.Fatal(err)
	}
	h = newTestHTTP(t, serve(text(400, "text/plain", "bad "+tok)), WithLogger(log), WithHeader("Authorization", "Bearer hunter2"))
	_, _ = h.Fetch(background(t), rtmAlice)
	out := buf.String()
	if !strings.Contains(out, "token fetched") || !strings.Contains(out, "fetch failed") || !strings.Contains(out, "class=permanent") {
		t.Errorf("log lacks outcomes:\n%s", out)
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("log carries a header value:\n%s", out)
	}
	noToken(t, out)
}

// TestTokenFormatsRedacted: printing or logging a Token never shows the
// token itself.
func TestTokenFormatsRedacted(t *testing.T) {
	raw := rtmToken(t, "alice")
	tok := Token{Raw: raw, Request: rtcRoom, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), ReceivedAt: t0, Lifetime: time.Hour}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("got", "tok", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), fmt.Sprintf("%v", []Token{tok}), buf.String()} {
		noToken(t, s)
		if !strings.Contains(s, Redact(raw)) {
			t.Errorf("%q lacks the redacted form", s)
		}
	}
	want := `rtc token ` + Redact(raw) + ` for channel "room-1" account "alice", expires 2025-06-01T13:00:00Z`
	if got := tok.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !strings.Contains(buf.String(), `"channel":"room-1"`) || !strings.Contains(buf.String(), `"lifetime":3600000000000`) {
		t.Errorf("log %s", buf.String())
	}
}

// TestHTTPFormatsRedacted: printing a fetcher never shows its header values
// nor the URL's credentials.
func TestHTTPFormatsRedacted(t *testing.T) {
	h, err := NewHTTP("https://user:pw-secret@tokens.example.com/base?key=q-secret",
		WithHeader("Authorization", "Bearer hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(h), fmt.Sprintf("%+v", h), fmt.Sprintf("%#v", h), fmt.Sprintf("%v", []*HTTP{h})} {
		for _, secret := range []string{"hunter2", "pw-secret", "q-secret"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows %q", s, secret)
			}
		}
		if !strings.Contains(s, "tokens.example.com/base") {
			t.Errorf("%q does not name the server", s)
		}
	}
}
