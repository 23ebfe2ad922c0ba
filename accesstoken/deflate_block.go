package accesstoken

import (
	"encoding/binary"
	"math/bits"
)

// The block writer of the encoder in deflate.go. Like compress/flate it
// computes the exact size of the block as fixed Huffman, dynamic Huffman
// and stored, and writes the smallest (fixed on a tie with dynamic, Huffman
// on a tie with stored). Two details of compress/flate count in those
// sizes: a block without matches still gives distance code 0 a frequency of
// one, and the extra bits of lengths and distances are added to both
// Huffman sizes.

const (
	endOfBlock     = 256
	firstLengthSym = 257
)

// lengthSym maps a match length minus 3 to its length symbol minus 257,
// from the RFC 1951 §3.2.5 tables the decoder uses (inflate.go).
var lengthSym [256]uint8

func init() {
	for s := range lengthBase { // 258 ends up on symbol 285, not 284
		for l := int(lengthBase[s]); l < int(lengthBase[s])+1<<lengthExtra[s] && l <= maxMatch; l++ {
			lengthSym[l-3] = uint8(s)
		}
	}
}

// distSym returns the distance symbol of d = distance-1.
func distSym(d uint32) uint32 {
	if d < 4 {
		return d
	}
	top := uint32(bits.Len32(d)) - 1 // d is in [2^top, 2^(top+1))
	return 2*top + (d>>(top-1))&1
}

// distSymExtra returns the extra bits and the base (as distance-1) of symbol s.
func distSymExtra(s uint32) (nbits uint, base uint32) {
	if s < 4 {
		return 0, s
	}
	nbits = uint(s/2 - 1)
	return nbits, (2 | s&1) << nbits
}

// fixedLitLen is the code length of literal/length symbol s in the fixed
// code (RFC 1951 §3.2.6).
func fixedLitLen(s int) int {
	switch {
	case s < 144:
		return 8
	case s < 256:
		return 9
	case s < 280:
		return 7
	}
	return 8
}

// The fixed code (RFC 1951 §3.2.6).
var (
	fixedLitLens   [numLitLen]uint8
	fixedLitCodes  [numLitLen]uint16
	fixedDistLens  [numDist]uint8
	fixedDistCodes [numDist]uint16
)

func init() {
	var lens [288]uint8 // the code has 288 symbols; 286 and 287 never occur
	for s := range lens {
		lens[s] = uint8(fixedLitLen(s))
	}
	var codes [288]uint16
	canonicalCodes(lens[:], codes[:])
	copy(fixedLitLens[:], lens[:])
	copy(fixedLitCodes[:], codes[:])
	for s := range fixedDistLens {
		fixedDistLens[s] = 5
	}
	canonicalCodes(fixedDistLens[:], fixedDistCodes[:])
}

// Order in which code-length code lengths are written (RFC 1951 §3.2.7).
var codeLenOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// writeBlocks appends the compressed data of src as parsed into d.tokens:
// one non-final block, then the final empty stored block compress/flate's
// Close writes, padded to a byte.
func (d *deflater) writeBlocks(dst, src []byte) []byte {
	numLit := numLitLen
	for d.litFreq[numLit-1] == 0 {
		numLit--
	}
	numDst := numDist
	for numDst > 0 && d.distFreq[numDst-1] == 0 {
		numDst--
	}
	if numDst == 0 {
		d.distFreq[0], numDst = 1, 1
	}
	d.huff.lengths(d.litFreq[:numLit], maxLitBits, d.litLens[:numLit])
	d.huff.lengths(d.distFreq[:numDst], maxLitBits, d.distLens[:numDst])

	extra := 0
	for s := 8; s < numLit-firstLengthSym; s++ {
		extra += int(d.litFreq[firstLengthSym+s]) * int(lengthExtra[s])
	}
	for s := 4; s < numDst; s++ {
		nb, _ := distSymExtra(uint32(s))
		extra += int(d.distFreq[s]) * int(nb)
	}
	fixed := 3 + extra
	dynamic := 3 + 5 + 5 + 4 + extra
	for s, f := range d.litFreq[:numLit] {
		fixed += int(f) * int(fixedLitLens[s])
		dynamic += int(f) * int(d.litLens[s])
	}
	for s, f := range d.distFreq[:numDst] {
		fixed += int(f) * 5
		dynamic += int(f) * int(d.distLens[s])
	}
	numCL := d.codeLengthCode(numLit, numDst)
	dynamic += 3 * numCL
	for s, f := range d.clFreq {
		dynamic += int(f) * int(d.clLens[s])
	}
	dynamic += int(d.clFreq[16])*2 + int(d.clFreq[17])*3 + int(d.clFreq[18])*7

	w := bitWriter{out: dst}
	switch size := min(fixed, dynamic); {
	case (len(src)+5)*8 < size:
		w.put(0, 3) // not final, stored
		w.align()
		w.out = binary.LittleEndian.AppendUint16(w.out, uint16(len(src)))
		w.out = binary.LittleEndian.AppendUint16(w.out, ^uint16(len(src)))
		w.out = append(w.out, src...)
	case dynamic < fixed:
		d.writeDynamicHeader(&w, numLit, numDst, numCL)
		canonicalCodes(d.litLens[:numLit], d.litCodes[:numLit])
		canonicalCodes(d.distLens[:numDst], d.dstCodes[:numDst])
		d.writeTokens(&w, d.litCodes[:], d.litLens[:], d.dstCodes[:], d.distLens[:])
	default:
		w.put(2, 3) // not final, fixed Huffman
		d.writeTokens(&w, fixedLitCodes[:], fixedLitLens[:], fixedDistCodes[:], fixedDistLens[:])
	}
	w.put(1, 3) // final, stored, empty
	w.align()
	return append(w.out, 0x00, 0x00, 0xff, 0xff)
}

