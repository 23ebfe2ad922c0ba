package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickstart runs the README's main job and checks that the bot came
// through every fault: it recovered from the outage and the forced expiries
// and never used an expired token.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, options{days: 7, ttl: time.Hour, seed: 1}); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"fault          token server down for 2 h",
		"logged-in      login token (relogin)",
		`rejoined       "game-7" (link FAILED TOKEN_EXPIRED)`,
		"SDK returned RENEW_TOKEN_TIMEOUT (-10026)",
		"token server answered 429 Too Many Requests",
		"── day 7/7 done",
		"expired tokens used                0",
		"health check: logged in",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q\n%s", want, got)
		}
	}
}

// TestQuickstartDeterministic checks that the same seed prints the same
// timeline twice.
func TestQuickstartDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	opt := options{days: 2, ttl: 30 * time.Minute, seed: 7}
	if err := run(context.Background(), &a, opt); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), &b, opt); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Fatalf("two runs with one seed differ:\n--- first\n%s\n--- second\n%s", a.String(), b.String())
	}
}
