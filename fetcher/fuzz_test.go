package fetcher

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeResponse feeds arbitrary bodies through the whole 2xx path of
// every preset: decoding, the token field, and the token checks. It must
// never panic, and must return either a token for the request or an *Error
// wrapping one of the response sentinels, whose text holds no token.
func FuzzDecodeResponse(f *testing.F) {
	tok := rtmToken(f, "alice")
	for _, s := range []string{
		`{"token":"` + tok + `"}`,
		`{"rtmToken":"` + tok + `"}`,
		`{"code":"200","token":"` + tok + `"}`,
		`{"code":"400","token":"Bad request."}`,
		`{"token":"007eJx"}`,
		`{"token":"006` + testAppID + `AAAA"}`,
		`<html>`, ``, `null`, `[1,2]`, `{"token":7}`, `{"expireAt":"1e30","token":"` + tok + `"}`,
	} {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte("\x78\x9c"), "text/html; charset=utf-8")
	// A parsable Content-Type is the server's text too (found by CI fuzzing).
	f.Add([]byte("0070000000000000000"), "0070000000000000000")
	specs := []*presetSpec{PresetAgoraTokenService.s, PresetAgoraTokenServiceGET.s, PresetDocsSample.s,
		Custom(Template{TokenPath: "token", ExpiryPath: "expireAt"}).s}
	sentinels := []error{ErrBadResponse, ErrStatus, ErrBadToken, ErrMismatch, ErrExpired}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, spec := range specs {
			for _, req := range []Request{rtmAlice, rtcRoom} {
				d, e := decodeBody(spec, req.Kind, contentType, body)
				if e == nil {
					var tok Token
					tok, e = checkToken(d.raw, req, testAppID, t0, time.Time{}, d.expiry)
					if e == nil {
						if tok.Raw == "" || !tok.ExpiresAt.After(t0) || tok.Lifetime <= 0 {
							t.Fatalf("accepted a useless token: %+v", tok)
						}
						continue
					}
				}
				ok := false
				for _, s := range sentinels {
					ok = ok || errors.Is(e, s)
				}
				if !ok || e.Class == 0 || e.Detail == "" {
					t.Fatalf("untyped error %#v", e)
				}
				if m := tokenLike.FindString(e.Error()); m != "" && strings.Contains(string(body), m) {
					t.Fatalf("error echoes a token-like run from the body: %q", e.Error())
				}
			}
		}
	})
}

// FuzzStatusError checks that error bodies of any shape give a bounded,
// token-free description.
func FuzzStatusError(f *testing.F) {
	f.Add(400, []byte(`{"error":"Origin not allowed"}`), "application/json")
	f.Add(503, []byte("<html>down</html>"), "text/html")
	f.Add(401, []byte("007eJxSYOBNPnV9Xe+2CSW/Gz7nnOXymStxr+1ZtvL99OJDYWwLec8qMCQaJhklG6eYpJqmmRmYG1oYWRonmiSZJpulmKdapFkasD5kyxbgY2CQnPObgZGBiYGRgZEBxGdlSMzJTE4FBAAA//96sx8y"), "text/plain")
	f.Fuzz(func(t *testing.T, status int, body []byte, contentType string) {
		e := statusError(status, map[string][]string{"Content-Type": {contentType}}, body, time.Second, "p", true)
		if !errors.Is(e, ErrStatus) || e.StatusCode != status {
			t.Fatalf("bad error %#v", e)
		}
		if len(e.Detail) > 1200 {
			t.Fatalf("detail too long: %d bytes", len(e.Detail))
		}
		if m := tokenLike.FindString(e.Detail); m != "" && strings.Contains(string(body), m) {
			t.Fatalf("detail echoes a token-like run: %q", e.Detail)
		}
	})
}

// FuzzTemplatePath feeds arbitrary dotted paths and JSON documents to the
// custom template's path parser and lookup.
func FuzzTemplatePath(f *testing.F) {
	f.Add("data.token", []byte(`{"data":{"token":"x"}}`))
	f.Add("items.0.token", []byte(`{"items":[{"token":"x"}]}`))
	f.Add("a..b", []byte(`{}`))
	f.Add("0", []byte(`["x"]`))
	f.Add("a.99999999999999999999", []byte(`{"a":[1]}`))
	f.Fuzz(func(t *testing.T, path string, doc []byte) {
		segs, err := parsePath(path)
		if err != nil {
			if p := Custom(Template{TokenPath: path}); p.err == nil || !errors.Is(p.err, ErrInvalidConfig) {
				t.Fatalf("Custom accepted path %q that parsePath rejects", path)
			}
			return
		}
		if strings.Join(segs, ".") != path {
			t.Fatalf("segments %q do not rejoin to %q", segs, path)
		}
		v, err := decodeJSON(doc)
		if err != nil {
			return
		}
		got, ok := lookupPath(v, segs)
		if !ok && got != nil {
			t.Fatalf("lookup failed but returned %v", got)
		}
		// The token field check accepts only strings with a token prefix.
		spec := &presetSpec{name: "custom", token: func(Kind) []string { return segs }}
		if d, e := decodeBody(spec, KindRTM, "application/json", doc); e == nil {
			s, _ := got.(string)
			if !ok || strings.TrimSpace(s) != d.raw || (!strings.HasPrefix(d.raw, "006") && !strings.HasPrefix(d.raw, "007")) {
				t.Fatalf("decodeBody returned %q for lookup %v, %v", d.raw, got, ok)
			}
		}
	})
}

// FuzzParseRetryAfter: any header value gives a bounded, non-negative wait.
func FuzzParseRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT")
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, t0)
		if d < 0 || d > maxRetryAfter || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", v, d, ok)
		}
	})
}
