package accesstoken

import "encoding/binary"

// Standard, padded base64 (what every official builder emits), decoded from
// the token string itself.
//
// encoding/base64 needs a []byte, which costs the token text a copy, and
// shifts and checks every character on its own. Here a table per position
// in a 4-character quad gives each character's bits already in place, so a
// quad is four loads ORed together, and one test of the high byte catches
// any character outside the alphabet.

// b64Quad[k][c] is the value of character c at position k of a quad,
// shifted into place in a 24-bit group, or b64Bad if c is not in the
// standard alphabet.
var b64Quad = func() (t [4][256]uint32) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for k := range t {
		for c := range t[k] {
			t[k][c] = b64Bad
		}
		for v := range len(alphabet) {
			t[k][alphabet[v]] = uint32(v) << (18 - 6*k)
		}
	}
	return t
}()

const b64Bad = 0xFF000000

// quad decodes the 4 characters of c into a 24-bit group, with bits above
// 24 set if any is not in the alphabet.
func quad(c string) uint32 {
	return b64Quad[0][c[0]] | b64Quad[1][c[1]] | b64Quad[2][c[2]] | b64Quad[3][c[3]]
}

// decodeStdBase64 decodes s, standard padded base64 without line breaks,
// into dst, which must hold len(s) bytes. It reports false, having decoded
// nothing useful, for any other form; the caller then takes the lenient
// path. Like encoding/base64.StdEncoding it ignores the unused low bits
// of a padded final quad.
func decodeStdBase64(dst []byte, s string) (int, bool) {
	if len(s)%4 != 0 || len(dst) < len(s) {
		return 0, false
	}
	if len(s) == 0 {
		return 0, true
	}
	body, last := s[:len(s)-4], s[len(s)-4:]
	n := 0
	// Eight characters at a time: two groups, stored as one 8-byte
	// big-endian write of which the last 2 bytes are overwritten next
	// (dst holds len(s) bytes, more than the 6 per 8 characters written).
	for len(body) >= 8 {
		c := body[:8]
		hi, lo := quad(c[:4]), quad(c[4:])
		if (hi|lo)&b64Bad != 0 {
			return 0, false
		}
		binary.BigEndian.PutUint64(dst[n:], uint64(hi)<<40|uint64(lo)<<16)
		n += 6
		body = body[8:]
	}
	if len(body) == 4 {
		q := quad(body)
		if q&b64Bad != 0 {
			return 0, false
		}
		dst[n], dst[n+1], dst[n+2] = byte(q>>16), byte(q>>8), byte(q)
		n += 3
	}
	// The final quad: "xxxx", "xxx=" or "xx==".
	q := b64Quad[0][last[0]] | b64Quad[1][last[1]]
	size := 1
	if last[2] != '=' {
		q |= b64Quad[2][last[2]]
		size = 2
	}
	if last[3] != '=' {
		q |= b64Quad[3][last[3]]
		if size == 1 { // "xx=x"
			return 0, false
		}
		size = 3
	}
	if q&b64Bad != 0 {
		return 0, false
	}
	for i := range size {
		dst[n+i] = byte(q >> (16 - 8*i))
	}
	return n + size, true
}
