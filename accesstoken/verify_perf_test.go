package accesstoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// naiveVerify is the straightforward Verify: the signing key derived with
// a fresh HMAC per step (as naiveBuild does), the signed bytes copied into
// a []byte, the signature compared with hmac.Equal.
func naiveVerify(t *Token, cert string) bool {
	le := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	mac := func(key, msg []byte) []byte { m := hmac.New(sha256.New, key); m.Write(msg); return m.Sum(nil) }
	key := mac(le(t.Salt), mac(le(t.IssueTs), []byte(cert)))
	return hmac.Equal(mac(key, []byte(t.signed)), []byte(t.sig))
}

// TestNaiveVerifyAgrees keeps the Verify baseline honest: it accepts the
// right certificate and refuses a wrong one, like Verify.
func TestNaiveVerifyAgrees(t *testing.T) {
	tok := benchToken(t)
	wrong := "0" + exampleCert[1:]
	if wrong == exampleCert {
		wrong = "1" + exampleCert[1:]
	}
	if !naiveVerify(tok, exampleCert) || tok.Verify(exampleCert) != nil {
		t.Fatal("right certificate refused")
	}
	if naiveVerify(tok, wrong) || tok.Verify(wrong) == nil {
		t.Fatal("wrong certificate accepted")
	}
}

// BenchmarkVerifyVsNaive compares Verify with the straightforward version
// in the same run (BenchmarkParse and BenchmarkBuild in bench_test.go do
// the same for Parse and Build).
func BenchmarkVerifyVsNaive(b *testing.B) {
	tok := benchToken(b)
	b.Run("naive", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !naiveVerify(tok, exampleCert) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := tok.Verify(exampleCert); err != nil {
				b.Fatal(err)
			}
		}
	})
}
