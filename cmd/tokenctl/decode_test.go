package main

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// officialVectors loads the accesstoken package's copy of the official test
// vectors as generic JSON, keeping the fields as the file spells them.
func officialVectors(t *testing.T) []map[string]any {
	t.Helper()
	data, err := os.ReadFile("../../accesstoken/testdata/agora-official-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []map[string]any }
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) != 33 {
		t.Fatalf("%d vectors, want 33", len(file.Vectors))
	}
	return file.Vectors
}

// typeFields lists the type-specific keys a decoded service must carry.
var typeFields = map[float64][]string{
	1: {"channelName", "uid"}, 2: {"userId"}, 3: {"channelName", "account"}, 4: nil, 5: {"userId"},
	6: {"channelName", "account"}, 7: {"roomUuid", "userUuid", "role"}, 8: {"userId", "permissions"},
}

func TestDecodeJSONOfficialVectors(t *testing.T) {
	for _, v := range officialVectors(t) {
		t.Run(v["id"].(string), func(t *testing.T) {
			r := runTest(t, "", nil, "decode", "--json", v["token"].(string))
			if v["expectError"] == true {
				r.wantError(t, exitFail, "malformed token")
				return
			}
			if r.code != 0 || r.stderr != "" || strings.Count(r.stdout, "\n") != 1 {
				t.Fatalf("exit %d stderr %q stdout %q", r.code, r.stderr, r.stdout)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatal(err)
			}
			if v["version"] == "006" {
				checkLegacyJSON(t, got, v)
			} else {
				checkJSON(t, got, v)
			}
		})
	}
}

func checkJSON(t *testing.T, got, v map[string]any) {
	t.Helper()
	wantKeys := []string{"version", "appId", "issueTs", "expire", "issuedAt", "expiresAt", "salt", "services", "complete"}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, slices.Sorted(slices.Values(wantKeys))) {
		t.Errorf("keys %v, want %v", keys, wantKeys)
	}
	for _, k := range []string{"version", "appId", "issueTs", "expire", "salt"} {
		if got[k] != v[k] {
			t.Errorf("%s = %v, want %v", k, got[k], v[k])
		}
	}
	issue := int64(v["issueTs"].(float64))
	if want := time.Unix(issue, 0).UTC().Format(time.RFC3339); got["issuedAt"] != want {
		t.Errorf("issuedAt = %v, want %s", got["issuedAt"], want)
	}
	if want := time.Unix(issue+int64(v["expire"].(float64)), 0).UTC().Format(time.RFC3339); got["expiresAt"] != want {
		t.Errorf("expiresAt = %v, want %s", got["expiresAt"], want)
	}
	if got["complete"] != true {
		t.Errorf("complete = %v", got["complete"])
	}
	gs, ws := got["services"].([]any), v["services"].([]any)
	if len(gs) != len(ws) {
		t.Fatalf("%d services, want %d", len(gs), len(ws))
	}
	for i := range ws {
		g, w := gs[i].(map[string]any), ws[i].(map[string]any)
		typ := w["type"].(float64)
		wantKeys := append([]string{"type", "name", "privileges"}, typeFields[typ]...)
		if keys := slices.Sorted(maps.Keys(g)); !slices.Equal(keys, slices.Sorted(slices.Values(wantKeys))) {
			t.Errorf("service %d keys %v, want %v", i, keys, wantKeys)
		}
		if g["type"] != typ || g["name"] != strings.ToLower(w["name"].(string)) {
			t.Errorf("service %d type/name = %v/%v, want %v/%v", i, g["type"], g["name"], typ, w["name"])
		}
		if !reflect.DeepEqual(g["privileges"], w["privileges"]) {
			t.Errorf("service %d privileges = %v, want %v", i, g["privileges"], w["privileges"])
		}
		for _, k := range typeFields[typ] {
			want := w[k]
			if k == "permissions" {
				var perms []any
				for _, p := range want.([]any) {
					p := p.([]any)
					perms = append(perms, map[string]any{"resourceType": p[0], "permissionType": p[1], "resources": p[2]})
				}
				want = perms
			}
			if !reflect.DeepEqual(g[k], want) {
				t.Errorf("service %d %s = %v, want %v", i, k, g[k], want)
			}
		}
	}
}

func checkLegacyJSON(t *testing.T, got, v map[string]any) {
	t.Helper()
	want := map[string]any{
		"version": "006", "appId": v["appId"], "salt": v["salt"], "ts": v["ts"],
		"crcChannelName": float64(crc32.ChecksumIEEE([]byte(v["channelName"].(string)))),
		"crcUid":         float64(crc32.ChecksumIEEE([]byte(v["uid"].(string)))),
		"privileges":     v["privileges"],
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n %v\nwant\n %v", got, want)
	}
}

