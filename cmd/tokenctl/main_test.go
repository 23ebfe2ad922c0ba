package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Test fixtures: the official vectors' app, certificate and inputs.
const (
	testAppID   = "970CA35de60c44645bbae8a215061b33"
	testCert    = "5CFd2fd1755d40ecb72977518be15d3b"
	testChannel = "7d72365eb983485397e3e3f9d460bdda"
	// off-rtc-uid-go: RTC, uid 2882341273, {1: 600}, issueTs 1111111, salt 1.
	rtcUIDGo = "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD//8JqJOM="
)

// testNow is the fixed clock of every test run: 1111111 + 300 s, i.e.
// five minutes into the vectors' ten-minute lifetime.
var testNow = time.Unix(1111111+300, 0)

type result struct {
	code           int
	stdout, stderr string
}

// runTest runs the CLI in memory with the given stdin and environment.
func runTest(t *testing.T, stdin string, environ map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &cmdEnv{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return environ[k] },
		Now:    func() time.Time { return testNow },
	}
	code := runEnv(context.Background(), args, env)
	return result{code, out.String(), errOut.String()}
}

var oneErrorLine = regexp.MustCompile(`^tokenctl: [^\n]+\n$`)

// wantError checks the exit status and that stderr is exactly one
// "tokenctl: …" line containing substr, with nothing on stdout.
func (r result) wantError(t *testing.T, code int, substr string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if !oneErrorLine.MatchString(r.stderr) {
		t.Errorf("stderr %q is not one \"tokenctl: …\" line", r.stderr)
	}
	if !strings.Contains(r.stderr, substr) {
		t.Errorf("stderr %q does not contain %q", r.stderr, substr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
}

func TestNoArgsPrintsUsage(t *testing.T) {
	r := runTest(t, "", nil)
	if r.code != exitUsage || r.stdout != "" {
		t.Errorf("exit %d stdout %q; want 2 and nothing", r.code, r.stdout)
	}
	for _, name := range []string{"decode", "verify", "mint"} {
		if !strings.Contains(r.stderr, "\n  "+name+" ") {
			t.Errorf("usage does not list %s:\n%s", name, r.stderr)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := runTest(t, "", nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Commands:") || r.stderr != "" {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	for _, args := range [][]string{{"help", "mint"}, {"mint", "-h"}, {"mint", "--help"}} {
		r := runTest(t, "", nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: tokenctl mint") || !strings.Contains(r.stdout, "-issue-ts UNIX") {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	runTest(t, "", nil, "help", "nope").wantError(t, exitUsage, `unknown command "nope"`)
}

func TestUnknownCommand(t *testing.T) {
	runTest(t, "", nil, "frobnicate", "x").wantError(t, exitUsage, `unknown command "frobnicate"`)
}

func TestRunUsesRealStreams(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"decode", "--json", "-"}, strings.NewReader(rtcUIDGo+"\n"), &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), `"appId":"`+testAppID+`"`) || errOut.Len() != 0 {
		t.Errorf("run = %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}

func TestPanicBecomesOneLine(t *testing.T) {
	register(&command{name: "test-panic", summary: "panics", run: func(context.Context, []string, *cmdEnv) error {
		panic("boom\nsecond line")
	}})
	defer delete(commands, "test-panic")
	runTest(t, "", nil, "test-panic").wantError(t, exitFail, "internal error: boom second line")
}

func TestMultiLineErrorsAreJoined(t *testing.T) {
	register(&command{name: "test-err", summary: "fails", run: func(context.Context, []string, *cmdEnv) error {
		return errors.New("first\nsecond")
	}})
	defer delete(commands, "test-err")
	runTest(t, "", nil, "test-err").wantError(t, exitFail, "tokenctl: first second")
}

func TestParseFlagsInterleaved(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		wantX   bool
		wantN   string
	}{
		{[]string{"a", "--x", "b"}, []string{"a", "b"}, true, ""},
		{[]string{"-x", "-n", "5", "a"}, []string{"a"}, true, "5"},
		{[]string{"a", "--n=7", "-"}, []string{"a", "-"}, false, "7"},
		{[]string{"--", "-x", "--n=1"}, []string{"-x", "--n=1"}, false, ""},
		{[]string{"a", "--", "-x"}, []string{"a", "-x"}, false, ""},
		{nil, nil, false, ""},
	}
	for _, tt := range tests {
		fs := newFlagSet("t")
		x := fs.Bool("x", false, "")
		n := fs.String("n", "", "")
		pos, err := parseFlags(fs, tt.args)
		if err != nil || strings.Join(pos, "|") != strings.Join(tt.wantPos, "|") || *x != tt.wantX || *n != tt.wantN {
			t.Errorf("parseFlags(%q) = %q, %v; x=%v n=%q", tt.args, pos, err, *x, *n)
		}
	}
	fs := newFlagSet("t")
	fs.String("cert", "", "")
	_, err := parseFlags(fs, []string{"--cert", "SECRETVALUE", "---cert=SECRETVALUE"})
	var ue *usageError
	if !errors.As(err, &ue) || strings.Contains(err.Error(), "SECRETVALUE") {
		t.Errorf("bad flag error = %v; want a usage error without the certificate", err)
	}
	_, err = parseFlags(newFlagSet("t"), []string{"-h"})
	var help helpRequest
	if !errors.As(err, &help) {
		t.Errorf("-h gives %v, want a helpRequest", err)
	}
}

func TestReadTokenArg(t *testing.T) {
	env := func(stdin string) *cmdEnv { return &cmdEnv{Stdin: strings.NewReader(stdin)} }
	if got, err := readTokenArg(" 007abc \n", env("")); got != "007abc" || err != nil {
		t.Errorf("argument: %q, %v", got, err)
	}
	if got, err := readTokenArg("-", env("\r\n 007abc\t\n")); got != "007abc" || err != nil {
		t.Errorf("stdin: %q, %v", got, err)
	}
	if _, err := readTokenArg("-", env(" \n")); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("empty stdin: %v", err)
	}
	big := strings.Repeat("A", maxStdinToken+1)
	if _, err := readTokenArg("-", env(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized stdin: %v", err)
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, map[string]string{"a": "<&>"}); err != nil || b.String() != "{\"a\":\"<&>\"}\n" {
		t.Errorf("writeJSON = %q, %v", b.String(), err)
	}
}

func TestUint32Flag(t *testing.T) {
	var v uint32Flag
	for _, bad := range []string{"-1", "4294967296", "1e3", "", "x"} {
		if err := v.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
	if err := v.Set("4294967295"); err != nil || v != 4294967295 || v.String() != "4294967295" {
		t.Errorf("Set(max) = %v, %d", err, v)
	}
	var _ flag.Value = &v
}

func TestNilEnvFieldsDefault(t *testing.T) {
	var out bytes.Buffer
	code := runEnv(context.Background(), []string{"mint", "--app-id", testAppID, "--cert", testCert, "--user", "u"}, &cmdEnv{Stdout: &out})
	if code != 0 || !strings.HasPrefix(out.String(), "007eJ") {
		t.Errorf("exit %d stdout %q", code, out.String())
	}
}
