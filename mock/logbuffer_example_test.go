package mock_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/tokenkeeper/tokenkeeper/mock"
)

// A LogBuffer takes the lines of loggers on many goroutines; a test then
// searches them, here for the absence of a whole token.
func ExampleLogBuffer() {
	var logs mock.LogBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { logger.Info("renewed", "key", i) })
	}
	wg.Wait()
	fmt.Println(strings.Count(logs.String(), "msg=renewed"), strings.Contains(logs.String(), "007eJ"))
	// Output: 3 false
}
