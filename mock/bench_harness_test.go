package mock_test

import (
	"context"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/mock"
)

// BenchmarkHarnessWeek runs one shard of `tokenctl simulate --sessions
// 10000 --channels 1 --days 7 --ttl 24h` (which splits the sessions into
// shards of 250 at steps of 14m24s): 250 sessions, one stream channel
// each, 24 h tokens, seven simulated days. It reports renewal events per
// second of wall time and wall time per simulated session-day. Profile the
// harness with
//
//	go test -run '^$' -bench HarnessWeek -benchtime 1x -cpuprofile cpu.out ./mock/
func BenchmarkHarnessWeek(b *testing.B) {
	const sessions, days = 250, 7
	for i := 0; i < b.N; i++ {
		start := time.Now()
		h, err := mock.NewHarness(mock.HarnessConfig{
			Seed: 1, Sessions: sessions, Channels: []string{"room"}, TTL: 24 * time.Hour,
			Resolution: 14*time.Minute + 24*time.Second,
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		h.Advance(days * 24 * time.Hour)
		if err := h.Check(); err != nil {
			b.Fatal(err)
		}
		sum := h.Summary()
		if err := h.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		wall := time.Since(start)
		b.ReportMetric(float64(sum.Events)/wall.Seconds(), "events/s")
		b.ReportMetric(float64(wall.Microseconds())/float64(sessions*days), "µs/session-day")
		b.ReportMetric(float64(sum.Renewals), "renewals")
	}
}