func TestDecodeSummary(t *testing.T) {
	r := runTest(t, "", nil, "decode", rtcUIDGo)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{
		"AccessToken2 (007)", "app ID:    " + testAppID, "issued:    1970-01-13T20:38:31Z",
		"expires:   1970-01-13T20:48:31Z (in 5m0s), lifetime 10m0s",
		`rtc channel "` + testChannel + `" uid "2882341273"`, "join channel: until 1970-01-13T20:48:31Z (+600s)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	// Neither the token nor its signature (hex or base64) is printed.
	for _, secret := range []string{rtcUIDGo[3:40], "16a0b84c5a5e82cbf74fb813d09f59c5", "FqC4TFpegsv3T7gT0J9ZxUvaycBhIFgFOayXV46Vixo"} {
		if strings.Contains(r.stdout, secret) {
			t.Errorf("summary contains %q", secret)
		}
	}
}

func TestDecodeSummaryLegacyAndExpired(t *testing.T) {
	var legacy string
	for _, v := range officialVectors(t) {
		if v["id"] == "off-006-publisher" {
			legacy = v["token"].(string)
		}
	}
	r := runTest(t, "", nil, "decode", legacy)
	for _, want := range []string{"AccessToken (006)", "expires:   1970-01-13T20:38:31Z (expired 5m0s ago)",
		"channel:   crc32 107d48b7", "publish data stream: until 1970-01-13T20:38:31Z (stored 1446455471)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 0 || strings.Contains(r.stdout, legacy[35:70]) {
		t.Errorf("exit %d, or the token leaked:\n%s", r.code, r.stdout)
	}
}

func TestDecodeStdinAndFlagOrder(t *testing.T) {
	for _, args := range [][]string{{"decode", "--json", "-"}, {"decode", "-", "--json"}, {"decode", "-json", "-"}} {
		r := runTest(t, "\n  "+rtcUIDGo+"\r\n", nil, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, `{"version":"007","appId":"`+testAppID) {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		substr string
	}{
		{"no token", "", []string{"decode"}, exitUsage, "want one TOKEN argument, got 0"},
		{"two tokens", "", []string{"decode", rtcUIDGo, rtcUIDGo}, exitUsage, "got 2"},
		{"unknown flag", "", []string{"decode", "--yaml", rtcUIDGo}, exitUsage, "flag provided but not defined: -yaml"},
		{"garbage", "", []string{"decode", "hello"}, exitFail, "unsupported token version"},
		{"truncated", "", []string{"decode", rtcUIDGo[:120]}, exitFail, "malformed token"},
		{"bad base64", "", []string{"decode", "007$$$$"}, exitFail, "invalid base64"},
		{"empty stdin", "  \n", []string{"decode", "-"}, exitFail, "no token on standard input"},
		{"garbage on stdin", "006abc", []string{"decode", "--json", "-"}, exitFail, "malformed token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runTest(t, tt.stdin, nil, tt.args...)
			r.wantError(t, tt.code, tt.substr)
			if strings.Contains(r.stderr, rtcUIDGo[3:60]) {
				t.Errorf("stderr contains the token: %q", r.stderr)
			}
		})
	}
}

// partialToken appends a record of unknown type 11 to the official RTC
// token's payload, so decoding stops there.
func partialToken(t *testing.T) string {
	t.Helper()
	z, err := base64.StdEncoding.DecodeString(rtcUIDGo[3:])
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	payload[80] = 2 // serviceCount
	payload = append(payload, 11, 0, 0, 0)
	var out bytes.Buffer
	zw := zlib.NewWriter(&out)
	zw.Write(payload)
	zw.Close()
	return "007" + base64.StdEncoding.EncodeToString(out.Bytes())
}

func TestDecodePartialToken(t *testing.T) {
	tok := partialToken(t)
	r := runTest(t, "", nil, "decode", "--json", tok)
	if r.code != 0 || !strings.Contains(r.stdout, `"complete":false`) || strings.Count(r.stdout, `"type":`) != 1 {
		t.Errorf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runTest(t, "", nil, "decode", tok)
	if r.code != 0 || !strings.Contains(r.stdout, "incomplete: decoding stopped") {
		t.Errorf("summary: exit %d stdout %q", r.code, r.stdout)
	}
	// The signature still covers the unknown record, so it no longer matches.
	if r := runTest(t, "", nil, "verify", "--cert", testCert, tok); r.stderr != "tokenctl: invalid signature\n" {
		t.Errorf("verify: %+v", r)
	}
}
