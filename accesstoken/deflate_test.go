package accesstoken

import (
	"bytes"
	"compress/zlib"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// refWriters keeps compress/zlib writers for zlibDefault (a new one
// allocates 800 KB).
var refWriters = sync.Pool{New: func() any { return zlib.NewWriter(nil) }}

// zlibDefault is the reference: what compress/zlib writes for src at the
// default level in one Write and a Close, as the official builder does.
func zlibDefault(tb testing.TB, src []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := refWriters.Get().(*zlib.Writer)
	defer refWriters.Put(w)
	w.Reset(&b)
	if _, err := w.Write(src); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// checkDeflate compresses src with d and fails unless the stream equals
// compress/zlib's byte for byte and inflates back to src.
func checkDeflate(tb testing.TB, d *deflater, src []byte) {
	tb.Helper()
	got := d.appendZlib([]byte("prefix"), src)
	if !bytes.HasPrefix(got, []byte("prefix")) {
		tb.Fatalf("%d bytes: appendZlib lost the prefix", len(src))
	}
	got = got[len("prefix"):]
	if want := zlibDefault(tb, src); !bytes.Equal(got, want) {
		tb.Fatalf("%d bytes %.64q...: stream differs from compress/zlib\n got %x\nwant %x", len(src), src, got, want)
	}
	back, err := inflateRef(got)
	if err != nil || !bytes.Equal(back, src) {
		tb.Fatalf("%d bytes: round trip gave %d bytes, %v", len(src), len(back), err)
	}
}

var refReaders sync.Pool

// inflateRef decompresses a zlib stream with compress/zlib.
func inflateRef(z []byte) ([]byte, error) {
	var r io.ReadCloser
	var err error
	if pooled, ok := refReaders.Get().(io.ReadCloser); ok {
		r, err = pooled, pooled.(zlib.Resetter).Reset(bytes.NewReader(z), nil)
	} else {
		r, err = zlib.NewReader(bytes.NewReader(z))
	}
	if err != nil {
		return nil, err
	}
	defer refReaders.Put(r)
	return io.ReadAll(r)
}

// Input shapes for the differential tests.
var deflateShapes = []struct {
	name string
	gen  func(r *rand.Rand, n int) []byte
}{
	{"random", func(r *rand.Rand, n int) []byte { return randBytes(r, n, 256) }},
	{"alphabet2", func(r *rand.Rand, n int) []byte { return randBytes(r, n, 2) }},
	{"alphabet5", func(r *rand.Rand, n int) []byte { return randBytes(r, n, 5) }},
	{"alphabet20", func(r *rand.Rand, n int) []byte { return randBytes(r, n, 20) }},
	{"words", randWords},
	{"runs", func(r *rand.Rand, n int) []byte {
		b := make([]byte, 0, n)
		for len(b) < n {
			b = append(b, bytes.Repeat([]byte{byte(r.IntN(4))}, 1+r.IntN(300))...)
		}
		return b[:n]
	}},
	{"skewed", func(r *rand.Rand, n int) []byte {
		// Symbol i about twice as frequent as symbol i+1: deep codes.
		b := make([]byte, n)
		for i := range b {
			s := 0
			for s < 40 && r.IntN(2) == 0 {
				s++
			}
			b[i] = byte(s * 5)
		}
		return b
	}},
	{"copies", func(r *rand.Rand, n int) []byte {
		// Near-copies at all distances, many of them exactly 4 or 5 bytes,
		// to exercise the far-short-match rule and lazy matching.
		b := randBytes(r, min(n, 64), 256)
		for len(b) < n {
			if r.IntN(3) == 0 {
				b = append(b, byte(r.IntN(256)))
				continue
			}
			from := r.IntN(len(b))
			l := 3 + r.IntN(6)
			if r.IntN(8) == 0 {
				l = r.IntN(300)
			}
			b = append(b, b[from:min(len(b), from+l)]...)
		}
		return b[:n]
	}},
}

func randBytes(r *rand.Rand, n, alphabet int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(alphabet))
	}
	return b
}

func randWords(r *rand.Rand, n int) []byte {
	words := strings.Fields("channelName uid userId roomUuid userUuid account resource a ab abc abcd lobby room-1 room-2 007 \x00\x01 \xff")
	var b []byte
	for len(b) < n {
		b = append(b, words[r.IntN(len(words))]...)
		if r.IntN(4) == 0 {
			b = append(b, byte(r.IntN(256)))
		}
	}
	return b[:n]
}

// TestDeflateMatchesZlib compares the encoder with compress/zlib on many
// pseudo-random inputs of every shape and of sizes up to the bound (and
// past it, where compress/zlib itself is used).
func TestDeflateMatchesZlib(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 1))
	var d deflater
	sizes := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 31, 64, 100, 127, 128, 200, 255, 256, 257, 258, 259, 262, 300, 500, 1000, 4096, 4100}
	reps, small := 3, 300
	if testing.Short() || raceEnabled { // one goroutine: the race detector adds nothing
		reps, small = 1, 40
	} else {
		sizes = append(sizes, 5000, 8192, quickMaxInput-1, quickMaxInput, quickMaxInput+1, 20000)
	}
	for _, shape := range deflateShapes {
		for _, n := range sizes {
			for range reps {
				checkDeflate(t, &d, shape.gen(r, n))
			}
		}
		for range small {
			checkDeflate(t, &d, shape.gen(r, r.IntN(600)))
		}
	}
}

