package accesstoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
)

// isHex32 reports whether s is exactly 32 hexadecimal characters (either
// case), the form of app IDs and app certificates.
func isHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func checkAppID(appID string) error {
	if !isHex32(appID) {
		return fmt.Errorf("%w: want 32 hexadecimal characters, got %d characters", ErrInvalidAppID, len(appID))
	}
	return nil
}

// checkCert never puts the certificate itself into the error.
func checkCert(cert string) error {
	if !isHex32(cert) {
		return fmt.Errorf("%w: want 32 hexadecimal characters", ErrInvalidCertificate)
	}
	return nil
}

// signingKey derives the AccessToken2 signing key (spec §3.6): the
// certificate is used as ASCII text, not hex-decoded.
func signingKey(cert string, issueTs, salt uint32) []byte {
	var le [4]byte
	binary.LittleEndian.PutUint32(le[:], issueTs)
	m := hmac.New(sha256.New, le[:])
	io.WriteString(m, cert)
	k1 := m.Sum(nil)
	binary.LittleEndian.PutUint32(le[:], salt)
	m = hmac.New(sha256.New, le[:])
	m.Write(k1)
	return m.Sum(k1[:0])
}

// sign returns the AccessToken2 signature of the signed region si.
func sign(cert string, issueTs, salt uint32, si []byte) []byte {
	m := hmac.New(sha256.New, signingKey(cert, issueTs, salt))
	m.Write(si)
	return m.Sum(nil)
}

// Verify checks the signature of a parsed 007 token against the app
// certificate. It hashes the signed bytes exactly as received, so it works
// for partial tokens (Complete == false) too, and compares in constant time.
//
// It returns nil, or an error wrapping ErrInvalidSignature,
// ErrInvalidCertificate (cert is not 32 hex characters), ErrInvalidAppID
// (the token's app ID is not 32 hex characters, which the official verifiers
// refuse as well) or, for 006 tokens, ErrUnsupportedVersion: their signature
// also covers the channel name and uid, so use VerifyLegacy.
func (t *Token) Verify(cert string) error {
	if t.Legacy != nil || t.Version == Version1 {
		return fmt.Errorf("%w: a 006 signature covers the channel name and uid; use VerifyLegacy", ErrUnsupportedVersion)
	}
	if err := checkCert(cert); err != nil {
		return err
	}
	if err := checkAppID(t.AppID); err != nil {
		return err
	}
	if t.signed == "" {
		return fmt.Errorf("%w: token was not produced by Parse", ErrInvalidSignature)
	}
	sg := signerPool.Get().(*signer)
	sum := signText(sg, cert, t.IssueTs, t.Salt, t.signed)
	putSigner(sg)
	if !hmac.Equal(sum[:], []byte(t.sig)) {
		return fmt.Errorf("%w: signature does not match the certificate", ErrInvalidSignature)
	}
	return nil
}
