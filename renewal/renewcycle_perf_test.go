package renewal

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkRenewCycleLogger is BenchmarkRenewCycle (one renewal through the
// engine with an instant fetcher and SDK) with the engine's default logger
// (Config.Logger nil) and with an explicit slog.DiscardHandler, to measure
// what formatting log lines that nobody reads costs: the default is a
// TextHandler writing to io.Discard, which formats every event at Info
// level before throwing it away.
func BenchmarkRenewCycleLogger(b *testing.B) {
	for _, c := range []struct {
		name   string
		logger *slog.Logger
	}{
		{"default", nil},
		{"text-to-discard", slog.New(slog.NewTextHandler(io.Discard, nil))},
		{"discard-handler", slog.New(slog.DiscardHandler)},
	} {
		b.Run(c.name, func(b *testing.B) {
			renewed := make(chan struct{}, 1)
			e, _ := NewEngine(Config{Workers: 1, Logger: c.logger})
			if err := e.Start(); err != nil {
				b.Fatal(err)
			}
			defer e.Close(context.Background())
			s, err := e.NewSession(SessionConfig{UserID: "bench", Fetcher: &fakeFetcher{life: time.Hour}, SDK: newFakeSDK(),
				OnEvent: func(ev Event) {
					if ev.Kind == EventRenewed {
						renewed <- struct{}{}
					}
				}})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				s.RenewNow("")
				<-renewed
			}
		})
	}
}
