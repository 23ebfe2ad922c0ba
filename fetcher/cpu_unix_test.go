//go:build unix

package fetcher_test

import (
	"syscall"
	"time"
)

// processCPU returns the user + system CPU time of the test process, so
// that benchmarks can report CPU per operation, which stays meaningful on
// a loaded machine where wall-clock time does not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
