package accesstoken

// A small DEFLATE (RFC 1951) decoder for token payloads.
//
// compress/flate is built for streams: a 32 KiB window copied out through
// io.Reader, byte-at-a-time input through an interface, and about 40 KB of
// state that has to be pooled. A token payload is a few hundred bytes that
// are wanted whole, so this decoder writes straight into the output slice
// (which doubles as the window), reads bits from a []byte, and keeps its
// Huffman tables on the stack. It accepts exactly the streams compress/flate
// accepts (the differential tests and FuzzParse check this against
// compress/zlib), and stops with ErrTooLarge as soon as the output would
// pass MaxPayloadSize.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

var (
	errCorrupt   = errors.New("corrupt deflate data")
	errTruncated = errors.New("truncated deflate data")
)

// bitReader reads DEFLATE's least-significant-bit-first bit stream.
type bitReader struct {
	in    []byte
	pos   int    // next byte of in to load
	bits  uint64 // loaded, unconsumed bits, next bit lowest
	nbits uint
}

// fill loads whole bytes until at least 56 bits are buffered or the input
// ends. It never buffers more than 63, which refill relies on.
func (br *bitReader) fill() {
	if br.pos+8 <= len(br.in) {
		br.refill()
		return
	}
	for br.nbits < 56 && br.pos < len(br.in) {
		br.bits |= uint64(br.in[br.pos]) << br.nbits
		br.pos++
		br.nbits += 8
	}
}

// refill is fill with at least 8 input bytes left: one load, no loop.
func (br *bitReader) refill() {
	br.bits, br.nbits, br.pos = refillBits(br.in, br.pos, br.bits, br.nbits)
}

// refillBits tops the bit buffer (b, nb ≤ 63 bits) up to 56–63 bits from in
// at pos, which must have 8 bytes left, and returns it with the new pos. Bits
// above nb may then hold the stream's next bits rather than zeros; they are
// ORed in again, unchanged, when their byte is loaded.
func refillBits(in []byte, pos int, b uint64, nb uint) (uint64, uint, int) {
	b |= binary.LittleEndian.Uint64(in[pos:]) << (nb & 63)
	// Whole bytes that fit below bit 64 are taken: 8 × (63−nb)/8 more
	// bits, which makes nb|56 as nb ≤ 63.
	return b, nb | 56, pos + int(63-nb)>>3
}

// read consumes n ≤ 32 bits.
func (br *bitReader) read(n uint) (uint32, error) {
	if br.nbits < n {
		br.fill()
		if br.nbits < n {
			return 0, errTruncated
		}
	}
	v := uint32(br.bits & (1<<n - 1))
	br.bits >>= n
	br.nbits -= n
	return v, nil
}

// alignedPos drops the bits left in a partly read byte and returns the
// offset of the first unread byte, giving back bytes loaded ahead.
func (br *bitReader) alignedPos() int {
	pos := br.pos - int(br.nbits/8)
	br.bits, br.nbits, br.pos = 0, 0, pos
	return pos
}

const (
	maxCodeLen  = 15
	fastBits    = 9 // every fixed-tree code fits the fast table
	numLitCodes = 286
	numDstCodes = 30
)

// huffman is a canonical Huffman decoding table: a direct table for codes of
// up to fastBits bits, and the per-length counts and symbols for the rare
// longer codes.
type huffman struct {
	fast   [1 << fastBits]uint16 // symbol<<4 | length; 0 = not a short code
	count  [maxCodeLen + 1]uint16
	symbol [288]uint16 // symbols in canonical code order
	// eobLen is the length of the end-of-block code of a literal/length
	// table. compress/flate never decodes a literal/length symbol with
	// fewer bits than that buffered (a block cannot end without them), so
	// a truncated stream yields the same output here as there.
	eobLen uint
}

