package accesstoken

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// signer computes the AccessToken2 signature for Build and Verify without
// allocating: the three HMAC-SHA256 steps of sign (verify.go), each as two
// sha256.Sum256 calls over a reusable buffer (RFC 2104:
// H(K^opad || H(K^ipad || msg))).
type signer struct{ buf []byte }

// sign returns the signature of the signed region si.
func (s *signer) sign(cert string, issueTs, salt uint32, si []byte) [sha256Size]byte {
	return signText(s, cert, issueTs, salt, si)
}

// signText is sign for a signed region held as bytes (Build) or as a string
// (Verify), without converting, and so copying, either.
func signText[T string | []byte](s *signer, cert string, issueTs, salt uint32, si T) [sha256Size]byte {
	var le [4]byte
	binary.LittleEndian.PutUint32(le[:], issueTs)
	k1 := hmacText(s, le[:], cert)
	binary.LittleEndian.PutUint32(le[:], salt)
	k2 := hmacText(s, le[:], k1[:])
	return hmacText(s, k2[:], si)
}

// signerPool holds the signers of Verify (Build's live in its encoders).
var signerPool = sync.Pool{New: func() any { return new(signer) }}

func putSigner(s *signer) {
	if cap(s.buf) > maxPooledBuf {
		s.buf = nil
	}
	signerPool.Put(s)
}

// hmacText computes HMAC-SHA256(key, msg) in s.buf.
func hmacText[T string | []byte](s *signer, key []byte, msg T) [sha256Size]byte {
	const block = 64 // SHA-256 block size
	var k [block]byte
	if len(key) > block {
		sum := sha256.Sum256(key)
		copy(k[:], sum[:])
	} else {
		copy(k[:], key)
	}
	b := s.buf[:0]
	for _, c := range k {
		b = append(b, c^0x36)
	}
	b = append(b, msg...)
	inner := sha256.Sum256(b)
	b = b[:0] // keeps the capacity msg needed
	for _, c := range k {
		b = append(b, c^0x5c)
	}
	s.buf = append(b, inner[:]...)
	sum := sha256.Sum256(s.buf)
	// The key XOR opad is the last key material in the pooled buffer (the
	// ipad block lay at the same place, and each step's message, the
	// certificate in the first, is overwritten by the inner hash or by the
	// next step); do not leave it there.
	clear(s.buf[:block])
	return sum
}
