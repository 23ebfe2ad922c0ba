package main

import (
	"strings"
	"testing"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

// mintBase are the official vectors' app, certificate, issue time and salt.
var mintBase = []string{"mint", "--app-id", testAppID, "--cert", testCert, "--issue-ts", "1111111", "--salt", "1"}

func mint(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return runTest(t, "", env, append(append([]string{}, mintBase...), args...)...)
}

func TestMintMatchesOfficialGoBuilder(t *testing.T) {
	tokens := map[string]string{}
	for _, v := range officialVectors(t) {
		tokens[v["id"].(string)] = v["token"].(string)
	}
	tests := []struct {
		vector string
		args   []string
	}{
		{"off-rtc-uid-go", []string{"--channel", testChannel, "--uid", "2882341273", "--role", "subscriber", "--expire", "600"}},
		// The same token from the string account (spec §3.9).
		{"off-rtc-uid-go", []string{"--channel", testChannel, "--account", "2882341273", "--role", "subscriber", "--expire", "600"}},
		{"off-rtc-uid0-go", []string{"--expire", "600", "--role", "subscriber", "--channel", testChannel, "--uid", "0"}},
		{"off-rtm-go", []string{"--user", "test_user", "--expire", "600"}},
	}
	for _, tt := range tests {
		r := mint(t, nil, tt.args...)
		if r.code != 0 || r.stderr != "" || r.stdout != tokens[tt.vector]+"\n" {
			t.Errorf("%s %v: exit %d stderr %q\n got %q\nwant %q", tt.vector, tt.args, r.code, r.stderr, r.stdout, tokens[tt.vector])
		}
	}
}

func TestMintDefaults(t *testing.T) {
	env := map[string]string{"APP_ID": testAppID, "APP_CERTIFICATE": testCert}
	r := runTest(t, "", env, "mint", "--channel", "room-1", "--account", "0")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	tok, err := accesstoken.Parse(strings.TrimSpace(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify(testCert); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if tok.IssueTs != uint32(testNow.Unix()) || tok.Expire != 3600 || tok.Salt < 1 || tok.Salt > 99999999 {
		t.Errorf("issueTs %d expire %d salt %d; want now, 3600, [1, 99999999]", tok.IssueTs, tok.Expire, tok.Salt)
	}
	rtc, ok := tok.Service(accesstoken.ServiceRTC)
	if !ok || len(tok.Services) != 1 || rtc.Channel != "room-1" || rtc.Account != "0" || len(rtc.Privileges) != 4 {
		t.Fatalf("services = %+v; want one publisher RTC service with account \"0\"", tok.Services)
	}
	for _, p := range rtc.Privileges {
		if p.Value != 3600 {
			t.Errorf("privilege %d = %d, want 3600", p.ID, p.Value)
		}
	}
	// Flags override the environment.
	r = runTest(t, "", env, "mint", "--user", "u", "--cert", strings.ToLower(testCert))
	tok, err = accesstoken.Parse(strings.TrimSpace(r.stdout))
	if err != nil || tok.Verify(strings.ToLower(testCert)) != nil {
		t.Errorf("--cert did not override APP_CERTIFICATE: %v", err)
	}
}

func TestMintUsageErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		substr string
	}{
		{"no service", nil, "exactly one of --user (RTM) and --channel (RTC)"},
		{"user and channel", []string{"--user", "u", "--channel", "c", "--uid", "1"}, "exactly one of --user"},
		{"channel without uid", []string{"--channel", "c"}, "exactly one of --uid and --account"},
		{"uid and account", []string{"--channel", "c", "--uid", "1", "--account", "a"}, "exactly one of --uid and --account"},
		{"uid with user", []string{"--user", "u", "--uid", "1"}, "apply to RTC tokens"},
		{"role with user", []string{"--user", "u", "--role", "subscriber"}, "apply to RTC tokens"},
		{"bad role", []string{"--channel", "c", "--uid", "1", "--role", "admin"}, `--role must be publisher or subscriber, not "admin"`},
		{"negative uid", []string{"--channel", "c", "--uid", "-1"}, `invalid value "-1" for flag -uid`},
		{"uid over uint32", []string{"--channel", "c", "--uid", "4294967296"}, "invalid value"},
		{"bad expire", []string{"--user", "u", "--expire", "1h"}, "flag -expire"},
		{"bad salt", []string{"--user", "u", "--salt", "99999999999"}, "flag -salt"},
		{"empty user", []string{"--user", ""}, "--user must not be empty"},
		{"positional argument", []string{"--user", "u", "extra"}, `unexpected argument "extra"`},
		{"user id too long", []string{"--user", strings.Repeat("u", 70000)}, "invalid service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mint(t, nil, tt.args...).wantError(t, exitUsage, tt.substr)
		})
	}

	bad := []struct {
		name   string
		args   []string
		env    map[string]string
		substr string
	}{
		{"no app id", []string{"mint", "--cert", testCert, "--user", "u"}, nil, "--app-id (or APP_ID) is required"},
		{"bad app id", []string{"mint", "--app-id", "xyz", "--cert", testCert, "--user", "u"}, nil, "--app-id must be 32 hexadecimal"},
		{"no cert", []string{"mint", "--app-id", testAppID, "--user", "u"}, nil, "--cert (or APP_CERTIFICATE) is required"},
		{"bad cert flag", []string{"mint", "--app-id", testAppID, "--cert", testCert + "0", "--user", "u"}, nil, "--cert must be 32 hexadecimal"},
		{"bad cert env", []string{"mint", "--app-id", testAppID, "--user", "u"}, map[string]string{"APP_CERTIFICATE": "g" + testCert[1:]}, "--cert must be 32 hexadecimal"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := runTest(t, "", tt.env, tt.args...)
			r.wantError(t, exitUsage, tt.substr)
			if strings.Contains(r.stderr, testCert[1:]) {
				t.Errorf("stderr echoes the certificate: %q", r.stderr)
			}
		})
	}
}
