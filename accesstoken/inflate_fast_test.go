package accesstoken

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestFixedRunMatchesTable checks fixedRuns' length mask against the fixed
// code table for every 9-bit pattern, and one run against the table-driven
// decoder on random words.
func TestFixedRunMatchesTable(t *testing.T) {
	for v := range uint64(1 << fastBits) {
		e := fixedLit.fast[v]
		if e>>4 >= 256 {
			continue // not a literal: fixedRun stops before it
		}
		nine := v & (v >> 1) & (v>>2 | v>>3 | v>>4)
		if got, want := 8+uint(nine&1), uint(e&15); got != want {
			t.Fatalf("pattern %09b: mask says %d bits, table %d", v, got, want)
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 40000 {
		b := r.Uint64()
		switch round % 4 {
		case 1:
			b &^= 0x0101010101010101 << r.IntN(8) // more 8-bit literals
		case 2, 3:
			b = fixedCodes(r, round%4 == 3)
		}
		var in [8]byte
		binary.LittleEndian.PutUint64(in[:], b)
		var dst [fixedRunLen]byte
		// One run: the refill loads 7 whole bytes (56 bits).
		_, nb, _, k := fixedRuns(in[:], 0, 0, 0, dst[:])
		used := 56 - nb
		// The reference: one table lookup per symbol.
		br := bitReader{bits: b, nbits: 56}
		var want []byte
		for len(want) < fixedRunLen {
			save := br
			sym, err := fixedLit.decode(&br)
			if err != nil || sym >= 256 {
				br = save
				break
			}
			want = append(want, byte(sym))
		}
		if k != len(want) || used != 56-br.nbits || !bytes.Equal(dst[:k], want) {
			t.Fatalf("word %016x: fixedRuns = %d literals in %d bits %x, table decoder %d in %d %x",
				b, k, used, dst[:k], len(want), 56-br.nbits, want)
		}
	}
}

// TestInflateFastHandoff compares with compress/flate where huffmanFast
// hands over to the careful loop: every output limit near the payload's
// size and every truncation of token-sized streams of each block type.
func TestInflateFastHandoff(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, size := range []int{1, 7, 40, 150, 300, 700} {
		random := make([]byte, size)
		for i := range random {
			random[i] = byte(r.Uint32())
		}
		mixed := bytes.Clone(random) // literals of both lengths with matches
		for i := 0; i+12 < size; i += 24 {
			copy(mixed[i:], "0123456789ab")
		}
		for _, in := range [][]byte{random, mixed} {
			for _, level := range []int{flate.BestSpeed, flate.DefaultCompression, flate.HuffmanOnly} {
				var b bytes.Buffer
				w, _ := flate.NewWriter(&b, level)
				w.Write(in)
				w.Close()
				s := b.Bytes()
				for limit := max(0, size-fastRoom-8); limit <= size+1; limit++ {
					checkInflate(t, s, limit)
				}
				for cut := range len(s) {
					checkInflate(t, s[:cut], MaxPayloadSize)
				}
			}
		}
	}
}

// fixedCodes returns 64 bits of fixed-code symbols, first code lowest:
// literals below 144 (8-bit codes), so that runs of six take the parallel
// path, now and then a literal of 9 bits or, with others, a length or the
// end of a block (7 or 8 bits).
func fixedCodes(r *rand.Rand, others bool) uint64 {
	var b uint64
	n := 0
	for n < 64 {
		sym := r.IntN(144)
		switch k := r.IntN(16); {
		case k == 0:
			sym = 144 + r.IntN(112)
		case k == 1 && others:
			sym = 256 + r.IntN(32)
		}
		var code, bits int
		switch {
		case sym < 144:
			code, bits = 0x30+sym, 8
		case sym < 256:
			code, bits = 0x190+sym-144, 9
		case sym < 280:
			code, bits = sym-256, 7
		default:
			code, bits = 0xc0+sym-280, 8
		}
		for i := bits - 1; i >= 0 && n < 64; i-- { // first bit of the code lowest
			b |= uint64(code>>i&1) << n
			n++
		}
	}
	return b
}
