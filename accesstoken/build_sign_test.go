package accesstoken

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSignerMatchesSign holds Build's allocation-free signer to sign
// (crypto/hmac), and its HMAC step to crypto/hmac for keys of every length
// (those longer than a SHA-256 block are hashed first) and messages around
// the block boundaries.
func TestSignerMatchesSign(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 8))
	var s signer
	for i := range 500 {
		cert := exampleCert
		if i%2 == 0 {
			cert = string(randBytes(r, r.IntN(100), 256))
		}
		msg := randBytes(r, r.IntN(300), 256)
		ts, salt := r.Uint32(), r.Uint32()
		got := s.sign(cert, ts, salt, msg)
		if want := sign(cert, ts, salt, msg); !bytes.Equal(got[:], want) {
			t.Fatalf("cert %q ts %d salt %d msg %x: got %x, want %x", cert, ts, salt, msg, got, want)
		}
		key := randBytes(r, r.IntN(150), 256)
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		if got := hmacText(&s, key, msg); !bytes.Equal(got[:], m.Sum(nil)) {
			t.Fatalf("HMAC with a %d-byte key, %d-byte message differs", len(key), len(msg))
		}
	}
}

// TestBuildAllocs pins Build to one allocation, the returned string.
func TestBuildAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := Build(benchParams); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("Build allocates %v times per call, budget 1", allocs)
	}
}

// TestVerifyAllocs pins Verify to the pooled, allocation-free signer.
func TestVerifyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	tok := benchToken(t)
	allocs := testing.AllocsPerRun(200, func() {
		if err := tok.Verify(exampleCert); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("Verify allocates %v times per call, budget 0", allocs)
	}
}

// TestBuildRefusesOversizedPayload checks that Build refuses, with
// ErrTooLarge, a payload Parse would refuse to inflate, and still builds
// one just under the limit.
func TestBuildRefusesOversizedPayload(t *testing.T) {
	params := func(n int) Params {
		p := benchParams
		p.Services = []Service{{Type: ServiceRTM2, UserID: "u", Permissions: []RTM2Permission{
			{ResourceType: 1, PermissionType: 1, Resources: []string{strings.Repeat("r", n)}}}}}
		return p
	}
	base := len(mustPayload(t, params(0)))
	fits := params(MaxPayloadSize - base)
	if n := len(mustPayload(t, fits)); n != MaxPayloadSize {
		t.Fatalf("set-up: payload of %d bytes, want %d", n, MaxPayloadSize)
	}
	tok, err := Build(fits)
	if err != nil {
		t.Fatalf("Build at the limit: %v", err)
	}
	if _, err := Parse(tok); err != nil {
		t.Fatalf("Parse of a token at the limit: %v", err)
	}
	if _, err := Build(params(MaxPayloadSize - base + 1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Build one byte over the limit: err = %v, want ErrTooLarge", err)
	}
}

// TestReleaseDropsLargeBuffers checks that a pooled encoder does not keep
// buffers, the token list included, beyond maxPooledBuf bytes.
func TestReleaseDropsLargeBuffers(t *testing.T) {
	e := &encoder{def: new(deflater)}
	e.buf = make([]byte, 0, maxPooledBuf+1)
	e.def.tokens = make([]uint32, 0, maxPooledBuf/4+1)
	e.release()
	if e.buf != nil || e.def.tokens != nil {
		t.Fatalf("release kept a %d-byte payload buffer and %d tokens", cap(e.buf), cap(e.def.tokens))
	}
}

// TestSignerLeavesNoKeyMaterial checks that after sign the signer's pooled
// buffer holds neither the certificate nor a padded block of the derived
// keys.
func TestSignerLeavesNoKeyMaterial(t *testing.T) {
	var s signer
	const ts, salt = 1_750_000_000, 12345678
	si := mustPayload(t, benchParams)
	s.sign(exampleCert, ts, salt, si)
	mac := func(key, msg []byte) []byte { m := hmac.New(sha256.New, key); m.Write(msg); return m.Sum(nil) }
	k1 := mac(binary.LittleEndian.AppendUint32(nil, ts), []byte(exampleCert))
	k2 := mac(binary.LittleEndian.AppendUint32(nil, salt), k1)
	secrets := map[string][]byte{"certificate": []byte(exampleCert)}
	for name, k := range map[string][]byte{"k1": k1, "k2": k2} {
		for _, pad := range []byte{0x36, 0x5c} {
			block := make([]byte, 64)
			for i := range block {
				if i < len(k) {
					block[i] = k[i]
				}
				block[i] ^= pad
			}
			secrets[fmt.Sprintf("%s^%#x", name, pad)] = block
		}
	}
	buf := s.buf[:cap(s.buf)]
	for name, secret := range secrets {
		if bytes.Contains(buf, secret) {
			t.Errorf("the signer's buffer still holds %s", name)
		}
	}
}
