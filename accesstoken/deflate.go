package accesstoken

import (
	"compress/zlib"
	"encoding/binary"
	"hash/adler32"
	"math/bits"
	"sync"
)

// A zlib encoder for the payloads Build mints. Tokens must be byte-identical
// to the official Go builder's, which compresses with compress/zlib at the
// default level, so this encoder makes every decision that level makes:
// the same LZ77 parse (below), the same choice between stored, fixed and
// dynamic blocks and the same Huffman codes (deflate_block.go,
// deflate_huffman.go). What it drops is the cost of generality: a
// compress/zlib writer clears 640 KB of hash tables on every Reset, while
// this one keeps a small table whose stale entries are recognised by a
// generation offset, and it writes straight into the caller's slice.
//
// It reproduces compress/zlib only for inputs of at most quickMaxInput
// bytes: then the whole input is one window (no sliding, no distance limit)
// and one block (compress/flate ends a block at 16384 tokens, and a token
// covers at least one byte). Longer inputs go to compress/zlib itself, as
// do inputs that would make the match search skip too much (skipBudget).
// The differential tests and FuzzDeflate hold the two together; should a Go
// release change compress/flate's output, they fail on that toolchain.

const (
	quickMaxInput = 1<<14 - 1

	// compress/flate level 6 parameters.
	minMatch     = 4   // shortest match emitted
	maxMatch     = 258 // longest match
	lazyLimit    = 16  // no lazy search after a match this long
	niceLength   = 128 // stop searching at a match this long
	chainLimit   = 128 // candidates examined per search
	farShortDist = 4096

	// Candidate chains follow compress/flate's 17-bit hash of 4 bytes. The
	// table here has fewer buckets; a walk skips the positions whose full
	// hash differs, which leaves exactly compress/flate's chain. Those skips
	// are work compress/flate never does, and chainLimit does not bound
	// them: input crafted to fill one bucket with other hashes would make
	// every walk cross the whole bucket. So an input gets skipBudget skips
	// per byte in all; one that needs more goes to compress/zlib, whose work
	// is bounded (the output is the same either way).
	hashShift  = 32 - 17
	hashMul    = 0x1e35a7bd
	bucketBits = 12
	skipBudget = 8
)

// matcher holds the candidate chains.
type matcher struct {
	head [1 << bucketBits]uint32 // newest position in the bucket + base; below base means empty
	base uint32                  // generation offset of the current input
	prev [quickMaxInput]int32    // older position in the same bucket, or -1
	left int                     // skips the current input may still make; below 0: too many
}

func hash4(b []byte) uint32 { return binary.BigEndian.Uint32(b) * hashMul >> hashShift }

// start begins a new input of n bytes: entries of earlier inputs all lie
// below the base. The table is cleared only when the offset would wrap.
func (m *matcher) start(n int) {
	if m.base == 0 || m.base > ^uint32(0)-2*quickMaxInput {
		clear(m.head[:])
		m.base = 1
	}
	m.left = skipBudget * n
}

// exhausted reports whether the input has used up its skips; the chains
// walked since are then cut short, and the parse is worthless.
func (m *matcher) exhausted() bool { return m.left < 0 }

// finish moves the base past the positions of an input of n bytes.
func (m *matcher) finish(n int) { m.base += uint32(n) }

// insert adds position p (which has 4 bytes of input) and returns the newest
// older position with the same hash, or -1.
func (m *matcher) insert(src []byte, p int) int {
	h := hash4(src[p:])
	b := h >> (17 - bucketBits)
	old := int(m.head[b]) - int(m.base)
	if old < 0 {
		old = -1
	}
	m.prev[p] = int32(old)
	m.head[b] = uint32(p) + m.base
	return m.skip(src, old, h)
}

// next returns the position after p on the chain of hash h, or -1.
func (m *matcher) next(src []byte, p int, h uint32) int {
	return m.skip(src, int(m.prev[p]), h)
}

// skip returns the first position from p on (p included) down its bucket
// whose hash is h, or -1: also when the input runs out of skips.
func (m *matcher) skip(src []byte, p int, h uint32) int {
	for p >= 0 && hash4(src[p:]) != h {
		if m.left--; m.left < 0 {
			return -1
		}
		p = int(m.prev[p])
	}
	return p
}

// longest searches the chain from cand for the longest match at pos, as
// compress/flate level 6 does: at most chainLimit candidates, a match must
// beat the best so far, a 4-byte match counts only within farShortDist, and
// a match of niceLength (or all the lookahead) ends the search.
func (m *matcher) longest(src []byte, pos, cand int) (length, dist int) {
	limit := min(len(src)-pos, maxMatch)
	nice := min(limit, niceLength)
	h := hash4(src[pos:])
	best := minMatch - 1
	win := src[:pos+limit]
	cur := win[pos:]
	for tries := chainLimit; tries > 0; tries-- {
		if win[cand+best] == cur[best] {
			n := commonPrefix(win[cand:cand+limit], cur)
			if n > best && (n > minMatch || pos-cand <= farShortDist) {
				best, dist = n, pos-cand
				if n >= nice {
					break
				}
			}
		}
		if cand = m.next(src, cand, h); cand < 0 {
			break
		}
	}
	if dist == 0 {
		return 0, 0
	}
	return best, dist
}

