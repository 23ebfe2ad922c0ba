package accesstoken

import "encoding/binary"

// Adler-32 (RFC 1950 §8), eight bytes a step.
//
// hash/adler32 adds one byte at a time, two dependent additions each, which
// for a token payload takes as long as a tenth of Parse. Here the sum of
// eight bytes and their weighted sum (the amount they add to s2 on top of
// 8·s1) come from a few multiplications of 16-bit lanes.

const (
	adlerMod = 65521
	// adlerChunk is the largest multiple of 8 bytes after which s1 and s2
	// still fit in uint32 without reduction (zlib's NMAX is 5552).
	adlerChunk = 5552
	adlerLanes = 0x00FF00FF00FF00FF
)

// adler32Sum returns the Adler-32 checksum of p, as hash/adler32.Checksum.
func adler32Sum(p []byte) uint32 {
	s1, s2 := uint32(1), uint32(0)
	for len(p) > 0 {
		chunk := p[:min(len(p), adlerChunk)]
		p = p[len(chunk):]
		for ; len(chunk) >= 8; chunk = chunk[8:] {
			w := binary.LittleEndian.Uint64(chunk)
			even, odd := w&adlerLanes, w>>8&adlerLanes // bytes 0,2,4,6 and 1,3,5,7
			// The top lane of each product collects the lanes below
			// weighted by the constant's lanes in reverse; no lane
			// carries into the next (every lane sum stays below 2^16).
			sum := (even + odd) * 0x0001_0001_0001_0001 >> 48
			weighted := (even*0x0008_0006_0004_0002 + odd*0x0007_0005_0003_0001) >> 48
			s2 += s1<<3 + uint32(weighted)
			s1 += uint32(sum)
		}
		for _, c := range chunk {
			s1 += uint32(c)
			s2 += s1
		}
		s1 %= adlerMod
		s2 %= adlerMod
	}
	return s2<<16 | s1
}
