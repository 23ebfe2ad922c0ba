package accesstoken

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
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

// scratch holds the reusable buffers and zlib reader of one Parse call.
type scratch struct {
	b64 []byte        // normalized base64 text, then the decoded bytes
	out []byte        // inflated payload
	src bytes.Reader  // the zlib stream
	zr  io.ReadCloser // reused through zlib.Resetter
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
	sc.src.Reset(nil)
	scratchPool.Put(sc)
}

// decodeBase64 decodes s leniently (see Parse) into sc.b64 and returns the
// decoded bytes, which alias sc.b64.
func (sc *scratch) decodeBase64(s string) ([]byte, error) {
	buf := sc.b64[:0]
	if cap(buf) < len(s) {
		buf = make([]byte, 0, max(len(s), 512))
	}
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
		buf = append(buf, c)
	}
	sc.b64 = buf
	for len(buf) > 0 && buf[len(buf)-1] == '=' {
		buf = buf[:len(buf)-1]
	}
	// Decoding in place is safe: the output never overtakes the input.
	n, err := base64.RawStdEncoding.Decode(buf, buf)
	if err != nil {
		var cie base64.CorruptInputError
		if errors.As(err, &cie) {
			return nil, fmt.Errorf("%w: invalid base64 at character %d", ErrMalformed, int64(cie))
		}
		return nil, fmt.Errorf("%w: invalid base64: %w", ErrMalformed, err)
	}
	return buf[:n], nil
}

// inflate decompresses the zlib stream z into sc.out, stopping with
// ErrTooLarge as soon as the output exceeds MaxPayloadSize.
func (sc *scratch) inflate(z []byte) ([]byte, error) {
	sc.src.Reset(z)
	var err error
	if sc.zr == nil {
		sc.zr, err = zlib.NewReader(&sc.src)
	} else {
		err = sc.zr.(zlib.Resetter).Reset(&sc.src, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %w", ErrMalformed, err)
	}
	out := sc.out[:0]
	if cap(out) < 512 {
		out = make([]byte, 0, 512)
	}
	for {
		if len(out) == cap(out) {
			if len(out) > MaxPayloadSize {
				sc.out = out
				return nil, fmt.Errorf("%w: payload inflates beyond %d bytes", ErrTooLarge, MaxPayloadSize)
			}
			out = append(out, 0)[:len(out)]
		}
		limit := min(cap(out), MaxPayloadSize+1)
		n, rerr := sc.zr.Read(out[len(out):limit])
		out = out[:len(out)+n]
		if len(out) > MaxPayloadSize {
			sc.out = out
			return nil, fmt.Errorf("%w: payload inflates beyond %d bytes", ErrTooLarge, MaxPayloadSize)
		}
		if rerr == io.EOF {
			sc.out = out
			return out, nil
		}
		if rerr != nil {
			sc.out = out
			return nil, fmt.Errorf("%w: zlib: %w", ErrMalformed, rerr)
		}
	}
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
	// One string for the whole payload; every string field is a slice of it.
	return decodePayload(string(payload))
}
