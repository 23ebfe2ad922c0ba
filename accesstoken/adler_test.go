package accesstoken

import (
	"bytes"
	"hash/adler32"
	"math/rand/v2"
	"testing"
)

func TestAdler32MatchesHashAdler32(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	random := make([]byte, 3*adlerChunk+77)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	// All 0xFF bytes give the largest sums, where a lane or a uint32 would
	// overflow first.
	for _, data := range [][]byte{random, bytes.Repeat([]byte{0xFF}, 3*adlerChunk+77), make([]byte, 100)} {
		sizes := []int{adlerChunk - 1, adlerChunk, adlerChunk + 1, 2*adlerChunk - 1, 2 * adlerChunk, 2*adlerChunk + 9}
		for n := 0; n <= len(data); n += 1 + n/64 {
			sizes = append(sizes, n)
		}
		for _, n := range sizes {
			if n > len(data) {
				continue
			}
			if got, want := adler32Sum(data[:n]), adler32.Checksum(data[:n]); got != want {
				t.Fatalf("%d bytes: %08x, hash/adler32 %08x", n, got, want)
			}
		}
	}
}