// commonPrefix returns the length of the common prefix of a and b,
// len(a) == len(b).
func commonPrefix(a, b []byte) int {
	n := 0
	for len(a)-n >= 8 {
		x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)/8 // the first differing byte
		}
		n += 8
	}
	for n < len(a) && a[n] == b[n] {
		n++
	}
	return n
}

// deflater is the pooled state of the encoder.
type deflater struct {
	lz       matcher
	huff     huffBuilder
	tokens   []uint32 // literal byte, or matchFlag | (length-3)<<16 | (distance-1)
	litFreq  [numLitLen]int32
	distFreq [numDist]int32
	litLens  [numLitLen]uint8
	distLens [numDist]uint8
	litCodes [numLitLen]uint16
	dstCodes [numDist]uint16
	allLens  [numLitLen + numDist]uint8
	clFreq   [numCodeLen]int32
	clLens   [numCodeLen]uint8
	clCodes  [numCodeLen]uint16
	clSyms   []uint8 // code-length symbols, each 16/17/18 followed by its repeat value
}

const matchFlag = 1 << 31

// appendZlib appends the zlib stream compress/zlib writes for src at the
// default level (one Write, then Close).
func (d *deflater) appendZlib(dst, src []byte) []byte {
	if len(src) > quickMaxInput {
		return appendSlow(dst, src)
	}
	if len(src) == 0 {
		// No data block: only the final empty stored block.
		return append(dst, 0x78, 0x9c, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01)
	}
	if !d.parse(src) {
		return appendSlow(dst, src)
	}
	dst = append(dst, 0x78, 0x9c) // deflate, 32 KB window, default level; check bits
	dst = d.writeBlocks(dst, src)
	return binary.BigEndian.AppendUint32(dst, adler32.Checksum(src))
}

// parse runs compress/flate's lazy LZ77 over src, filling d.tokens and the
// symbol frequencies. A match found at p is held back while p+1 is tried;
// the longer one wins (the held one on ties), and no search follows a held
// match of lazyLimit or more. Positions within a match are hashed but not
// searched; the last three positions are never hashed (nor searched).
// It reports false, having stopped early, if src needs more than its share
// of bucket skips (skipBudget).
func (d *deflater) parse(src []byte) bool {
	n := len(src)
	d.tokens = d.tokens[:0]
	clear(d.litFreq[:])
	clear(d.distFreq[:])
	d.lz.start(n)
	defer d.lz.finish(n)
	hashEnd := n - (minMatch - 1)
	held, heldDist := 0, 0 // match starting at pos-1 (held < minMatch: none)
	pending := false       // src[pos-1] still needs a token
	cand := -1
	for pos := 0; pos < n; {
		if d.lz.exhausted() {
			return false
		}
		if pos < hashEnd {
			cand = d.lz.insert(src, pos)
		}
		length, dist := 0, 0
		if cand >= 0 && n-pos > max(held, minMatch-1) && held < lazyLimit {
			length, dist = d.lz.longest(src, pos, cand)
		}
		if held >= minMatch && length <= held {
			d.addMatch(held, heldDist)
			end := pos - 1 + held
			for pos++; pos < end; pos++ {
				if pos < hashEnd {
					d.lz.insert(src, pos)
				}
			}
			held, pending = 0, false
			continue
		}
		if pending {
			d.addLiteral(src[pos-1])
		}
		held, heldDist = length, dist
		pending = true
		pos++
	}
	if pending {
		d.addLiteral(src[n-1])
	}
	d.litFreq[endOfBlock]++
	return !d.lz.exhausted()
}

func (d *deflater) addLiteral(b byte) {
	d.tokens = append(d.tokens, uint32(b))
	d.litFreq[b]++
}

func (d *deflater) addMatch(length, dist int) {
	d.tokens = append(d.tokens, matchFlag|uint32(length-3)<<16|uint32(dist-1))
	d.litFreq[firstLengthSym+int(lengthSym[length-3])]++
	d.distFreq[distSym(uint32(dist-1))]++
}

// slowWriter is a compress/zlib writer with its output slice. It holds
// about 800 KB, so it has a pool of its own instead of riding in every
// pooled deflater once one input has needed it.
type slowWriter struct {
	zw   *zlib.Writer
	sink sliceWriter
}

var slowWriters = sync.Pool{New: func() any {
	w := new(slowWriter)
	w.zw = zlib.NewWriter(&w.sink)
	return w
}}

// sliceWriter is the io.Writer of the fallback path.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// appendSlow appends compress/zlib's stream for src, for inputs the
// encoder does not handle.
func appendSlow(dst, src []byte) []byte {
	w := slowWriters.Get().(*slowWriter)
	w.sink.b = dst
	w.zw.Reset(&w.sink)
	// Writes to a slice cannot fail.
	w.zw.Write(src)
	w.zw.Close()
	out := w.sink.b
	w.sink.b = nil // do not keep the caller's buffer
	slowWriters.Put(w)
	return out
}
