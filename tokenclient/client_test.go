package tokenclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sdk records calls; failLogin makes the next logins fail.
type sdk struct {
	mu        sync.Mutex
	calls     []string
	failLogin int
}

func (s *sdk) rec(c string) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}
func (s *sdk) Login(ctx context.Context, tok string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "login")
	if s.failLogin > 0 {
		s.failLogin--
		return &signaling.Error{Op: "login", Code: signaling.CodeLoginTimeout}
	}
	return nil
}
func (s *sdk) Logout(ctx context.Context) error               { s.rec("logout"); return nil }
func (s *sdk) RenewToken(ctx context.Context, t string) error { s.rec("renew"); return nil }
func (s *sdk) JoinStream(ctx context.Context, ch, t string) error {
	s.rec("join:" + ch)
	return nil
}
func (s *sdk) RenewStreamToken(ctx context.Context, ch, t string) error {
	s.rec("renew:" + ch)
	return nil
}
func (s *sdk) LeaveStream(ctx context.Context, ch string) error { s.rec("leave:" + ch); return nil }

func (s *sdk) count(c string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, x := range s.calls {
		if x == c {
			n++
		}
	}
	return n
}

func hourTokens() fetcher.Fetcher {
	var mu sync.Mutex
	n := 0
	return fetcher.Func(func(ctx context.Context, req fetcher.Request) (fetcher.Token, error) {
		mu.Lock()
		n++
		raw := fmt.Sprintf("007-test-token-%d", n)
		mu.Unlock()
		now := time.Now()
		return fetcher.Token{Raw: raw, Request: req, ReceivedAt: now, ExpiresAt: now.Add(time.Hour), Lifetime: time.Hour}, nil
	})
}

func TestNewValidates(t *testing.T) {
	eng, err := renewal.NewEngine(renewal.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	ok := Config{UserID: "u", Fetcher: hourTokens(), SDK: &sdk{}}
	for name, mut := range map[string]func(*Config){
		"no user":          func(c *Config) { c.UserID = "" },
		"no fetcher":       func(c *Config) { c.Fetcher = nil },
		"no sdk":           func(c *Config) { c.SDK = nil },
		"bad ttl":          func(c *Config) { c.TTL = time.Millisecond },
		"bad policy":       func(c *Config) { c.Policy.LeadFraction = 3 },
		"negative workers": func(c *Config) { c.Workers = -1 },
		"shared + clock":   func(c *Config) { c.Engine = eng; c.Clock = clock.New() },
		"shared + workers": func(c *Config) { c.Engine = eng; c.Workers = 3 },
		"shared + seed":    func(c *Config) { c.Engine = eng; c.Seed = 3 },
		"shared + logger":  func(c *Config) { c.Engine = eng; c.Logger = slog.Default() },
	} {
		cfg := ok
		mut(&cfg)
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := New(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
}

func TestPrivateEngineLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &sdk{}
		var mu sync.Mutex
		var kinds []renewal.EventKind
		c, err := New(Config{UserID: "bot", Fetcher: hourTokens(), SDK: s, Policy: renewal.Policy{JitterFraction: -1},
			OnEvent: func(ev renewal.Event) { mu.Lock(); kinds = append(kinds, ev.Kind); mu.Unlock() }})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.JoinStream(ctx, "room"); err != nil {
			t.Fatal(err)
		}
		// Each key's first renewal is drawn between 1 s after its token came
		// and the usual time (48 min without jitter) and happens then, not
		// a nanosecond earlier; the renewed tokens are renewed 12 min before
		// their deadlines.
		keys := c.State()
		slices.SortFunc(keys, func(a, b renewal.KeyState) int { return a.NextRenewal.Compare(b.NextRenewal) })
		for _, ks := range keys {
			call := "renew"
			if ks.Channel != "" {
				call += ":" + ks.Channel
			}
			in := time.Until(ks.NextRenewal)
			if in < time.Second || in > 48*time.Minute {
				t.Fatalf("key %q: first renewal in %v, want 1 s … 48 min (the usual time)", ks.Channel, in)
			}
			time.Sleep(in - time.Nanosecond)
			synctest.Wait()
			if n := s.count(call); n != 0 {
				t.Fatalf("key %q renewed early: %v", ks.Channel, s.calls)
			}
			time.Sleep(time.Nanosecond)
			synctest.Wait()
			if n := s.count(call); n != 1 {
				t.Fatalf("key %q not renewed at its time: %v", ks.Channel, s.calls)
			}
		}
		for _, ks := range c.State() {
			if lead := ks.Deadline.Sub(ks.NextRenewal); lead != 12*time.Minute {
				t.Fatalf("key %q: renewed token scheduled %v before its deadline, want 12m", ks.Channel, lead)
			}
		}
		c.WillExpire("room")
		synctest.Wait()
		if s.count("renew:room") != 2 {
			t.Fatalf("WillExpire not forwarded: %v", s.calls)
		}
		if err := c.LeaveStream(ctx, "room"); err != nil || len(c.State()) != 1 {
			t.Fatalf("leave: %v, state %+v", err, c.State())
		}
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(ctx); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := c.Start(ctx); !errors.Is(err, renewal.ErrClosed) {
			t.Fatalf("Start after Close: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(kinds) == 0 || kinds[0] != renewal.EventLoggedIn {
			t.Fatalf("events %v", kinds)
		}
	})
}

func TestStartFailureThenRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &sdk{failLogin: 1}
		c, err := New(Config{UserID: "bot", Fetcher: hourTokens(), SDK: s})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(context.Background())
		err = c.Start(context.Background())
		if code, _ := signaling.CodeOf(err); code != signaling.CodeLoginTimeout {
			t.Fatalf("Start: %v, want the SDK's code", err)
		}
		if err := c.Start(context.Background()); err != nil {
			t.Fatalf("second Start: %v", err)
		}
	})
}

func TestSharedEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng, err := renewal.NewEngine(renewal.Config{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		s1, s2 := &sdk{}, &sdk{}
		c1, err := New(Config{UserID: "a", Fetcher: hourTokens(), SDK: s1, Engine: eng})
		if err != nil {
			t.Fatal(err)
		}
		c2, err := New(Config{UserID: "b", Fetcher: hourTokens(), SDK: s2, Engine: eng})
		if err != nil {
			t.Fatal(err)
		}
		if err := c1.Start(context.Background()); !errors.Is(err, renewal.ErrNotStarted) {
			t.Fatalf("Start before the shared engine: %v", err)
		}
		if err := eng.Start(); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*Client{c1, c2} {
			if err := c.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if err := c1.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if s1.count("renew") != 0 || s2.count("renew") != 1 {
			t.Fatalf("closed client renewed %d, live client %d", s1.count("renew"), s2.count("renew"))
		}
		if c2.Engine() != eng {
			t.Fatal("Engine() is not the shared engine")
		}
		if err := eng.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
