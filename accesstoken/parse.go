package accesstoken

import (
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Size caps applied by Parse.
const (
	// MaxTokenLen is the longest token text Parse accepts (after trimming).
	// It comfortably holds a MaxPayloadSize payload in stored deflate
	// blocks, base64-encoded and line-wrapped.
	MaxTokenLen = 128 << 10
	// MaxPayloadSize is the largest inflated 007 payload (or decoded 006
	// content) Parse accepts. Real payloads are a few hundred bytes.
	MaxPayloadSize = 64 << 10
)

// Parse decodes an AccessToken2 ("007…") or AccessToken ("006…") without the
// app certificate.
//
// It trims surrounding whitespace and is lenient about base64: the standard
// or URL-safe alphabet, with or without padding, with embedded CR/LF, and
// with spaces standing for '+' signs lost to form decoding. Any valid zlib
// stream is accepted, inflated up to MaxPayloadSize. Parsing stops without
// error at an unknown service type, leaving Token.Complete false; bytes after
// the last service record are ignored, as the official parsers do.
//
// Errors wrap ErrMalformed (often as a *ParseError naming the field),
// ErrUnsupportedVersion or ErrTooLarge. Parse never panics.
func Parse(s string) (*Token, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxTokenLen {
		return nil, fmt.Errorf("%w: %d characters, limit %d", ErrTooLarge, len(s), MaxTokenLen)
	}
	switch {
	case s == "":
		return nil, fmt.Errorf("%w: empty token", ErrMalformed)
	case strings.HasPrefix(s, Version2):
		return parse007(s[len(Version2):])
	case strings.HasPrefix(s, Version1):
		return parse006(s[len(Version1):])
	default:
		return nil, fmt.Errorf("%w: prefix is not %q or %q", ErrUnsupportedVersion, Version2, Version1)
	}
}

// scratch holds the reusable buffers of one Parse call.
type scratch struct {
	b64 []byte // normalized base64 text, then the decoded bytes
	out []byte // inflated payload
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxPooledBuf keeps rare huge buffers out of the pool.
const maxPooledBuf = 16 << 10

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(sc *scratch) {
	if cap(sc.b64) > maxPooledBuf {
		sc.b64 = nil
	}
	if cap(sc.out) > maxPooledBuf {
		sc.out = nil
	}
	scratchPool.Put(sc)
}

// decodeBase64 decodes s leniently (see Parse) into sc.b64 and returns the
// decoded bytes, which alias sc.b64.
func (sc *scratch) decodeBase64(s string) ([]byte, error) {
	if cap(sc.b64) < len(s) {
		sc.b64 = make([]byte, max(len(s), 512))
	}
	buf := sc.b64[:len(s)]
	// Fast path: the standard, padded form every official builder emits.
	if n, ok := decodeStdBase64(buf, s); ok {
		return buf[:n], nil
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\r', '\n', '\t':
			continue
		case '-', ' ':
			c = '+'
		case '_':
			c = '/'
		}
		buf[n] = c
		n++
	}
	for n > 0 && buf[n-1] == '=' {
		n--
	}
	n, err := base64.RawStdEncoding.Decode(buf, buf[:n])
	if err != nil {
		var cie base64.CorruptInputError
		if errors.As(err, &cie) {
			return nil, fmt.Errorf("%w: invalid base64 at character %d", ErrMalformed, int64(cie))
		}
		return nil, fmt.Errorf("%w: invalid base64: %w", ErrMalformed, err)
	}
	return buf[:n], nil
}

// inflate decompresses the zlib stream z (RFC 1950: a 2-byte header,
// DEFLATE data, the big-endian Adler-32 of the output) into sc.out, stopping
// with ErrTooLarge as soon as the output exceeds MaxPayloadSize. Bytes after
// the checksum are ignored, as compress/zlib does.
func (sc *scratch) inflate(z []byte) ([]byte, error) {
	if len(z) < 2 {
		return nil, fmt.Errorf("%w: zlib: %w", ErrMalformed, errTruncated)
	}
	cmf, flg := z[0], z[1]
	switch {
	case cmf&0x0f != 8 || cmf>>4 > 7 || (uint(cmf)<<8|uint(flg))%31 != 0:
		return nil, fmt.Errorf("%w: zlib: %w", ErrMalformed, zlib.ErrHeader)
	case flg&0x20 != 0:
		return nil, fmt.Errorf("%w: zlib: %w", ErrMalformed, zlib.ErrDictionary)
	}
	out, n, err := inflateRaw(sc.out[:0], z[2:], MaxPayloadSize)
	sc.out = out
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w: zlib: %w", ErrMalformed, err)
	}
	sum := z[2+n:]
	if len(sum) < 4 {
		return nil, fmt.Errorf("%w: zlib: truncated checksum", ErrMalformed)
	}
	if binary.BigEndian.Uint32(sum) != adler32Sum(out) {
		return nil, fmt.Errorf("%w: zlib: %w", ErrMalformed, zlib.ErrChecksum)
	}
	return out, nil
}

// parse007 decodes the text after the "007" prefix.
func parse007(body string) (*Token, error) {
	sc := getScratch()
	defer putScratch(sc)
	z, err := sc.decodeBase64(body)
	if err != nil {
		return nil, err
	}
	payload, err := sc.inflate(z)
	if err != nil {
		return nil, err
	}
	return decodePayload(payload)
}