// codeLengthCode run-length encodes the code lengths of both alphabets into
// d.clSyms the way compress/flate does (a run of a non-zero length: the
// length, then 16s of up to 6 repeats while at least 3 remain; zeros: 18s
// of up to 138 while at least 11 remain, then one 17 if at least 3 remain;
// what is left is written one by one), builds the code-length code and
// returns how many of its lengths the header carries.
func (d *deflater) codeLengthCode(numLit, numDst int) int {
	lens := append(append(d.allLens[:0], d.litLens[:numLit]...), d.distLens[:numDst]...)
	clear(d.clFreq[:])
	syms := d.clSyms[:0]
	for i := 0; i < len(lens); {
		v := lens[i]
		run := 1
		for i+run < len(lens) && lens[i+run] == v {
			run++
		}
		i += run
		if v == 0 {
			for ; run >= 11; run -= min(run, 138) {
				syms = append(syms, 18, uint8(min(run, 138)-11))
				d.clFreq[18]++
			}
			if run >= 3 {
				syms = append(syms, 17, uint8(run-3))
				d.clFreq[17]++
				run = 0
			}
		} else {
			syms = append(syms, v)
			d.clFreq[v]++
			for run--; run >= 3; run -= min(run, 6) {
				syms = append(syms, 16, uint8(min(run, 6)-3))
				d.clFreq[16]++
			}
		}
		for ; run > 0; run-- {
			syms = append(syms, v)
			d.clFreq[v]++
		}
	}
	d.clSyms = syms
	d.huff.lengths(d.clFreq[:], maxCodeBits, d.clLens[:])
	n := numCodeLen
	for n > 4 && d.clFreq[codeLenOrder[n-1]] == 0 {
		n--
	}
	return n
}

func (d *deflater) writeDynamicHeader(w *bitWriter, numLit, numDst, numCL int) {
	w.put(4, 3) // not final, dynamic Huffman
	w.put(uint64(numLit-257), 5)
	w.put(uint64(numDst-1), 5)
	w.put(uint64(numCL-4), 4)
	for _, s := range codeLenOrder[:numCL] {
		w.put(uint64(d.clLens[s]), 3)
	}
	canonicalCodes(d.clLens[:], d.clCodes[:])
	syms := d.clSyms
	for i := 0; i < len(syms); i++ {
		s := syms[i]
		w.put(uint64(d.clCodes[s]), uint(d.clLens[s]))
		switch s {
		case 16:
			i++
			w.put(uint64(syms[i]), 2)
		case 17:
			i++
			w.put(uint64(syms[i]), 3)
		case 18:
			i++
			w.put(uint64(syms[i]), 7)
		}
	}
}

func (d *deflater) writeTokens(w *bitWriter, litCodes []uint16, litLens []uint8, distCodes []uint16, distLens []uint8) {
	for _, t := range d.tokens {
		if t&matchFlag == 0 {
			w.put(uint64(litCodes[t]), uint(litLens[t]))
			continue
		}
		l := (t >> 16) & 0xFF // length-3
		ls := uint32(lengthSym[l])
		sym := firstLengthSym + ls
		code := uint64(litCodes[sym])
		n := uint(litLens[sym])
		if eb := lengthExtra[ls]; eb > 0 {
			code |= uint64(l+3-uint32(lengthBase[ls])) << n
			n += uint(eb)
		}
		w.put(code, n)
		dv := t & 0xFFFF // distance-1
		ds := distSym(dv)
		eb, base := distSymExtra(ds)
		w.put(uint64(distCodes[ds])|uint64(dv-base)<<distLens[ds], uint(distLens[ds])+eb)
	}
	w.put(uint64(litCodes[endOfBlock]), uint(litLens[endOfBlock]))
}

// bitWriter packs bits LSB first (RFC 1951 §3.1.1).
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc uint
}

// put writes the low n bits of v, n <= 32.
func (w *bitWriter) put(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	if w.nacc >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.acc))
		w.acc >>= 32
		w.nacc -= 32
	}
}

// align pads with zero bits to a byte boundary and flushes.
func (w *bitWriter) align() {
	for w.nacc > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= min(w.nacc, 8)
	}
	w.acc = 0
}
