package accesstoken

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// bucketFlood returns the reviewer's input: a run of 'a' bytes, then
// distinct 4-byte groups whose 17-bit hashes differ from "aaaa"'s but land
// in its bucket. Each group's search walks to the end of its own short
// chain and then, skipping, through every 'a' position in the bucket.
func bucketFlood(run, groups int) []byte {
	in := bytes.Repeat([]byte{'a'}, run)
	ha := hash4([]byte("aaaa"))
	for v := uint32(0x20202020); groups > 0; v++ {
		var g [4]byte
		binary.BigEndian.PutUint32(g[:], v)
		if h := hash4(g[:]); h != ha && h>>(17-bucketBits) == ha>>(17-bucketBits) {
			in = append(in, g[:]...)
			groups--
		}
	}
	return in
}

// floodParams returns Build parameters whose payload is a bucket flood.
func floodParams() Params {
	p := benchParams
	p.Services = []Service{RTMService(string(bucketFlood(8000, 2000)), 3600)}
	return p
}

// TestDeflateBucketFloodIsBounded checks that an input built to make the
// chain walks skip without end runs out of its skip budget, is handed to
// compress/zlib, and still gives compress/zlib's bytes.
func TestDeflateBucketFloodIsBounded(t *testing.T) {
	in := bucketFlood(8000, 2000)
	if len(in) > quickMaxInput {
		t.Fatalf("set-up: %d bytes is beyond the encoder's bound", len(in))
	}
	// Unbounded, each of the 2000 groups would skip about 8000 positions:
	// some 16 million skips, against a budget of 8 per byte.
	var d deflater
	if d.parse(in) {
		t.Fatal("parse of the flood finished instead of giving up")
	}
	// Once out of skips, every walk stops at its first foreign entry: at
	// most one more per position (the inserts inside a match).
	budget := skipBudget * len(in)
	if used := budget - d.lz.left; used > budget+len(in) {
		t.Fatalf("parse made %d skips, budget %d", used, budget)
	}
	checkDeflate(t, &d, in) // compress/zlib's output, and the encoder still works after
	checkDeflate(t, &d, bytes.Repeat([]byte("aaab"), 500))

	p := floodParams()
	got, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := naiveBuild(p); got != want {
		t.Fatal("Build of the flood differs from the naive builder")
	}
}

// TestDeflateSkipBudgetSpareOrdinaryInputs checks that the skip budget
// leaves the encoder to every ordinary input: the differential shapes at
// the encoder's bound and typical token payloads.
func TestDeflateSkipBudgetSpareOrdinaryInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	var d deflater
	for _, shape := range deflateShapes {
		for _, n := range []int{1000, 8000, quickMaxInput} {
			for range 3 {
				if in := shape.gen(r, n); !d.parse(in) {
					t.Fatalf("%s, %d bytes: parse ran out of skips", shape.name, n)
				}
			}
		}
	}
	for range 200 {
		in := mustPayload(t, randParams(r))
		if len(in) <= quickMaxInput && !d.parse(in) {
			t.Fatalf("payload of %d bytes: parse ran out of skips", len(in))
		}
	}
}

// BenchmarkBuildBucketFlood measures Build on the flood: the skip budget
// bounds the encoder's work before compress/zlib takes over.
func BenchmarkBuildBucketFlood(b *testing.B) {
	p := floodParams()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(p); err != nil {
			b.Fatal(err)
		}
	}
}
