package accesstoken

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func zlibB64(t *testing.T, data []byte) string {
	t.Helper()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	return base64.StdEncoding.EncodeToString(z.Bytes())
}

func TestParseMalformed(t *testing.T) {
	valid := mustInflate(t, exampleToken)
	z, _ := base64.StdEncoding.DecodeString(exampleToken[3:])
	badAdler := append([]byte(nil), z...)
	badAdler[len(badAdler)-1] ^= 1
	legacy := "006" + exampleAppID

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrMalformed},
		{"only whitespace", " \t\r\n", ErrMalformed},
		{"unknown version", "008eJwDAAAAAAE=", ErrUnsupportedVersion},
		{"no prefix", "eJxSYBBbsMMnKq7p9Hf", ErrUnsupportedVersion},
		{"short prefix", "00", ErrUnsupportedVersion},
		{"prefix only", "007", ErrMalformed},
		{"bad base64 character", "007eJx*SYBB", ErrMalformed},
		{"padding in the middle", "007eJ==xSYBB", ErrMalformed},
		{"impossible base64 length", "007eJxSY", ErrMalformed},
		{"not zlib", "007" + base64.StdEncoding.EncodeToString([]byte("hello, world")), ErrMalformed},
		{"truncated zlib stream", exampleToken[:100], ErrMalformed},
		{"bad adler-32", "007" + base64.StdEncoding.EncodeToString(badAdler), ErrMalformed},
		{"empty payload", "007" + zlibB64(t, nil), ErrMalformed},
		{"truncated payload", "007" + zlibB64(t, []byte(valid[:len(valid)-1])), ErrMalformed},
		{"token text over the cap", "007" + strings.Repeat("A", MaxTokenLen), ErrTooLarge},
		{"006 without app id", "006970CA35de60c4", ErrMalformed},
		{"006 bad base64", legacy + "!!!!", ErrMalformed},
		{"006 empty content", legacy, ErrMalformed},
		{"006 truncated content", legacy + "IACV0fZUBw+72cVoL9eyGGh3Q6Poi8bgjwVLnyKSJyOXR7dIfRBXoFHlEAABAAAAR/QQ", ErrMalformed},
		{"006 content over the cap", legacy + base64.StdEncoding.EncodeToString(make([]byte, MaxPayloadSize+1)), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse(tt.token)
			if !errors.Is(err, tt.want) || tok != nil {
				t.Fatalf("Parse = %v, %v; want nil, %v", tok, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "accesstoken: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if len(tt.token) > 40 && strings.Contains(err.Error(), tt.token[3:40]) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

// TestParseTruncatedFields cuts the worked example's payload at every length
// and checks that each cut names the field it falls in.
func TestParseTruncatedFields(t *testing.T) {
	payload := mustInflate(t, exampleToken)
	fieldAt := []struct {
		end   int // the field occupies bytes up to end
		field string
	}{
		{34, "signature"}, {68, "appId"}, {72, "issueTs"}, {76, "expire"}, {80, "salt"},
		{82, "serviceCount"}, {84, "services[0].type"}, {92, "services[0].privileges"},
		{126, "services[0].channelName"}, {138, "services[0].uid"},
	}
	for n := 0; n < len(payload); n++ {
		_, err := Parse(wrap007([]byte(payload[:n])))
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) || !errors.Is(err, errShort) {
			t.Fatalf("cut at %d: err = %v, want a *ParseError wrapping ErrMalformed", n, err)
		}
		want := ""
		for _, f := range fieldAt {
			if n < f.end {
				want = f.field
				break
			}
		}
		if pe.Field != want {
			t.Errorf("cut at %d: field %q, want %q (%v)", n, pe.Field, want, err)
		}
		if pe.Offset > n {
			t.Errorf("cut at %d: offset %d beyond the data", n, pe.Offset)
		}
	}
}

func TestParseUnknownServiceIsPartial(t *testing.T) {
	tok, err := Parse(exampleToken)
	if err != nil {
		t.Fatal(err)
	}
	// Append a second record of type 11 after the RTC one and fix the count.
	payload := []byte(mustInflate(t, exampleToken))
	payload[80] = 2
	payload = append(payload, 11, 0, 0, 0, 0xde, 0xad)
	part, err := Parse(wrap007(payload))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if part.Complete || !reflect.DeepEqual(part.Services, tok.Services) {
		t.Errorf("Complete=%v services=%+v; want false and the RTC service", part.Complete, part.Services)
	}
	if part.signed != string(payload[34:]) {
		t.Error("signed region does not cover the unknown record")
	}
	if !tok.Complete {
		t.Error("the original token is not Complete")
	}
}

func TestParseLenientText(t *testing.T) {
	tokens := map[string]string{}
	for _, v := range loadVectors(t) {
		if v.ID == "off-rtc-uid0-go" || v.ID == "off-006-uid" {
			tokens[v.ID] = v.Token
		}
	}
	for id, token := range tokens {
		want, err := Parse(token)
		if err != nil {
			t.Fatal(err)
		}
		prefix, body := token[:3], token[3:]
		if !strings.Contains(body, "+") || !strings.Contains(body, "/") {
			t.Fatalf("%s no longer exercises + and /", id)
		}
		var wrapped strings.Builder
		for i := 0; i < len(body); i += 40 {
			wrapped.WriteString(body[i:min(i+40, len(body))])
			wrapped.WriteString("\r\n")
		}
		urlSafe := strings.NewReplacer("+", "-", "/", "_").Replace(body)
		variants := map[string]string{
			"surrounding whitespace": " \t\n" + token + "\r\n ",
			"url-safe":               prefix + urlSafe,
			"url-safe unpadded":      prefix + strings.TrimRight(urlSafe, "="),
			"unpadded":               prefix + strings.TrimRight(body, "="),
			"line-wrapped":           prefix + wrapped.String(),
			"plus lost to a space":   prefix + strings.ReplaceAll(body, "+", " "),
		}
		for name, s := range variants {
			got, err := Parse(s)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: Parse = %+v, %v", id, name, got, err)
			}
		}
	}
	if len(tokens) != 2 {
		t.Fatalf("found %d of the 2 vectors", len(tokens))
	}
}

func TestParseZipBomb(t *testing.T) {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(make([]byte, 16<<20)) // 16 MiB of zeros, about 16 KiB compressed
	zw.Close()
	bomb := "007" + base64.StdEncoding.EncodeToString(z.Bytes())
	if len(bomb) > MaxTokenLen {
		t.Fatalf("bomb is %d characters, over the text cap", len(bomb))
	}
	start := time.Now()
	_, err := Parse(bomb)
	elapsed := time.Since(start)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Parse = %v, want ErrTooLarge", err)
	}
	// Inflating the whole bomb takes tens of milliseconds; stopping at the
	// cap takes well under one. The bound is loose for slow CI machines.
	if elapsed > 50*time.Millisecond {
		t.Errorf("Parse took %v; it should stop at the %d-byte cap", elapsed, MaxPayloadSize)
	}
	t.Logf("zip bomb of %d characters rejected in %v", len(bomb), elapsed)

	// Exactly at the cap is fine, one byte over is not. (Zeros decode as
	// empty fields and no services; the rest is ignored trailing data.)
	at := wrap007(make([]byte, MaxPayloadSize))
	if _, err := Parse(at); err != nil {
		t.Errorf("payload of exactly MaxPayloadSize: %v, want success", err)
	}
	over := wrap007(make([]byte, MaxPayloadSize+1))
	if _, err := Parse(over); !errors.Is(err, ErrTooLarge) {
		t.Errorf("payload of MaxPayloadSize+1: %v, want ErrTooLarge", err)
	}
}