// init builds the table from code lengths. Like compress/flate (and zlib)
// it rejects over-subscribed and incomplete codes, except an empty code
// (which fails when used) and a single code of length 1.
func (h *huffman) init(lengths []uint8) error {
	*h = huffman{}
	maxLen := 0
	for _, l := range lengths {
		h.count[l]++
		maxLen = max(maxLen, int(l))
	}
	h.count[0] = 0
	if maxLen == 0 {
		return nil
	}
	code := 0
	var offs [maxCodeLen + 2]uint16 // first index in symbol per length
	var next [maxCodeLen + 1]int    // next canonical code per length
	for l := 1; l <= maxLen; l++ {
		code <<= 1
		next[l] = code
		code += int(h.count[l])
		offs[l+1] = offs[l] + h.count[l]
	}
	if code != 1<<maxLen && (code != 1 || maxLen != 1) {
		return errCorrupt
	}
	for sym, l := range lengths {
		if l == 0 {
			continue
		}
		h.symbol[offs[l]] = uint16(sym)
		offs[l]++
		c := next[l]
		next[l]++
		if l <= fastBits {
			rev := int(bits.Reverse16(uint16(c)) >> (16 - l))
			for i := rev; i < len(h.fast); i += 1 << l {
				h.fast[i] = uint16(sym)<<4 | uint16(l)
			}
		}
	}
	return nil
}

// decode reads one symbol: a table lookup for a short code with enough bits
// buffered, decodeSlow otherwise. (huffmanBlock repeats this fast path
// inline for literal/length symbols.)
func (h *huffman) decode(br *bitReader) (int, error) {
	if br.nbits >= fastBits {
		if e := h.fast[br.bits&(1<<fastBits-1)]; e != 0 {
			n := uint(e & 15)
			br.bits >>= n
			br.nbits -= n
			return int(e >> 4), nil
		}
	}
	return h.decodeSlow(br)
}

