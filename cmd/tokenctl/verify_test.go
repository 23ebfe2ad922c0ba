package main

import (
	"strings"
	"testing"
)

func TestVerifyOfficialVectors(t *testing.T) {
	for _, v := range officialVectors(t) {
		if v["expectError"] == true {
			continue
		}
		t.Run(v["id"].(string), func(t *testing.T) {
			tok, cert := v["token"].(string), v["appCertificate"].(string)
			args := []string{"verify", "--cert", cert, tok}
			if v["version"] == "006" {
				args = append(args, "--channel", v["channelName"].(string), "--account", v["uid"].(string))
			}
			r := runTest(t, "", nil, args...)
			if r.code != 0 || r.stdout != "valid\n" || r.stderr != "" {
				t.Errorf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
			}
			// One character of the certificate changed: exactly this line.
			args[2] = cert[:5] + string(cert[5]^0x20) + cert[6:] // flips the case of the 'f'
			r = runTest(t, "", nil, args...)
			if r.code != exitFail || r.stderr != "tokenctl: invalid signature\n" || r.stdout != "" {
				t.Errorf("wrong cert: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestVerifyInputs(t *testing.T) {
	legacyUID0 := ""
	for _, v := range officialVectors(t) {
		if v["id"] == "off-006-uid0" {
			legacyUID0 = v["token"].(string)
		}
	}
	env := map[string]string{"APP_CERTIFICATE": testCert}
	if r := runTest(t, rtcUIDGo+"\n", env, "verify", "-"); r.code != 0 || r.stdout != "valid\n" {
		t.Errorf("cert from APP_CERTIFICATE, token from stdin: %+v", r)
	}
	if r := runTest(t, "", nil, "verify", legacyUID0, "--cert="+testCert, "-channel", testChannel, "--uid", "0"); r.code != 0 || r.stdout != "valid\n" {
		t.Errorf("006 with --uid 0: %+v", r)
	}
	if r := runTest(t, "", nil, "verify", "--cert", testCert, "--channel", testChannel, "--uid", "1", legacyUID0); r.stderr != "tokenctl: invalid signature\n" {
		t.Errorf("006 with the wrong uid: %+v", r)
	}

	tests := []struct {
		name   string
		args   []string
		code   int
		substr string
	}{
		{"no certificate", []string{"verify", rtcUIDGo}, exitUsage, "--cert (or APP_CERTIFICATE) is required"},
		{"short certificate", []string{"verify", "--cert", testCert[:31], rtcUIDGo}, exitUsage, "32 hexadecimal characters"},
		{"non-hex certificate", []string{"verify", "--cert", "x" + testCert[1:], rtcUIDGo}, exitUsage, "32 hexadecimal characters"},
		{"no token", []string{"verify", "--cert", testCert}, exitUsage, "want one TOKEN argument"},
		{"006 without channel", []string{"verify", "--cert", testCert, legacyUID0}, exitUsage, "pass --channel"},
		{"uid and account", []string{"verify", "--cert", testCert, "--uid", "1", "--account", "1", legacyUID0}, exitUsage, "mutually exclusive"},
		{"bad uid", []string{"verify", "--cert", testCert, "--uid", "-1", legacyUID0}, exitUsage, "invalid value"},
		{"channel on 007", []string{"verify", "--cert", testCert, "--channel", "c", rtcUIDGo}, exitUsage, "006 tokens only"},
		{"malformed token", []string{"verify", "--cert", testCert, rtcUIDGo[:100]}, exitFail, "malformed token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runTest(t, "", nil, tt.args...)
			r.wantError(t, tt.code, tt.substr)
			if strings.Contains(r.stderr, testCert[:31]) || strings.Contains(r.stderr, testCert[1:]) {
				t.Errorf("stderr echoes the certificate: %q", r.stderr)
			}
		})
	}
}
