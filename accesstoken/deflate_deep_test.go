package accesstoken

import (
	"math/rand/v2"
	"testing"
)

// deepLiterals returns an input of literals only (no 4-byte sequence
// occurs twice, so there is nothing to match) whose byte frequencies follow
// the Fibonacci numbers F(1)..F(leaves-1): with end of block, an unlimited
// Huffman code for them would be leaves-1 bits deep. Frequencies over
// chunk are split between several bytes, as one byte that frequent could
// not avoid repeats; that flattens the code somewhat. Bytes are placed
// greedily, the one with most left to place first, none that would repeat
// a 4-byte sequence.
func deepLiterals(r *rand.Rand, leaves, chunk int) []byte {
	var count []int
	a, b := 1, 1
	for range leaves - 1 {
		for w := a; w > 0; w -= min(w, chunk) {
			count = append(count, min(w, chunk))
		}
		a, b = b, a+b
	}
	total := 0
	for _, c := range count {
		total += c
	}
	if len(count) > 256 || total > quickMaxInput {
		return nil
	}
	seen := make(map[uint32]bool)
	out := make([]byte, 0, total)
	var last uint32 // the last three bytes placed
	for len(out) < total {
		best := -1
		for s, c := range count {
			if c == 0 || (len(out) >= 3 && seen[last<<8|uint32(s)]) {
				continue
			}
			if best < 0 || c > count[best] || (c == count[best] && r.IntN(2) == 0) {
				best = s
			}
		}
		if best < 0 {
			return nil // painted into a corner
		}
		if len(out) >= 3 {
			seen[last<<8|uint32(best)] = true
		}
		out = append(out, byte(best))
		last = (last<<8 | uint32(best)) & 0xFFFFFF
		count[best]--
	}
	return out
}

// TestDeflateLiteralCodeNeedsPackageMerge feeds the encoder literal
// frequencies skewed enough that the literal/length code must be limited to
// 15 bits by the full package-merge (quickCounts gives up), and holds the
// whole stream to compress/zlib's.
func TestDeflateLiteralCodeNeedsPackageMerge(t *testing.T) {
	in := deepLiterals(rand.New(rand.NewPCG(1, 1)), 20, 400)
	if in == nil {
		t.Fatal("set-up: no input with those frequencies")
	}
	var d deflater
	before := d.huff.merges[maxLitBits]
	checkDeflate(t, &d, in)
	for _, tok := range d.tokens {
		if tok&matchFlag != 0 {
			t.Fatal("set-up: the input has a match, so its literal frequencies are not the planned ones")
		}
	}
	if d.huff.merges[maxLitBits] == before {
		t.Fatal("the 15-bit codes were built without package-merge")
	}
	deepest := uint8(0)
	for _, l := range d.litLens {
		deepest = max(deepest, l)
	}
	if deepest != maxLitBits {
		t.Fatalf("longest literal code %d bits, want %d", deepest, maxLitBits)
	}
}
