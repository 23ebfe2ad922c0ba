package fetcher

import (
	"encoding/json"
	"strings"
	"testing"
)

// fastSpecs are the presets the fast reading serves, plus custom templates
// that exercise its expiry and name handling.
func fastSpecs() []*presetSpec {
	return []*presetSpec{
		PresetAgoraTokenService.s, PresetAgoraTokenServiceGET.s, PresetDocsSample.s,
		Custom(Template{TokenPath: "token", ExpiryPath: "expireAt"}).s,
		Custom(Template{TokenPath: "t", ExpiryPath: "t"}).s,
		Custom(Template{TokenPath: "data.token"}).s,
		Custom(Template{TokenPath: "tök"}).s,
	}
}

// TestFastDecodeTaken: the usual answers are read by the fast path, with
// the same result as encoding/json.
func TestFastDecodeTaken(t *testing.T) {
	tok := rtmToken(t, "alice")
	tests := []struct {
		name string
		spec *presetSpec
		body string
	}{
		{"plain", PresetAgoraTokenService.s, `{"token":"` + tok + `"}`},
		{"newline and spaces", PresetAgoraTokenService.s, " \t{ \"token\" :\r\n \"  " + tok + " \" }\n"},
		{"other members", PresetAgoraTokenService.s,
			`{"a":[1,-2.5,0,{"b":null,"c\n\u00e9":true}],"token":"` + tok + `","z":false,"é":"ü\"\\\/\b\f\n\r\t"}`},
		{"last duplicate wins", PresetAgoraTokenService.s, `{"token":7,"token":"` + tok + `"}`},
		{"GET route", PresetAgoraTokenServiceGET.s, `{"rtmToken":"` + tok + `"}`},
		{"docs code string", PresetDocsSample.s, `{"code":"200","token":"` + tok + `"}`},
		{"docs code number", PresetDocsSample.s, `{"code":0,"token":"` + tok + `"}`},
		{"docs no code", PresetDocsSample.s, `{"token":"` + tok + `"}`},
		{"expiry number", Custom(Template{TokenPath: "token", ExpiryPath: "expireAt"}).s,
			`{"token":"` + tok + `","expireAt":1750000000.5}`},
		{"expiry millis string", Custom(Template{TokenPath: "token", ExpiryPath: "expireAt"}).s,
			`{"expireAt":" 1750000000123 ","token":"` + tok + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast, ok := fastDecode(tt.spec, KindRTM, []byte(tt.body))
			if !ok {
				t.Fatalf("fast path declined %s", tt.body)
			}
			slow, e := decodeGeneric(tt.spec, KindRTM, "application/json", []byte(tt.body))
			if e != nil {
				t.Fatalf("generic path: %v", e)
			}
			if fast.raw != slow.raw || !fast.expiry.Equal(slow.expiry) {
				t.Errorf("fast %q %v, generic %q %v", Redact(fast.raw), fast.expiry, Redact(slow.raw), slow.expiry)
			}
		})
	}
}

