package renewal

import (
	"testing"

	"go.uber.org/goleak"
)

// Most tests run inside synctest bubbles, which fail on leaked goroutines by
// themselves; goleak covers the rest.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
