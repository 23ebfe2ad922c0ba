package renewal

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkRenewCycleLogger is BenchmarkRenewCycle (one renewal through the
// engine with an instant fetcher and SDK) with the engine's default logger
// (Config.Logger nil) and with an explicit slog.DiscardHandler, to measure
// what formatting log lines that nobody reads costs: a TextHandler writing
// to io.Discard (the default until this benchmark showed the cost) formats
// every event at Info level before throwing it away; the default is now
// slog.DiscardHandler.
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
			runRenewCycles(b, Config{Workers: 1, Logger: c.logger}, "bench", &fakeFetcher{life: time.Hour})
		})

	}
}