func TestVerifyErrors(t *testing.T) {
	tok, err := Parse(exampleToken)
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.Replace(exampleCert, "C", "c", 1) // same text but one letter's case
	tests := []struct {
		name, cert string
		want       error
	}{
		{"one letter's case differs", lower, ErrInvalidSignature},
		{"last character differs", exampleCert[:31] + "c", ErrInvalidSignature},
		{"too short", exampleCert[:31], ErrInvalidCertificate},
		{"not hex", "zCFd2fd1755d40ecb72977518be15d3b", ErrInvalidCertificate},
		{"empty", "", ErrInvalidCertificate},
	}
	for _, tt := range tests {
		err := tok.Verify(tt.cert)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
		if tt.cert != "" && strings.Contains(err.Error(), tt.cert) {
			t.Errorf("%s: error %q echoes the certificate", tt.name, err)
		}
	}
	if err := (&Token{Version: Version2, AppID: exampleAppID}).Verify(exampleCert); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("Verify of an unparsed token = %v", err)
	}
	bad := *tok
	bad.AppID = "not-an-app-id"
	if err := bad.Verify(exampleCert); !errors.Is(err, ErrInvalidAppID) {
		t.Errorf("Verify with a bad app ID = %v", err)
	}
	if err := tok.VerifyLegacy(exampleCert, "c", ""); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("VerifyLegacy on 007 = %v", err)
	}
}
