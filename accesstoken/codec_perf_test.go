package accesstoken

import (
	"runtime"
	"testing"
)

// BenchmarkCodecLiveHeap runs Parse, Build and Verify, naive and fast, in an
// application-like heap: 64 MiB of live (pointer-free) data held for the
// whole benchmark. The naive versions allocate 42 KB (Parse) and 800 KB
// (Build) per call; in a test binary whose live heap is almost empty the Go
// runtime hands that memory back to the OS between garbage collections and
// faults it in again, call after call (with GOMAXPROCS=2 about 67 page
// faults per naive Build), so their cost there depends on the kernel more
// than on the code. With a live heap the collector runs less often and the
// freed memory is reused, as in a long-running service.
func BenchmarkCodecLiveHeap(b *testing.B) {
	ballast := make([]byte, 64<<20)
	for i := range ballast {
		ballast[i] = byte(i)
	}
	defer runtime.KeepAlive(ballast)
	tok, err := Build(benchParams)
	if err != nil {
		b.Fatal(err)
	}
	parsed, err := Parse(tok)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		fn   func() bool
	}{
		{"parse/naive", func() bool { _, err := naiveParse(tok); return err == nil }},
		{"parse/fast", func() bool { _, err := Parse(tok); return err == nil }},
		{"build/naive", func() bool { s, err := naiveBuild(benchParams); return err == nil && s == tok }},
		{"build/fast", func() bool { s, err := Build(benchParams); return err == nil && s == tok }},
		{"verify/naive", func() bool { return naiveVerify(parsed, exampleCert) }},
		{"verify/fast", func() bool { return parsed.Verify(exampleCert) == nil }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !c.fn() {
					b.Fatal("wrong result")
				}
			}
		})
	}
}