// TestDeflateSpecialInputs covers inputs picked for one rule each.
func TestDeflateSpecialInputs(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	// Fibonacci frequencies without repeats long enough to match: an
	// unlimited Huffman code would need more than 15 bits.
	var fib []byte
	a, b := 1, 1
	for sym := 0; len(fib)+a < quickMaxInput && sym < 60; sym++ {
		for range a {
			fib = append(fib, byte(sym*4))
		}
		a, b = b, a+b
	}
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(fib), func(i, j int) { fib[i], fib[j] = fib[j], fib[i] })
	inputs := map[string][]byte{
		"all bytes":        all,
		"all bytes twice":  append(slices.Clone(all), all...),
		"fibonacci":        fib,
		"zeros 258":        make([]byte, 258),
		"zeros 259":        make([]byte, 259),
		"zeros max":        make([]byte, quickMaxInput),
		"lazy":             []byte("abcdefgh_bcdefghijk_abcdefghijk"),
		"far 4-byte match": append(append([]byte("wxyz"), bytes.Repeat([]byte{0}, 5000)...), "wxyz"...),
		"near 4-byte":      append(append([]byte("wxyz"), bytes.Repeat([]byte{0}, 4000)...), "wxyz"...),
		"4-byte at 4096":   fourByteMatchAt(4096),
		"4-byte at 4097":   fourByteMatchAt(4097),
		"5-byte at 9000":   append(fourByteMatchAt(9000), "!"...),
		"channel names":    bytes.Repeat([]byte("\x0bchannelName\x07lobby-1"), 40),
	}
	var d deflater
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) { checkDeflate(t, &d, in) })
	}
}

// fourByteMatchAt returns an input whose only match of 4 or more bytes
// (outside a run of zeros) is "wxyz" repeated at distance dist.
func fourByteMatchAt(dist int) []byte {
	b := append([]byte("wxyz"), make([]byte, dist-4)...)
	return append(b, "wxyz!"...)
}

// TestDeflateGenerationWrap reuses one encoder across the wrap of the
// generation offset that lets it skip clearing its hash table.
func TestDeflateGenerationWrap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	var d deflater
	in := randWords(r, 3000)
	checkDeflate(t, &d, in)
	d.lz.base = ^uint32(0) - 2*quickMaxInput - 100 // as if after ~4e9 bytes
	for range 4 {
		checkDeflate(t, &d, in)
		checkDeflate(t, &d, randWords(r, quickMaxInput))
	}
	if d.lz.base > 1<<20 {
		t.Fatalf("base %d did not wrap", d.lz.base)
	}
}

// TestHuffmanQuickMatchesPackageMerge checks the linear-time code length
// computation against the literal package-merge wherever it claims to
// apply, and that both paths are taken.
func TestHuffmanQuickMatchesPackageMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var h huffBuilder
	quick, slow := 0, 0
	for i := range 20000 {
		n := 3 + r.IntN(numLitLen-2)
		freq := make([]int32, n)
		for s := range freq {
			switch i % 4 {
			case 0: // small, many ties
				freq[s] = int32(r.IntN(4))
			case 1:
				freq[s] = int32(r.IntN(100))
			case 2: // geometric: deep codes
				freq[s] = int32(1) << r.IntN(14)
			default:
				freq[s] = int32(r.IntN(3) * r.IntN(3) * r.IntN(2000))
			}
		}
		maxBits := maxLitBits
		if i%3 == 0 {
			maxBits = maxCodeBits
			if n > 100 {
				n = 100 // 7 bits cannot code more than 128 symbols
				freq = freq[:n]
			}
		}
		keys := h.keys[:h.sortUsed(freq)]
		if !slices.IsSorted(keys) {
			t.Fatalf("freq %v: keys not sorted: %x", freq, keys)
		}
		if len(keys) < 3 {
			continue
		}
		for j, k := range keys {
			h.leaf[j] = int32(k >> 16)
		}
		levels := min(maxBits, len(keys)-1)
		depth, ok := h.quickCounts(len(keys), levels)
		if !ok {
			slow++
			continue
		}
		quick++
		got := slices.Clone(h.used[:depth+1])
		d2 := h.packageMerge(len(keys), levels)
		if want := h.used[:d2+1]; !slices.Equal(got, want) {
			t.Fatalf("freq %v max %d: quick %v, package-merge %v", freq, maxBits, got, want)
		}
	}
	t.Logf("quick path %d, package-merge %d", quick, slow)
	if quick < 1000 || slow < 1000 {
		t.Fatalf("paths taken: quick %d, package-merge %d", quick, slow)
	}
}
