package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
)

// simRun runs simulate with --json and decodes its output.
func simRun(t *testing.T, args ...string) (map[string]any, result) {
	t.Helper()
	r := runTest(t, "", nil, append([]string{"simulate", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("simulate %q: exit %d, stderr %q", args, r.code, r.stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, r.stdout)
	}
	return m, r
}

func num(t *testing.T, m map[string]any, key string) float64 {
	t.Helper()
	v, ok := m[key].(float64)
	if !ok {
		t.Fatalf("no number %q in %v", key, m)
	}
	return v
}

// TestSimulateHealthyFigures checks the spec's fields and the figures of a
// fault-free day, which follow from the default renewal policy.
func TestSimulateHealthyFigures(t *testing.T) {
	m, r := simRun(t, "--sessions", "3", "--channels", "1", "--days", "1", "--ttl", "1h")
	for _, k := range []string{"sessions", "simulatedSeconds", "fetches", "renewals", "relogins", "rejoins",
		"willExpireSignals", "expiredTokenUses", "maxLoggedOutSeconds", "wallSeconds", "eventsPerSecond",
		"fetchFailures", "events", "unhealthySessions", "shards", "seed", "faults", "ttlSeconds"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("--json printed %d lines", strings.Count(r.stdout, "\n"))
	}
	renewals := num(t, m, "renewals")
	// 1 h tokens renewed every 46.8–48 min: 30 a day for each of 6 tokens,
	// perhaps one more for the first renewal, drawn over the first period.
	if renewals < 6*29 || renewals > 6*31 {
		t.Errorf("%v renewals, want about 180", renewals)
	}
	for key, want := range map[string]float64{
		"sessions": 3, "channels": 1, "simulatedSeconds": 86400, "fetches": 6 + renewals,
		"relogins": 0, "rejoins": 0, "willExpireSignals": 0, "expiredTokenUses": 0, "maxLoggedOutSeconds": 0,
		"fetchFailures": 0, "unhealthySessions": 0, "shards": 1, "seed": 1, "ttlSeconds": 3600,
		"wallSeconds": 0, // the test's clock stands still
	} {
		if got := num(t, m, key); got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
}

// TestSimulateSameSeedSameSummary runs every profile twice (and chaos with
// another seed) and compares the whole JSON.
func TestSimulateSameSeedSameSummary(t *testing.T) {
	args := []string{"--sessions", "6", "--channels", "1", "--days", "1", "--ttl", "2h", "--shards", "2"}
	for _, f := range []string{"none", "flaky", "outage", "chaos"} {
		t.Run(f, func(t *testing.T) {
			_, a := simRun(t, append(args, "--faults", f)...)
			_, b := simRun(t, append(args, "--faults", f)...)
			if a.stdout != b.stdout {
				t.Fatalf("one seed, two summaries:\n%s%s", a.stdout, b.stdout)
			}
		})
	}
	_, a := simRun(t, append(args, "--faults", "chaos", "--seed", "1")...)
	_, b := simRun(t, append(args, "--faults", "chaos", "--seed", "2")...)
	if a.stdout == b.stdout {
		t.Error("two seeds gave the same chaos")
	}
}

// TestSimulateShardsDoNotChangeACleanRun: without faults every session's
// run depends only on the seed and its user ID, so splitting the sessions
// into shards changes nothing.
func TestSimulateShardsDoNotChangeACleanRun(t *testing.T) {
	args := []string{"--sessions", "8", "--channels", "1", "--days", "0.5", "--ttl", "1h"}
	one, _ := simRun(t, append(args, "--shards", "1")...)
	four, _ := simRun(t, append(args, "--shards", "4")...)
	delete(one, "shards")
	delete(four, "shards")
	a, _ := json.Marshal(one)
	b, _ := json.Marshal(four)
	if !bytes.Equal(a, b) {
		t.Errorf("1 shard:  %s\n4 shards: %s", a, b)
	}
}

// TestSimulateProfiles checks what each fault profile does.
func TestSimulateProfiles(t *testing.T) {
	base := []string{"--sessions", "5", "--channels", "1", "--days", "2", "--ttl", "1h"}
	flaky, _ := simRun(t, append(base, "--faults", "flaky")...)
	share := num(t, flaky, "fetchFailures") / num(t, flaky, "fetches")
	if share < 0.2 || share > 0.35 {
		t.Errorf("flaky: %.0f%% of fetches failed, want about 30%% of those made while faults ran", share*100)
	}
	if num(t, flaky, "relogins") != 0 || num(t, flaky, "maxLoggedOutSeconds") != 0 {
		t.Errorf("flaky: a 30%% failure rate should never log a session out: %v", flaky)
	}

	outage, _ := simRun(t, append(base, "--faults", "outage")...)
	// Two 2 h outages of a server issuing 1 h tokens: every session is
	// logged out each time, for at most the outage plus a retry.
	if got := num(t, outage, "relogins"); got != 10 {
		t.Errorf("outage: %v relogins, want 2 per session", got)
	}
	if out := num(t, outage, "maxLoggedOutSeconds"); out < 3600 || out > 2*3600+60 {
		t.Errorf("outage: logged out at most %vs, want 1–2 h", out)
	}

	chaos, _ := simRun(t, append(base, "--faults", "chaos")...)
	if num(t, chaos, "fetchFailures") <= num(t, flaky, "fetchFailures") || num(t, chaos, "relogins") < 10 {
		t.Errorf("chaos should fail more than flaky and log out at least as often as outage: %v", chaos)
	}
	for name, m := range map[string]map[string]any{"flaky": flaky, "outage": outage, "chaos": chaos} {
		if num(t, m, "expiredTokenUses") != 0 || num(t, m, "unhealthySessions") != 0 {
			t.Errorf("%s: %v", name, m)
		}
	}
}

func TestSimulateTable(t *testing.T) {
	r := runTest(t, "", nil, "simulate", "--sessions", "2", "--channels", "2", "--days", "1", "--ttl", "2h")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{
		"simulated 2 sessions × 2 stream channels for 1 day (tokens 2h0m0s, faults none, seed 1)",
		"in 1 independent shards",
		"tokens renewed in place",
		"expired tokens used                0",
		"unhealthy sessions at the end      0",
		"events per second",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestSimulateWallTime(t *testing.T) {
	var out, errOut bytes.Buffer
	now := time.Unix(1_800_000_000, 0)
	env := &cmdEnv{Stdout: &out, Stderr: &errOut, Now: func() time.Time {
		now = now.Add(2 * time.Second) // each reading two seconds later
		return now
	}}
	code := runEnv(context.Background(), []string{"simulate", "--json", "--ttl", "2h", "--days", "0.25"}, env)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var m map[string]float64
	if err := json.Unmarshal(out.Bytes(), &simFloats{&m}); err != nil {
		t.Fatal(err)
	}
	if m["wallSeconds"] != 2 || m["eventsPerSecond"] != m["events"]/2 {
		t.Errorf("wallSeconds %v, eventsPerSecond %v for %v events", m["wallSeconds"], m["eventsPerSecond"], m["events"])
	}
}

// simFloats decodes the numeric fields of a JSON object, skipping others.
type simFloats struct{ m *map[string]float64 }

func (s *simFloats) UnmarshalJSON(b []byte) error {
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	*s.m = map[string]float64{}
	for k, v := range all {
		if f, ok := v.(float64); ok {
			(*s.m)[k] = f
		}
	}
	return nil
}

func TestSimulateUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sessions", "0"}, "--sessions must be 1 to 100000"},
		{[]string{"--sessions", "100001"}, "--sessions must be 1 to 100000"},
		{[]string{"--sessions", "lots"}, "invalid value"},
		{[]string{"--channels", "-1"}, "--channels must be 0 to 16"},
		{[]string{"--channels", "17"}, "--channels must be 0 to 16"},
		{[]string{"--sessions", "100000", "--channels", "2"}, "is over 200000 tokens"},
		{[]string{"--days", "0"}, "--days must be above 0"},
		{[]string{"--days", "NaN"}, "--days must be above 0"},
		{[]string{"--days", "367"}, "--days must be above 0 and at most 366"},
		{[]string{"--days", "0.000001"}, "shorter than a second"},
		{[]string{"--ttl", "30s"}, "--ttl must be 1m to 24h"},
		{[]string{"--ttl", "25h"}, "--ttl must be 1m to 24h"},
		{[]string{"--faults", "mayhem"}, `unknown --faults "mayhem"`},
		{[]string{"--shards", "0"}, "positive whole number"},
		{[]string{"--shards", "3", "--sessions", "2"}, "--shards must be 1 to min(--sessions, 256)"},
		{[]string{"--sessions", "50000", "--days", "366", "--ttl", "1m"}, "the run would fetch about"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		r := runTest(t, "", nil, append([]string{"simulate"}, tc.args...)...)
		r.wantError(t, exitUsage, tc.want)
	}
}

func TestSimulateHelpDescribesProfiles(t *testing.T) {
	r := runTest(t, "", nil, "help", "simulate")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{"--faults none|flaky|outage|chaos", "flaky   30% of token requests fail",
		"outage  one 2h token-server outage a day", "chaos   flaky and outage", "Kicks are in no", "-shards N"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestSimulateInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := runEnv(ctx, []string{"simulate", "--sessions", "3"}, &cmdEnv{Stdout: &out, Stderr: &errOut})
	if code != exitFail || !strings.Contains(errOut.String(), "tokenctl: simulate: interrupted") || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}

// TestSimulatePlanPairsReconnects: every connection loss the plan makes is
// followed by its reconnect five minutes later, even when that falls in the
// quiet last hour; no other fault is in that hour; every action is in time
// order within the run.
func TestSimulatePlanPairsReconnects(t *testing.T) {
	const n = 2000
	o := simOptions{sessions: n, days: 1, ttl: time.Hour, faults: "none", seed: 3, shards: 1}
	f := newShardFaults(o, 0)
	f.p = &simProfile{disconnect: 1, renewFail: 1} // every session, every day
	h, err := mock.NewHarness(mock.HarnessConfig{Sessions: n})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	f.h = h
	start := h.Now()
	end := start.Add(o.length())
	quiet := end.Add(-simQuiet)
	acts := f.plan(start, end)
	lost := map[string]time.Time{}
	late := 0
	for i, a := range acts {
		if !a.at.After(start) || !a.at.Before(end) || i > 0 && a.at.Before(acts[i-1].at) {
			t.Fatalf("%q at +%v: out of order or outside the run", a.what, a.at.Sub(start))
		}
		user, isLoss := strings.CutPrefix(a.what, "disconnect ")
		switch {
		case isLoss:
			lost[user] = a.at
		case strings.HasPrefix(a.what, "reconnect "):
			user := strings.TrimPrefix(a.what, "reconnect ")
			if at, ok := lost[user]; !ok || a.at.Sub(at) != simDisconnect {
				t.Errorf("%q at +%v without a disconnect 5 min before", a.what, a.at.Sub(start))
			}
			delete(lost, user)
			if !a.at.Before(quiet) {
				late++
			}
		case !a.at.Before(quiet):
			t.Errorf("%q at +%v, in the quiet last hour", a.what, a.at.Sub(start))
		}
	}
	if len(lost) != 0 {
		t.Errorf("%d connection losses never end", len(lost))
	}
	if late == 0 {
		t.Error("no reconnect fell in the quiet hour; the test proves nothing with this seed")
	}
}
