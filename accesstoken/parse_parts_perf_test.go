package accesstoken

import (
	"encoding/base64"
	"hash/adler32"
	"testing"
)

// BenchmarkParseParts times the stages of Parse on benchParams' token, each
// next to the standard library's way where there is one:
//
//	go test -run '^$' -bench ParseParts -benchmem -cpu 1 ./accesstoken/
func BenchmarkParseParts(b *testing.B) {
	s, err := Build(benchParams)
	if err != nil {
		b.Fatal(err)
	}
	body := s[len(Version2):]
	z, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		b.Fatal(err)
	}
	payload, _, err := inflateRaw(nil, z[2:], MaxPayloadSize)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, len(body))
	b.Run("base64/encoding-base64", func(b *testing.B) {
		for b.Loop() {
			copy(buf, body) // the []byte encoding/base64 needs
			if _, err := base64.StdEncoding.Decode(buf, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("base64/fast", func(b *testing.B) {
		for b.Loop() {
			if _, ok := decodeStdBase64(buf, body); !ok {
				b.Fatal("declined")
			}
		}
	})
	out := make([]byte, 0, 512)
	b.Run("inflate", func(b *testing.B) {
		for b.Loop() {
			if out, _, err = inflateRaw(out[:0], z[2:], MaxPayloadSize); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("adler32/hash-adler32", func(b *testing.B) {
		for b.Loop() {
			adler32.Checksum(payload)
		}
	})
	b.Run("adler32/fast", func(b *testing.B) {
		for b.Loop() {
			adler32Sum(payload)
		}
	})
	b.Run("decodePayload", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodePayload(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
}
