package accesstoken

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// fuzzDeflater is shared by the fuzz iterations of a process, so stale
// table entries of earlier inputs are always around.
var fuzzDeflater = struct {
	sync.Mutex
	d deflater
}{}

// FuzzDeflate holds the encoder to compress/zlib's default level, byte for
// byte, on arbitrary input. With bit 7 of repeat set, its low 6 bits copy
// the input that many times more (up to just past the encoder's bound; bit
// 6 cuts it at the bound), so long matches, deep chains and the size
// limits are reachable from small seeds.
func FuzzDeflate(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 9))
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, seed := range [][]byte{
		nil, {0}, {1, 2}, {'a', 'b', 'c'}, []byte("abcd"),
		bytes.Repeat([]byte{'z'}, 300),
		bytes.Repeat([]byte("\x0bchannelName\x07lobby-1"), 12),
		randBytes(r, 200, 256), randBytes(r, 1000, 3),
		all,
		[]byte("abcdefgh_bcdefghijk_abcdefghijk"), // lazy match wins
		fourByteMatchAt(4096), fourByteMatchAt(4097),
		mustPayload(f, benchParams),
	} {
		f.Add(seed, uint8(0))
	}
	f.Add(randBytes(r, 1000, 256), uint8(16))   // beyond the bound
	f.Add(randWords(r, 700), uint8(23))         // at the bound
	f.Add([]byte("0123456789abcdef"), uint8(9)) // period-16 repeats
	f.Fuzz(func(t *testing.T, data []byte, repeat uint8) {
		in := data
		if k := int(repeat & 63); repeat&128 != 0 && len(data) > 0 {
			in = bytes.Repeat(data, min(k+1, (quickMaxInput+64)/len(data)+1))
			if repeat&64 != 0 && len(in) > quickMaxInput { // land exactly on the bound
				in = in[:quickMaxInput]
			}
		}
		fuzzDeflater.Lock()
		defer fuzzDeflater.Unlock()
		checkDeflate(t, &fuzzDeflater.d, in)
	})
}

// mustPayload returns the payload Build compresses for p.
func mustPayload(tb testing.TB, p Params) []byte {
	tb.Helper()
	tok, err := naiveBuild(p) // no size limit, unlike Build
	if err != nil {
		tb.Fatal(err)
	}
	z, err := base64.StdEncoding.DecodeString(tok[len(Version2):])
	if err != nil {
		tb.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		tb.Fatal(err)
	}
	payload, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return payload
}

// FuzzBuildMatchesNaive builds tokens from fuzzed parameters and holds
// Build to the naive builder (compress/zlib) byte for byte. shape picks the
// services (type, privileges); text, split at '|', gives their strings,
// reused across services as real tokens repeat channel and user names.
func FuzzBuildMatchesNaive(f *testing.F) {
	f.Add(uint32(1_750_000_000), uint32(3600), uint32(12345678), []byte{0}, exampleChannel+"|2882341273")
	f.Add(uint32(1), uint32(0), uint32(99999999), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "a|b|c")
	f.Add(uint32(7), uint32(86400), uint32(1), []byte{0x0f, 0x0f, 0x0f, 0x1f}, "lobby|lobby|lobby|user-1|user-1")
	f.Add(uint32(0), uint32(1), uint32(2), []byte{0x36, 0x36}, "Jürgen-用户-😀|"+strings.Repeat("x", 300))
	f.Fuzz(func(t *testing.T, issueTs, expire, salt uint32, shape []byte, text string) {
		if len(shape) > 64 {
			shape = shape[:64]
		}
		strs := strings.Split(text, "|")
		next := 0
		str := func() string {
			s := strs[next%len(strs)]
			next++
			return s
		}
		p := Params{AppID: exampleAppID, Certificate: exampleCert, IssueTs: issueTs, Expire: expire, Salt: salt}
		for _, b := range shape {
			s := Service{Type: ServiceType(1 + b%10)}
			for id := range 4 { // high bits: which of privileges 1–4
				if b>>(4+id)&1 == 1 {
					s.Privileges = append(s.Privileges, Privilege{ID: uint16(id + 1), Value: expire})
				}
			}
			setIdentity(&s, str, int16(b))
			if s.Type == ServiceRTM2 {
				s.Permissions = []RTM2Permission{{ResourceType: uint16(b & 3), PermissionType: 1, Resources: []string{str(), str()}}}
			}
			p.Services = append(p.Services, s)
		}
		got, err := Build(p)
		if errors.Is(err, ErrTooLarge) {
			if n := len(mustPayload(t, p)); n <= MaxPayloadSize {
				t.Fatalf("Build refused a payload of %d bytes: %v", n, err)
			}
			return // refused, as Parse would refuse it
		}
		if err != nil {
			if len(p.Services) != 0 && len(text) <= 0xFFFF {
				t.Fatalf("Build: %v", err)
			}
			return
		}
		if want, _ := naiveBuild(p); got != want {
			t.Fatalf("Build differs from the naive builder:\n got %s\nwant %s", got, want)
		}
		tok, err := Parse(got)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if !reflect.DeepEqual(tok.Services, canonical(p.Services)) || tok.Verify(p.Certificate) != nil {
			t.Fatal("token does not round-trip")
		}
	})
}
