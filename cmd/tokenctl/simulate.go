package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
)

func init() {
	register(&command{
		name:    "simulate",
		summary: "run the mock harness at scale: sessions × days of token life on a mock clock",
		usage: "--sessions N --channels K --days D --ttl T [--faults none|flaky|outage|chaos] [--seed S] [--json]\n" +
			"                 [--shards N|auto]",
		run: runSimulate,
	})
}

// Limits of simulate's inputs: beyond them a run would take hours or
// exhaust memory (every fake SDK keeps its timeline).
const (
	simMaxSessions = 100_000
	simMaxChannels = 16
	simMaxKeys     = 200_000 // sessions × (channels + 1)
	simMaxDays     = 366
	simMinTTL      = time.Minute
	simMaxTTL      = 24 * time.Hour
	simMaxFetches  = 3_000_000 // estimated token requests of a fault-free run
	simMaxShards   = 256
	// simShardSize is the number of sessions per shard with --shards auto.
	simShardSize = 250
)

// simOptions are simulate's parsed flags.
type simOptions struct {
	sessions, channels int
	days               float64
	ttl                time.Duration
	faults             string
	seed               int64
	shards             int
}

// simJSON is the --json output: the harness summary summed over the shards,
// and what the run was.
type simJSON struct {
	mock.Summary
	Faults            string  `json:"faults"`
	Seed              int64   `json:"seed"`
	TTLSeconds        float64 `json:"ttlSeconds"`
	Shards            int     `json:"shards"`
	UnhealthySessions int     `json:"unhealthySessions"` // not logged in or not in every channel at the end
	WallSeconds       float64 `json:"wallSeconds"`
	EventsPerSecond   float64 `json:"eventsPerSecond"` // renewal events per second of wall time
}

// autoFlag is a flag.Value holding a positive integer, or "auto" (zero).
type autoFlag struct {
	v   int
	set bool
}

func (f *autoFlag) String() string {
	if f == nil || !f.set {
		return "auto"
	}
	return strconv.Itoa(f.v)
}

func (f *autoFlag) Set(s string) error {
	if s == "auto" {
		f.v, f.set = 0, false
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 1 {
		return errors.New(`want a positive whole number, or "auto"`)
	}
	f.v, f.set = int(n), true
	return nil
}

func runSimulate(ctx context.Context, args []string, env *cmdEnv) error {
	fs := newFlagSet("simulate")
	sessions := fs.Int("sessions", 1, fmt.Sprintf("number of Signaling sessions `N`, 1 to %d", simMaxSessions))
	channels := fs.Int("channels", 1, fmt.Sprintf("stream channels `K` per session, 0 to %d", simMaxChannels))
	days := fs.Float64("days", 1, fmt.Sprintf("simulated `DAYS` (fractions allowed), up to %d", simMaxDays))
	ttl := fs.Duration("ttl", time.Hour, "token lifetime `T` asked of the token server, 1m to 24h")
	faults := fs.String("faults", "none", "fault `PROFILE` thrown at every session:\n"+simFaultHelp)
	seed := fs.Int64("seed", 1, "`SEED` of the jitter, the salts and the faults: the same seed and flags give the same summary")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	var shards autoFlag
	fs.Var(&shards, "shards", "split the sessions into `N` independent harnesses run in parallel (auto: one per\n"+
		"250 sessions). Part of the scenario: with faults, another shard count draws other faults")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("simulate: unexpected argument %q", pos[0])
	}
	opt := simOptions{sessions: *sessions, channels: *channels, days: *days, ttl: *ttl, faults: *faults,
		seed: *seed, shards: shards.v}
	if err := opt.check(!shards.set); err != nil {
		return err
	}
	start := env.Now()
	sum, unhealthy, err := simulate(ctx, opt)
	if err != nil {
		return err
	}
	wall := env.Now().Sub(start).Seconds()
	out := simJSON{Summary: sum, Faults: opt.faults, Seed: opt.seed, TTLSeconds: opt.ttl.Seconds(),
		Shards: opt.shards, UnhealthySessions: len(unhealthy), WallSeconds: wall}
	if wall > 0 {
		out.EventsPerSecond = float64(sum.Events) / wall
	}
	if *asJSON {
		err = writeJSON(env.Stdout, out)
	} else {
		err = printSimulation(env.Stdout, opt, out)
	}
	if err != nil {
		return err
	}
	switch {
	case sum.ExpiredTokenUses > 0:
		return fmt.Errorf("simulate: the SDK was handed an expired token %d times", sum.ExpiredTokenUses)
	case len(unhealthy) > 0:
		return fmt.Errorf("simulate: %d of %d sessions unhealthy at the end: %s",
			len(unhealthy), sum.Sessions, strings.Join(unhealthy[:min(len(unhealthy), 3)], "; "))
	}
	return nil
}

