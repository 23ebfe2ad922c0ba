package accesstoken

import (
	"math/bits"
	"slices"
)

// Code lengths of the DEFLATE Huffman codes, chosen exactly as
// compress/flate chooses them, so that the encoder in deflate.go writes the
// same bytes as compress/zlib.
//
// compress/flate builds a length-limited code with the package-merge
// algorithm (Larmore and Hirschberg), evaluated lazily:
//
//   - the used symbols are sorted by (frequency, symbol);
//   - with L = min(maxBits, used-1) levels, list 1 holds the sorted leaves
//     and list l+1 merges the leaves with the "packages" of list l (the sums
//     of its items 0+1, 2+3, ...), a leaf going first only when strictly
//     lighter than the package; every list is cut at 2·used-2 items;
//   - walking down from the top list's first 2·used-2 items, each level uses
//     twice as many items of the level below as it used packages; a leaf's
//     code length is the number of levels whose used items include it.
//
// The lengths only depend on the number of leaves used per level, so that is
// what both implementations below compute: packageMerge literally, and
// quickCounts in linear time when it can prove the result is the same.
// Symbols with equal lengths get canonical codes in symbol order (RFC 1951
// §3.2.2), which is also what compress/flate writes.

const (
	numLitLen   = 286 // literal/length alphabet: 0–255, end of block, 257–285
	numDist     = 30  // distance alphabet
	numCodeLen  = 19  // code-length alphabet
	maxLitBits  = 15
	maxCodeBits = 7
	maxLeaves   = numLitLen
	maxItems    = 2*maxLeaves - 2
)

// The sort keys are freq<<16 | symbol: no frequency may reach 1<<16, and a
// frequency is at most the number of tokens plus one, at most quickMaxInput
// plus one. This fails to compile if quickMaxInput grows past that.
const _ = uint(0xFFFF - (quickMaxInput + 1))

// huffBuilder holds the scratch space of code construction; reused, never
// cleared wholesale.
type huffBuilder struct {
	keys  [maxLeaves]uint32 // freq<<16 | symbol of the used symbols, sorted
	leaf  [maxLeaves]int32  // their frequencies
	pkg   [maxLeaves]int32  // quickCounts: package weights in creation order
	at    [maxLeaves]int32  // quickCounts: position of each package in the sequence
	cum   [maxItems + 1]int32
	list  [2][maxItems]int32                  // packageMerge: previous and current level
	pkCum [maxLitBits + 1][maxItems + 1]int16 // packageMerge: packages among the first r items of each level
	used  [maxLitBits + 1]int32               // leaves used per level, top (index 0) down

	merges [maxLitBits + 1]int // packageMerge runs by maxBits, for the tests
}

// lengths writes the code length of every symbol of freq (0 for unused
// symbols) to lens, for codes of at most maxBits bits.
func (h *huffBuilder) lengths(freq []int32, maxBits int, lens []uint8) {
	n := h.sortUsed(freq)
	keys := h.keys[:n]
	clear(lens[:len(freq)])
	if n <= 2 {
		// One or two symbols: one bit each.
		for _, k := range keys {
			lens[k&0xFFFF] = 1
		}
		return
	}
	for i, k := range keys {
		h.leaf[i] = int32(k >> 16)
	}
	levels := min(maxBits, n-1)
	depth, ok := h.quickCounts(n, levels)
	if !ok {
		depth = h.packageMerge(n, levels)
		h.merges[maxBits]++
	}
	// Leaves [used[k+1], used[k]) get k+1 bits; used[depth] is 0.
	for k := range depth {
		for _, key := range keys[h.used[k+1]:h.used[k]] {
			lens[key&0xFFFF] = uint8(k + 1)
		}
	}
}

// sortUsed fills h.keys with freq<<16 | symbol of the used symbols, sorted
// by frequency, then symbol, and returns how many there are. Frequencies
// are mostly tiny, so a counting sort does it when they allow.
func (h *huffBuilder) sortUsed(freq []int32) int {
	const small = 64
	var start [small]uint16 // count of each frequency, then where it starts
	n := 0
	var most int32
	for _, f := range freq {
		if f != 0 {
			n++
			most = max(most, f)
			if f < small {
				start[f]++
			}
		}
	}
	if most >= small {
		keys := h.keys[:0]
		for sym, f := range freq {
			if f != 0 {
				keys = append(keys, uint32(f)<<16|uint32(sym))
			}
		}
		slices.Sort(keys)
		return n
	}
	at := uint16(0)
	for f := range start[:most+1] {
		c := start[f]
		start[f] = at
		at += c
	}
	for sym, f := range freq { // symbol order is kept within a frequency
		if f != 0 {
			h.keys[start[f]] = uint32(f)<<16 | uint32(sym)
			start[f]++
		}
	}
	return n
}

