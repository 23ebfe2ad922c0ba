package mock

import (
	"bytes"
	"sync"
)

// LogBuffer collects log output that several goroutines write at once, such
// as a Harness's engine, fakes and fetcher through one slog.Logger, or a
// token server's request log, so that a test can read it afterwards. The
// zero value is ready to use; it is safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p. It never fails.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
