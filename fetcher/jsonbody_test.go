package fetcher

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// marshalBody is how the request bodies were written before they were
// appended by hand: encoding/json on a struct. The builders must match it
// byte for byte.
func marshalBody(t *testing.T, req Request, expire uint32) []byte {
	t.Helper()
	var v any
	switch {
	case req.Kind == KindRTM:
		v = struct {
			TokenType string `json:"tokenType"`
			UID       string `json:"uid"`
			Expire    uint32 `json:"expire"`
		}{"rtm", req.UserID, expire}
	default:
		v = struct {
			TokenType string `json:"tokenType"`
			Channel   string `json:"channel,omitempty"`
			Role      string `json:"role,omitempty"`
			UID       string `json:"uid"`
			Expire    uint32 `json:"expire"`
		}{req.Kind.String(), req.Channel, req.Role.String(), req.who(), expire}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marshalDocs(t *testing.T, req Request) []byte {
	t.Helper()
	var v any = struct {
		UID string `json:"uid"`
	}{req.UserID}
	if req.Kind == KindRTC {
		role := 1
		if req.Role == RoleSubscriber {
			role = 2
		}
		uid := req.UID
		if req.Account != "" {
			uid = 0 // filled in below from the accepted account
			for _, c := range req.Account {
				uid = uid*10 + uint32(c-'0')
			}
		}
		v = struct {
			UID         uint32 `json:"uid"`
			ChannelName string `json:"ChannelName"`
			Role        int    `json:"role"`
		}{uid, req.Channel, role}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzJSONBody checks the hand-written request bodies and the template
// escaping against encoding/json for arbitrary names.
func FuzzJSONBody(f *testing.F) {
	f.Add("alice", "room", uint32(7), "", uint32(3600), false)
	f.Add("a\"b\\c", "<script>&", uint32(0), "bob", uint32(1), true)
	f.Add("\x00\x1f\x7f\b\f\n\r\t", "\u2028\u2029é", uint32(1<<32-1), "\xff\xfe", uint32(86400), false)
	f.Add("日本", "\xed\xa0\x80", uint32(42), "42", uint32(60), true)
	f.Fuzz(func(t *testing.T, user, channel string, uid uint32, account string, expire uint32, subscriber bool) {
		q, err := json.Marshal(user)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString([]byte("x"), user); !bytes.Equal(got, append([]byte("x"), q...)) {
			t.Fatalf("appendJSONString(%q) = %q, encoding/json %q", user, got[1:], q)
		}
		if got := jsonEscape(user); got != string(q[1:len(q)-1]) {
			t.Fatalf("jsonEscape(%q) = %q, encoding/json %q", user, got, q)
		}
		role := RolePublisher
		if subscriber {
			role = RoleSubscriber
		}
		reqs := []Request{
			{Kind: KindRTM, UserID: user},
			{Kind: KindRTC, Channel: channel, UID: uid, Role: role},
			{Kind: KindRTC, Channel: channel, Account: account, Role: role},
		}
		for _, req := range reqs {
			if out, err := buildAgoraPOST(req, expire); err == nil {
				if want := marshalBody(t, req, expire); !bytes.Equal(out.body, want) {
					t.Fatalf("POST body for %+v:\n got %s\nwant %s", req, out.body, want)
				}
				if !json.Valid(out.body) {
					t.Fatalf("POST body %q is not JSON", out.body)
				}
			} else if req.Kind != KindRTC || req.Account == "" {
				t.Fatalf("buildAgoraPOST(%+v): %v", req, err)
			}
			if out, err := buildDocsSample(req, expire); err == nil {
				if want := marshalDocs(t, req); !bytes.Equal(out.body, want) {
					t.Fatalf("docs body for %+v:\n got %s\nwant %s", req, out.body, want)
				}
			} else if req.Kind != KindRTC || req.Account == "" || !strings.Contains(err.Error(), "not a numeric uid") {
				t.Fatalf("buildDocsSample(%+v): %v", req, err)
			}
		}
	})
}