// quickCounts runs the unlimited merge (Huffman's two-queue algorithm with
// the package-merge tie rule): its item sequence S is the fixed point
// S = merge(leaves, packages(S)), and it fills h.used from the walk down S's
// prefixes. That equals the package-merge result whenever every level's
// list agrees with S on the prefix the walk uses there. List 1 agrees with S
// up to S's first package; if list l agrees up to t, list l+1 agrees at
// least up to the position in S of package t/2 (lists only get lighter
// towards S, so a wrong package is never merged earlier than the right one).
// When that bound does not cover the walk it reports false.
func (h *huffBuilder) quickCounts(n, levels int) (depth int, ok bool) {
	items := 2*n - 2
	next, taken, made := 0, 0, 0 // next leaf, packages taken, packages made
	var prev int32
	h.cum[0] = 0
	for r := range items {
		var w int32
		if next < n && (taken == made || h.leaf[next] < h.pkg[taken]) {
			w = h.leaf[next]
			next++
			h.cum[r+1] = h.cum[r]
		} else {
			w = h.pkg[taken]
			h.at[taken] = int32(r)
			taken++
			h.cum[r+1] = h.cum[r] + 1
		}
		if r&1 == 1 {
			h.pkg[made] = prev + w
			made++
		}
		prev = w
	}
	// agree[l] for l = 1..levels: how far list l surely equals S.
	var agree [maxLitBits + 1]int
	t := int(h.at[0])
	for l := 1; l <= levels; l++ {
		agree[l] = t
		if j := t / 2; j < taken {
			t = int(h.at[j])
		} else {
			t = items
		}
	}
	m := items
	for m > 0 {
		l := levels - depth
		if l < 1 || m > agree[l] {
			return 0, false
		}
		p := int(h.cum[m])
		h.used[depth] = int32(m - p)
		m = 2 * p
		depth++
	}
	h.used[depth] = 0
	return depth, true
}

// packageMerge computes every list of the package-merge, bottom up, and
// walks down from the top. It is the reference; quickCounts avoids it for
// all but skewed frequencies.
func (h *huffBuilder) packageMerge(n, levels int) (depth int) {
	items := 2*n - 2
	cur := append(h.list[1][:0], h.leaf[:n]...) // level l lives in list[l&1]
	for r := range n + 1 {
		h.pkCum[1][r] = 0
	}
	for l := 2; l <= levels; l++ {
		below := cur
		cur = h.list[l&1][:0]
		pc := &h.pkCum[l]
		pc[0] = 0
		leaf, pk := 0, 0
		npk := len(below) / 2
		for len(cur) < items && (leaf < n || pk < npk) {
			if leaf < n && (pk == npk || h.leaf[leaf] < below[2*pk]+below[2*pk+1]) {
				cur = append(cur, h.leaf[leaf])
				leaf++
				pc[len(cur)] = pc[len(cur)-1]
			} else {
				cur = append(cur, below[2*pk]+below[2*pk+1])
				pk++
				pc[len(cur)] = pc[len(cur)-1] + 1
			}
		}
	}
	m := items
	for l := levels; l >= 1 && m > 0; l-- {
		p := int(h.pkCum[l][m])
		h.used[depth] = int32(m - p)
		m = 2 * p
		depth++
	}
	h.used[depth] = 0
	return depth
}

// canonicalCodes assigns RFC 1951 canonical codes for lens, bit-reversed
// for LSB-first output.
func canonicalCodes(lens []uint8, codes []uint16) {
	var count [16]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [16]uint16
	code := uint16(0)
	for b := 1; b < 16; b++ {
		code = (code + count[b-1]) << 1
		next[b] = code
	}
	for sym, l := range lens {
		if l != 0 {
			codes[sym] = bits.Reverse16(next[l]) >> (16 - l)
			next[l]++
		}
	}
}
