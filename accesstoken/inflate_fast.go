package accesstoken

// The fast path of huffmanBlock.
//
// Decoding one symbol at a time is bound by latency: where a code ends is
// known only once the table entry for its start has been loaded, so each
// symbol waits for the previous one's load. huffmanFast keeps the bit buffer
// in registers, refills it with one 8-byte load and no branch, and, in
// blocks with the fixed code (the block type compress/flate picks for
// payloads of token size), decodes runs of literals without waiting for
// loads at all: in the fixed code a literal's length follows from its first
// five bits (9 bits when they are 11001–11111, else 8), which word-wide bit
// operations give for every bit position at once.

const (
	// fixedRunLen is the number of literals a run of fixedRuns decodes at
	// most: six codes of at most 9 bits fit in the 56 bits a refill
	// guarantees.
	fixedRunLen = 6
	// fastRoom is the output room huffmanFast keeps free: a longest match
	// or a literal run.
	fastRoom = 258 + fixedRunLen
)

// huffmanFast decodes symbols of a Huffman block while at least 8 input
// bytes remain and the output limit leaves fastRoom bytes, and reports
// whether it consumed the end-of-block code. It leaves br at a symbol
// boundary and hands anything unusual (a code longer than fastBits, an
// invalid code, a distance beyond the output) to the caller's general loop
// without consuming it, so that every error is found and reported there.
func huffmanFast(br *bitReader, out []byte, limit int, lit, dist *huffman) ([]byte, bool) {
	in := br.in
	b, nb, pos := br.bits, br.nbits, br.pos
	fixed := lit == &fixedLit
	n := len(out)
	buf := out[:cap(out)]
	done := false
	for pos+8 <= len(in) {
		if limit-n < fastRoom {
			break
		}
		if len(buf)-n < fastRoom {
			buf = append(buf[:n], make([]byte, max(n, 512))...)
			buf = buf[:cap(buf)]
		}
		b, nb, pos = refillBits(in, pos, b, nb)
		if fixed {
			var k int
			// Runs stop where a longest match still fits.
			b, nb, pos, k = fixedRuns(in, pos, b, nb, buf[n:min(len(buf), limit)-258])
			n += k
			// A length or the end of the block is next, or the input or
			// the output room is short: refill for one general step.
			if pos+8 > len(in) {
				break
			}
			b, nb, pos = refillBits(in, pos, b, nb)
		}
		e := lit.fast[b&(1<<fastBits-1)]
		if e == 0 {
			break // a long or invalid code
		}
		l := uint(e & 15)
		sym := int(e >> 4)
		if sym < 256 {
			buf[n] = byte(sym)
			n++
			b >>= l
			nb -= l
			continue
		}
		if sym == 256 {
			b >>= l
			nb -= l
			done = true
			break
		}
		sym -= 257
		if sym >= len(lengthBase) {
			break
		}
		// A match takes at most 15+5+15+13 = 48 bits, all buffered. It
		// is committed only once it is known to be valid.
		c := b >> l
		x := uint(lengthExtra[sym])
		length := int(lengthBase[sym]) + int(c&(1<<x-1))
		c >>= x
		de := dist.fast[c&(1<<fastBits-1)]
		if de == 0 || int(de>>4) >= numDstCodes {
			break
		}
		dl := uint(de & 15)
		c >>= dl
		dx := uint(distExtra[de>>4])
		d := int(distBase[de>>4]) + int(c&(1<<dx-1))
		if d > n {
			break
		}
		b = c >> dx
		nb -= l + x + dl + dx
		start := n - d
		if d >= length {
			copy(buf[n:n+length], buf[start:start+length])
		} else {
			for i := range length { // overlapping: repeats the last d bytes
				buf[n+i] = buf[start+i]
			}
		}
		n += length
	}
	br.bits, br.nbits, br.pos = b, nb, pos
	return buf[:n], done
}

// fixedRuns decodes literals of a fixed-code block into dst while at least
// 8 input bytes remain and dst has room for a run of fixedRunLen, and stops
// before the first code that is not a literal. It takes and returns the bit
// buffer (b, nb) and the input position, and returns the number of bytes it
// wrote. It is kept out of line: on its own, its loop keeps every variable
// in a register.
//
//go:noinline
func fixedRuns(in []byte, pos int, b uint64, nb uint, dst []byte) (uint64, uint, int, int) {
	n := 0
	for pos+8 <= len(in) && len(dst)-n >= fixedRunLen {
		b, nb, pos = refillBits(in, pos, b, nb)
		// Bit p of nine is set when a code starting at bit p begins 11
		// and is not followed by 000: as a literal, that code is 9 bits
		// long, else 8. (Codes are stored first bit lowest.)
		nine := b & (b >> 1) & (b>>2 | b>>3 | b>>4)
		run := (*[fixedRunLen]byte)(dst[n : n+fixedRunLen])
		// Six codes in a row that are 8 bits long as literals start at
		// known places: their lookups need not wait for each other. (Text
		// and digits are literals below 144, whose codes are 8 bits.)
		if nine&0x0101_0101_0101 == 0 {
			e0 := fixedLit.fast[b&(1<<fastBits-1)]
			e1 := fixedLit.fast[(b>>8)&(1<<fastBits-1)]
			e2 := fixedLit.fast[(b>>16)&(1<<fastBits-1)]
			e3 := fixedLit.fast[(b>>24)&(1<<fastBits-1)]
			e4 := fixedLit.fast[(b>>32)&(1<<fastBits-1)]
			e5 := fixedLit.fast[(b>>40)&(1<<fastBits-1)]
			if (e0|e1|e2|e3|e4|e5)&(256<<4) == 0 {
				run[0], run[1], run[2] = byte(e0>>4), byte(e1>>4), byte(e2>>4)
				run[3], run[4], run[5] = byte(e3>>4), byte(e4>>4), byte(e5>>4)
				b >>= 48
				nb -= 48
				n += fixedRunLen
				continue
			}
		}
		// Otherwise b and nine move on together, two literals a step.
		for i := 0; i < fixedRunLen; i += 2 {
			// Where the second literal starts depends on the mask
			// only, not on the first one's table entry.
			l0 := 8 + uint(nine&1)
			l1 := 8 + uint(nine>>l0)&1
			e0 := fixedLit.fast[b&(1<<fastBits-1)]
			e1 := fixedLit.fast[(b>>l0)&(1<<fastBits-1)]
			if e0 >= 256<<4 {
				return b, nb, pos, n + i
			}
			run[i] = byte(e0 >> 4)
			if e1 >= 256<<4 {
				return b >> l0, nb - l0, pos, n + i + 1
			}
			run[i+1] = byte(e1 >> 4)
			b >>= l0 + l1
			nine >>= l0 + l1
			nb -= l0 + l1
		}
		n += fixedRunLen
	}
	return b, nb, pos, n
}