// decodeSlow reads one symbol after refilling the bit buffer, and handles
// codes longer than fastBits, invalid codes and the end of the input.
func (h *huffman) decodeSlow(br *bitReader) (int, error) {
	br.fill() // at least maxCodeLen bits unless the input ends
	if e := h.fast[br.bits&(1<<fastBits-1)]; e != 0 {
		if n := uint(e & 15); n <= br.nbits {
			br.bits >>= n
			br.nbits -= n
			return int(e >> 4), nil
		}
		return 0, errTruncated
	}
	// A long code (or an invalid one): walk the canonical code bit by bit.
	code, first, index := 0, 0, 0
	b := br.bits
	for l := uint(1); l <= maxCodeLen; l++ {
		if l > br.nbits {
			return 0, errTruncated
		}
		code |= int(b & 1)
		b >>= 1
		count := int(h.count[l])
		if code-first < count {
			br.bits >>= l
			br.nbits -= l
			return int(h.symbol[index+code-first]), nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, errCorrupt
}

// RFC 1951 §3.2.5: base values and extra bits of length and distance codes.
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// Order in which code-length code lengths are stored (§3.2.7).
	clenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// fixedLit and fixedDist are the fixed Huffman codes of §3.2.6, built once
// at package initialisation and only read afterwards.
var fixedLit, fixedDist = func() (lit, dist huffman) {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	var d [32]uint8
	for i := range d {
		d[i] = 5
	}
	if lit.init(l[:]) != nil || dist.init(d[:]) != nil {
		panic("accesstoken: fixed Huffman tables are invalid")
	}
	lit.eobLen = uint(l[256])
	return lit, dist
}()

// inflateRaw decodes the DEFLATE stream at the start of in, appending to
// out. It returns the output and the number of input bytes consumed (the
// byte holding the last bit of the final block included).
func inflateRaw(out, in []byte, limit int) ([]byte, int, error) {
	br := bitReader{in: in}
	for {
		hdr, err := br.read(3)
		if err != nil {
			return out, 0, err
		}
		final := hdr&1 == 1
		switch hdr >> 1 {
		case 0:
			out, err = storedBlock(&br, out, limit)
		case 1:
			out, err = huffmanBlock(&br, out, limit, &fixedLit, &fixedDist)
		case 2:
			out, err = dynamicBlock(&br, out, limit)
		default:
			err = errCorrupt
		}
		if err != nil {
			return out, 0, err
		}
		if final {
			return out, br.alignedPos(), nil
		}
	}
}

func errTooLarge() error {
	return fmt.Errorf("%w: payload inflates beyond %d bytes", ErrTooLarge, MaxPayloadSize)
}

func storedBlock(br *bitReader, out []byte, limit int) ([]byte, error) {
	pos := br.alignedPos()
	if len(br.in)-pos < 4 {
		return out, errTruncated
	}
	n := int(br.in[pos]) | int(br.in[pos+1])<<8
	if nn := int(br.in[pos+2]) | int(br.in[pos+3])<<8; n != ^nn&0xFFFF {
		return out, errCorrupt
	}
	pos += 4
	// Copy what the input holds before judging, so that a truncated block
	// is "too large" only if its available bytes already pass the limit.
	take := min(n, len(br.in)-pos)
	if len(out)+take > limit {
		return out, errTooLarge()
	}
	out = append(out, br.in[pos:pos+take]...)
	br.pos = pos + take
	if take < n {
		return out, errTruncated
	}
	return out, nil
}

// dynamicBlock decodes a block with dynamic Huffman codes. Its tables (2.4 KB)
// live in its own frame, so that streams without such blocks do not pay for
// clearing them.
func dynamicBlock(br *bitReader, out []byte, limit int) ([]byte, error) {
	var lit, dist huffman
	if err := readDynamic(br, &lit, &dist); err != nil {
		return out, err
	}
	return huffmanBlock(br, out, limit, &lit, &dist)
}

// readDynamic reads the code lengths of a dynamic block (§3.2.7).
func readDynamic(br *bitReader, lit, dist *huffman) error {
	h, err := br.read(14)
	if err != nil {
		return err
	}
	nlit, ndist, nclen := int(h&31)+257, int(h>>5&31)+1, int(h>>10)+4
	if nlit > numLitCodes || ndist > numDstCodes {
		return errCorrupt
	}
	var clens [19]uint8
	for i := range nclen {
		v, err := br.read(3)
		if err != nil {
			return err
		}
		clens[clenOrder[i]] = uint8(v)
	}
	var clen huffman
	if err := clen.init(clens[:]); err != nil {
		return err
	}
	var lengths [numLitCodes + numDstCodes]uint8
	for i := 0; i < nlit+ndist; {
		sym, err := clen.decode(br)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep uint32
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return errCorrupt
			}
			val = lengths[i-1]
			rep, err = br.read(2)
			rep += 3
		case 17:
			rep, err = br.read(3)
			rep += 3
		default: // 18
			rep, err = br.read(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		if i+int(rep) > nlit+ndist {
			return errCorrupt
		}
		for range rep {
			lengths[i] = val
			i++
		}
	}
	if err := lit.init(lengths[:nlit]); err != nil {
		return err
	}
	lit.eobLen = uint(lengths[256])
	return dist.init(lengths[nlit : nlit+ndist])
}

// huffmanBlock decodes compressed data until the end-of-block symbol.
func huffmanBlock(br *bitReader, out []byte, limit int, lit, dist *huffman) ([]byte, error) {
	for {
		// The common symbols, away from the ends of input and output, go
		// through huffmanFast; this loop decodes what it leaves, one
		// symbol at a time, and reports every error.
		var done bool
		if out, done = huffmanFast(br, out, limit, lit, dist); done {
			return out, nil
		}
		// One refill per symbol covers the longest code, length and
		// distance (48 bits) while the input lasts.
		if br.nbits < 48 {
			br.fill()
		}
		if br.nbits < lit.eobLen {
			return out, errTruncated
		}
		// The fast path of lit.decode, inlined by hand: this loop runs once
		// per output symbol.
		var sym int
		if e := lit.fast[br.bits&(1<<fastBits-1)]; e != 0 && uint(e&15) <= br.nbits {
			n := uint(e & 15)
			br.bits >>= n
			br.nbits -= n
			sym = int(e >> 4)
		} else {
			var err error
			if sym, err = lit.decodeSlow(br); err != nil {
				return out, err
			}
		}
		switch {
		case sym < 256:
			if len(out) >= limit {
				return out, errTooLarge()
			}
			out = append(out, byte(sym))
			continue
		case sym == 256:
			return out, nil
		case sym-257 >= len(lengthBase):
			return out, errCorrupt
		}
		sym -= 257
		extra, err := br.read(uint(lengthExtra[sym]))
		if err != nil {
			return out, err
		}
		length := int(lengthBase[sym]) + int(extra)
		dsym, err := dist.decode(br)
		if err != nil {
			return out, err
		}
		if dsym >= numDstCodes {
			return out, errCorrupt
		}
		if extra, err = br.read(uint(distExtra[dsym])); err != nil {
			return out, err
		}
		d := int(distBase[dsym]) + int(extra)
		if d > len(out) {
			return out, errCorrupt
		}
		if len(out)+length > limit {
			return out, errTooLarge()
		}
		start := len(out) - d
		if d >= length {
			out = append(out, out[start:start+length]...)
			continue
		}
		for i := range length { // overlapping copy: repeats the last d bytes
			out = append(out, out[start+i])
		}
	}
}
