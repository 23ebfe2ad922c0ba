package accesstoken

import (
	"os"
	"testing"
	"time"
	"unsafe"
)

// TestParseAllocs pins the allocation budget of Parse for a typical RTC
// token (target: at most 6; the design makes it 1, see tokenBlock).
func TestParseAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	tok, err := Build(benchParams)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := Parse(tok); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("Parse allocates %v times per call, want 1 (the token block holding the payload)", allocs)
	}
	t.Logf("Parse: %v allocs/op", allocs)
}

// TestSpeedTargets measures Parse and Build against the naive versions,
// interleaving short rounds so that load from other processes hits both
// alike. It is a measurement, not a unit test: it runs only with
// TOKENKEEPER_SPEED=1, e.g.
//
//	TOKENKEEPER_SPEED=1 go test -run TestSpeedTargets -v ./accesstoken/
func TestSpeedTargets(t *testing.T) {
	if os.Getenv("TOKENKEEPER_SPEED") != "1" || raceEnabled {
		t.Skip("set TOKENKEEPER_SPEED=1 (without -race) to measure")
	}
	tok, err := Build(benchParams)
	if err != nil {
		t.Fatal(err)
	}
	timeIt := func(n int, f func()) time.Duration {
		start := time.Now()
		for range n {
			f()
		}
		return time.Since(start)
	}
	parseNaive := func() { naiveParse(tok) }
	parseFast := func() { Parse(tok) }
	buildNaive := func() { naiveBuild(benchParams) }
	buildFast := func() { Build(benchParams) }
	var pn, pf, bn, bf time.Duration
	const rounds, nParse, nBuild = 200, 500, 20
	for range rounds {
		pn += timeIt(nParse, parseNaive)
		pf += timeIt(nParse, parseFast)
		bn += timeIt(nBuild, buildNaive)
		bf += timeIt(nBuild, buildFast)
	}
	per := func(d time.Duration, n int) time.Duration { return d / time.Duration(rounds*n) }
	t.Logf("Parse: naive %v/op, fast %v/op, ratio %.1fx", per(pn, nParse), per(pf, nParse), float64(pn)/float64(pf))
	t.Logf("Build: naive %v/op, fast %v/op, ratio %.1fx", per(bn, nBuild), per(bf, nBuild), float64(bn)/float64(bf))
	if r := float64(pn) / float64(pf); r < 8 {
		t.Errorf("Parse is %.1fx faster than naive, target 8x", r)
	}
	if r := float64(bn) / float64(bf); r < 8 {
		t.Errorf("Build is %.1fx faster than naive, target 8x", r)
	}
}

// TestTokenBlockSize: the token block, with the allocator's 8-byte header
// for objects holding pointers, fills the 640-byte size class exactly, so
// its payload room costs no memory that the allocator would not take anyway.
func TestTokenBlockSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sized for 64-bit platforms")
	}
	if got := unsafe.Sizeof(tokenBlock{}); got+8 != 640 {
		t.Errorf("tokenBlock is %d bytes; adjust blockText so that it is 632", got)
	}
}