// check validates o and fills in the automatic shard count.
func (o *simOptions) check(autoShards bool) error {
	switch {
	case o.sessions < 1 || o.sessions > simMaxSessions:
		return usagef("simulate: --sessions must be 1 to %d", simMaxSessions)
	case o.channels < 0 || o.channels > simMaxChannels:
		return usagef("simulate: --channels must be 0 to %d", simMaxChannels)
	case o.sessions*(o.channels+1) > simMaxKeys:
		return usagef("simulate: %d sessions × %d tokens each is over %d tokens", o.sessions, o.channels+1, simMaxKeys)
	case !(o.days > 0 && o.days <= simMaxDays): // also refuses NaN
		return usagef("simulate: --days must be above 0 and at most %d", simMaxDays)
	case o.ttl < simMinTTL || o.ttl > simMaxTTL:
		return usagef("simulate: --ttl must be 1m to 24h")
	case simProfiles[o.faults] == nil:
		return usagef("simulate: unknown --faults %q (want none, flaky, outage or chaos)", o.faults)
	}
	length := o.length()
	if length < time.Second {
		return usagef("simulate: --days is shorter than a second")
	}
	// A fault-free run fetches each token about once per 80 % of its life.
	fetches := float64(o.sessions*(o.channels+1)) * (1 + length.Seconds()/(0.8*o.ttl.Seconds()))
	if fetches > simMaxFetches {
		return usagef("simulate: the run would fetch about %.0f tokens (at most %d): lower --sessions, --channels or --days, or raise --ttl",
			fetches, simMaxFetches)
	}
	if autoShards {
		o.shards = min((o.sessions+simShardSize-1)/simShardSize, simMaxShards)
	} else if o.shards > simMaxShards || o.shards > o.sessions {
		return usagef("simulate: --shards must be 1 to min(--sessions, %d)", simMaxShards)
	}
	return nil
}

// length returns the simulated duration, whole seconds.
func (o *simOptions) length() time.Duration {
	return time.Duration(o.days * 86400 * float64(time.Second)).Truncate(time.Second)
}

// simulate runs every shard in parallel and returns the summed summary
// and the problems of every unhealthy session, in session order.
func simulate(ctx context.Context, o simOptions) (mock.Summary, []string, error) {
	type result struct {
		sum       mock.Summary
		unhealthy []string
		err       error
	}
	results := make([]result, o.shards)
	var wg sync.WaitGroup
	for i := range o.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			r.sum, r.unhealthy, r.err = runShard(ctx, o, i)
		}()
	}
	wg.Wait()
	var (
		sum       mock.Summary
		unhealthy []string
		errs      []error
	)
	for _, r := range results {
		sum = sum.Add(r.sum)
		unhealthy = append(unhealthy, r.unhealthy...)
		errs = append(errs, r.err)
	}
	if err := errors.Join(errs...); err != nil {
		if ctx.Err() != nil {
			return sum, nil, fmt.Errorf("simulate: interrupted: %w", ctx.Err())
		}
		return sum, nil, err
	}
	return sum, unhealthy, nil
}

// runShard runs sessions [first, last) of the simulation as one harness.
func runShard(ctx context.Context, o simOptions, shard int) (mock.Summary, []string, error) {
	first := shard * o.sessions / o.shards
	last := (shard + 1) * o.sessions / o.shards
	chans := make([]string, o.channels)
	for i := range chans {
		chans[i] = "ch-" + strconv.Itoa(i+1)
	}
	sc := newShardFaults(o, shard)
	h, err := mock.NewHarness(mock.HarnessConfig{
		Seed:          o.seed,
		Sessions:      last - first,
		FirstUser:     first + 1,
		Channels:      chans,
		TTL:           o.ttl,
		WrapTransport: sc.wrap,
	})
	if err != nil {
		return mock.Summary{}, nil, fmt.Errorf("simulate: %w", err)
	}
	sc.h = h
	defer h.Close(context.Background())
	if err := h.Start(ctx); err != nil {
		return mock.Summary{}, nil, fmt.Errorf("simulate: shard %d: %w", shard, err)
	}
	end := h.Now().Add(o.length())
	for _, a := range sc.plan(h.Now(), end) {
		if err := ctx.Err(); err != nil {
			return h.Summary(), nil, err
		}
		h.AdvanceTo(a.at)
		if a.do != nil {
			a.do()
		}
	}
	h.AdvanceTo(end)
	var unhealthy []string
	for _, s := range h.Sessions() {
		if err := s.Check(); err != nil {
			unhealthy = append(unhealthy, strings.TrimPrefix(err.Error(), mock.ErrUnhealthy.Error()+": "))
		}
	}
	sum := h.Summary()
	if err := h.Close(ctx); err != nil {
		return sum, unhealthy, fmt.Errorf("simulate: shard %d: close: %w", shard, err)
	}
	return sum, unhealthy, nil
}

// printSimulation prints the human summary.
func printSimulation(w io.Writer, o simOptions, s simJSON) error {
	var b strings.Builder
	fmt.Fprintf(&b, "simulated %d sessions × %d stream channels for %s (tokens %v, faults %s, seed %d)\n",
		s.Sessions, s.Channels, simSpan(s.SimulatedSeconds), o.ttl, o.faults, o.seed)
	fmt.Fprintf(&b, "in %d independent shards\n\n", o.shards)
	rows := []struct {
		name  string
		value any
	}{
		{"token-server requests", s.Fetches},
		{"failed fetches (retried)", s.FetchFailures},
		{"tokens renewed in place", s.Renewals},
		{"relogins (logout, fetch, login)", s.Relogins},
		{"stream channels rejoined", s.Rejoins},
		{"deadlines missed", s.Expiries},
		{"SDK will-expire warnings", s.WillExpireSignals},
		{"SDK FAILED events", s.FailedSignals},
		{"expired tokens used", s.ExpiredTokenUses},
		{"time logged out (all sessions)", simSeconds(s.LoggedOutSeconds)},
		{"longest time logged out", simSeconds(s.MaxLoggedOutSeconds)},
		{"unhealthy sessions at the end", s.UnhealthySessions},
		{"renewal events", s.Events},
		{"wall time", simSeconds(s.WallSeconds)},
		{"events per second", int64(s.EventsPerSecond)},
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-34s %v\n", r.name, r.value)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// simSpan words a simulated duration: whole days as days.
func simSpan(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	switch day := 24 * time.Hour; {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return strconv.Itoa(int(d/day)) + " days"
	}
	return d.String()
}

func simSeconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}

var _ flag.Value = (*autoFlag)(nil)