// TestFastDecodeDeclines: answers the fast path cannot be sure of go to
// encoding/json, which decides (and words any error).
func TestFastDecodeDeclines(t *testing.T) {
	tok := rtmToken(t, "alice")
	tests := []struct {
		name string
		spec *presetSpec
		body string
	}{
		{"escaped key", PresetAgoraTokenService.s, `{"tok\u0065n":"` + tok + `"}`},
		// encoding/json keeps the last of duplicate members, and "tok\u0065n"
		// is "token": a fast path that skipped escaped keys would return the
		// first token, the generic path the second.
		{"escaped duplicate key", PresetAgoraTokenService.s, `{"token":"` + tok + `","tok\u0065n":"` + rtmToken(t, "bob") + `"}`},
		{"escaped token", PresetAgoraTokenService.s, `{"token":"` + tok[:10] + `\u0041` + tok[10:] + `"}`},
		{"non-ASCII token", PresetAgoraTokenService.s, `{"token":"` + tok + `é"}`},
		{"exponent", PresetAgoraTokenService.s, `{"n":1e400,"token":"` + tok + `"}`},
		{"huge number", PresetAgoraTokenService.s, `{"n":` + strings.Repeat("9", 400) + `,"token":"` + tok + `"}`},
		{"deep", PresetAgoraTokenService.s, `{"n":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `,"token":"` + tok + `"}`},
		{"trailing data", PresetAgoraTokenService.s, `{"token":"` + tok + `"} {}`},
		{"trailing comma", PresetAgoraTokenService.s, `{"token":"` + tok + `",}`},
		{"leading zero", PresetAgoraTokenService.s, `{"n":01,"token":"` + tok + `"}`},
		{"control character", PresetAgoraTokenService.s, "{\"n\":\"\x01\",\"token\":\"" + tok + "\"}"},
		{"bad escape", PresetAgoraTokenService.s, `{"n":"\x","token":"` + tok + `"}`},
		{"not an object", PresetAgoraTokenService.s, `["` + tok + `"]`},
		{"missing", PresetAgoraTokenService.s, `{"rtmToken":"` + tok + `"}`},
		{"no prefix", PresetAgoraTokenService.s, `{"token":"` + tok[3:] + `"}`},
		{"number token", PresetAgoraTokenService.s, `{"token":7}`},
		{"docs code 400", PresetDocsSample.s, `{"code":"400","token":"` + tok + `"}`},
		{"docs code 200.0", PresetDocsSample.s, `{"code":200.0,"token":"` + tok + `"}`},
		{"dotted path", Custom(Template{TokenPath: "data.token"}).s, `{"data":{"token":"` + tok + `"}}`},
		{"bad expiry", Custom(Template{TokenPath: "token", ExpiryPath: "expireAt"}).s, `{"token":"` + tok + `","expireAt":-1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := fastDecode(tt.spec, KindRTM, []byte(tt.body)); ok {
				t.Errorf("fast path accepted the body (%d bytes)", len(tt.body)) // it holds whole tokens
			}
		})
	}
}

// FuzzFastDecode checks the fast reading against encoding/json: whenever
// it accepts a body, the generic path must accept it too, with the same
// token and expiry, and encoding/json must find the document valid.
func FuzzFastDecode(f *testing.F) {
	tok := rtmToken(f, "alice")
	for _, s := range []string{
		`{"token":"` + tok + `"}`,
		`{"rtmToken":"` + tok + `","rtcToken":"` + tok + `"}`,
		`{"code":"200","token":"` + tok + `"}`,
		`{"code":0,"token":"006abc"}`,
		`{"token":"007x","expireAt":1750000000}`,
		`{"token":"007x","expireAt":"1750000000123"}`,
		`{"t":"006"}`,
		`{"tök":"007x"}`,
		`{"data":{"token":"007x"}}`,
		`{"a":[1,2.5,-0,true,false,null,{"b":"\u00e9\n"}],"token":"007x"}`,
		`{"token":"007x","token":"006y"}`,
		`{"token":"007x","tok\u0065n":"006y"}`,
		`{"n":-0.0,"token":" 007x "}`,
	} {
		f.Add([]byte(s))
	}
	specs := fastSpecs()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, spec := range specs {
			for _, kind := range []Kind{KindRTM, KindRTC} {
				fast, ok := fastDecode(spec, kind, body)
				if !ok {
					continue
				}
				if !json.Valid(body) {
					t.Fatalf("fast path accepted invalid JSON %q", body)
				}
				slow, e := decodeGeneric(spec, kind, "application/json", body)
				if e != nil {
					t.Fatalf("%s: fast path accepted %q, generic path: %v", spec.name, body, e)
				}
				if fast.raw != slow.raw || !fast.expiry.Equal(slow.expiry) {
					t.Fatalf("%s: body %q: fast %q %v, generic %q %v", spec.name, body, fast.raw, fast.expiry, slow.raw, slow.expiry)
				}
			}
		}
	})
}
