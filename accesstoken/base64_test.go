package accesstoken

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// TestDecodeStdBase64 compares the fast path with encoding/base64: every
// standard encoding decodes to the same bytes, and on damaged text it either
// agrees with StdEncoding or declines (leaving the text to the lenient path).
func TestDecodeStdBase64(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	damage := []byte("=\n\r-_ .!AZaz09+/\x00\xff")
	for size := range 300 {
		raw := make([]byte, size)
		for i := range raw {
			raw[i] = byte(r.Uint32())
		}
		enc := base64.StdEncoding.EncodeToString(raw)
		dst := make([]byte, len(enc))
		n, ok := decodeStdBase64(dst, enc)
		if !ok || !bytes.Equal(dst[:n], raw) {
			t.Fatalf("%d bytes: decoded %x (ok %v), want %x", size, dst[:n], ok, raw)
		}
		for range 8 {
			b := []byte(enc)
			for range 1 + r.IntN(2) {
				if len(b) > 0 {
					b[r.IntN(len(b))] = damage[r.IntN(len(damage))]
				}
			}
			s := string(b)
			want, werr := base64.StdEncoding.DecodeString(s)
			n, ok := decodeStdBase64(dst, s)
			if ok && (werr != nil || !bytes.Equal(dst[:n], want)) {
				t.Fatalf("%q: fast path decoded %x, StdEncoding %x, %v", s, dst[:n], want, werr)
			}
			if !ok && werr == nil && !bytes.ContainsAny(b, "\r\n") {
				t.Fatalf("%q: fast path declined what StdEncoding decodes", s)
			}
		}
	}
	// Padding only where it belongs; unused low bits of the last character
	// are ignored, as StdEncoding does.
	for s, want := range map[string]string{"QQ==": "A", "QR==": "A", "QUI=": "AB", "QUJD": "ABC"} {
		dst := make([]byte, 4)
		if n, ok := decodeStdBase64(dst, s); !ok || string(dst[:n]) != want {
			t.Errorf("%q: %q (ok %v), want %q", s, dst[:n], ok, want)
		}
	}
	for _, s := range []string{"Q===", "QQ=A", "=QQQ", "QQ==QUJD", "QUJ", "QUJD\n"} {
		if _, ok := decodeStdBase64(make([]byte, len(s)), s); ok {
			t.Errorf("%q: accepted", s)
		}
	}
}
