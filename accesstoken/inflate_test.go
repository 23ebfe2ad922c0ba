package accesstoken

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// refInflate decodes raw DEFLATE data with compress/flate, reading at most
// limit+1 bytes, and reports how many input bytes it consumed.
func refInflate(in []byte, limit int) (out []byte, consumed int, tooLarge bool, err error) {
	r := bytes.NewReader(in)
	fr := flate.NewReader(r)
	out, err = io.ReadAll(io.LimitReader(fr, int64(limit)+1))
	if len(out) > limit {
		return nil, 0, true, nil
	}
	return out, len(in) - r.Len(), false, err
}

// checkInflate compares inflateRaw with compress/flate on in.
func checkInflate(t *testing.T, in []byte, limit int) {
	t.Helper()
	want, wantN, wantTooLarge, wantErr := refInflate(in, limit)
	got, n, err := inflateRaw(nil, in, limit)
	if len(got) > limit {
		t.Fatalf("output of %d bytes passes the limit of %d (error %v)", len(got), limit, err)
	}
	if tooLarge := errors.Is(err, ErrTooLarge); tooLarge != wantTooLarge {
		t.Fatalf("too large: got %v (%v), compress/flate %v", tooLarge, err, wantTooLarge)
	}
	if wantTooLarge {
		return
	}
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("error: got %v, compress/flate %v (input %x)", err, wantErr, in)
	}
	if err == nil && (!bytes.Equal(got, want) || n != wantN) {
		t.Fatalf("got %d bytes consuming %d, compress/flate %d bytes consuming %d", len(got), n, len(want), wantN)
	}
}

// deflateSamples compresses varied data at every level, so that the
// samples hold stored, fixed and dynamic blocks, long codes and overlapping
// matches.
func deflateSamples(r *rand.Rand) [][]byte {
	var inputs [][]byte
	for _, size := range []int{0, 1, 2, 3, 100, 258, 259, 1000, 5000, 70000} {
		random := make([]byte, size)
		for i := range random {
			random[i] = byte(r.Uint32())
		}
		text := make([]byte, size)
		for i := range text {
			text[i] = "aaaaaaaabbbbccd  eeeefghij,.\n"[r.IntN(29)]
		}
		runs := bytes.Repeat([]byte{'x'}, size)
		inputs = append(inputs, random, text, runs)
	}
	var out [][]byte
	for _, in := range inputs {
		for _, level := range []int{flate.NoCompression, flate.BestSpeed, 2, 5, flate.DefaultCompression, flate.BestCompression, flate.HuffmanOnly} {
			var b bytes.Buffer
			w, _ := flate.NewWriter(&b, level)
			// Two writes with a flush between give multi-block streams.
			w.Write(in[:len(in)/2])
			w.Flush()
			w.Write(in[len(in)/2:])
			w.Close()
			out = append(out, b.Bytes())
		}
	}
	return out
}

func TestInflateMatchesCompressFlate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range deflateSamples(r) {
		checkInflate(t, s, 1<<20)
		checkInflate(t, s, MaxPayloadSize)
		checkInflate(t, s, 100) // small limits exercise ErrTooLarge in every block type
		// Corrupted and truncated variants must be accepted or rejected
		// exactly as compress/flate does.
		variants := 12
		if len(s) > 4096 {
			variants = 2 // large samples are slow under -race and add little
		}
		for range variants {
			c := bytes.Clone(s)
			if len(c) > 0 {
				c[r.IntN(len(c))] ^= byte(1 << r.IntN(8))
				checkInflate(t, c, 1<<20)
				checkInflate(t, s[:r.IntN(len(s))], 1<<20)
			}
		}
	}
}

func TestInflateRejects(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"reserved block type", []byte{0x07}},
		{"stored length mismatch", []byte{0x01, 0x05, 0x00, 0xfa, 0xfe}},
		{"stored block truncated", []byte{0x01, 0x05, 0x00, 0xfa, 0xff, 'a'}},
		{"distance before start", []byte{0x03, 0x02, 0x00}}, // fixed block: a match with nothing before it
	}
	for _, tt := range tests {
		if _, _, err := inflateRaw(nil, tt.in, MaxPayloadSize); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
		checkInflate(t, tt.in, MaxPayloadSize)
	}
}

// FuzzInflate checks the DEFLATE decoder against compress/flate on
// arbitrary input: same acceptance, same output, same bytes consumed.
func FuzzInflate(f *testing.F) {
	for _, s := range deflateSamples(rand.New(rand.NewPCG(5, 6))) {
		if len(s) < 4096 {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkInflate(t, in, MaxPayloadSize)
	})
}
