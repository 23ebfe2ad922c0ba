package accesstoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
)

// legacyValidity is the lifetime every official 006 builder gives a token:
// ts is the creation time plus 24 hours.
const legacyValidity = 86400

// parse006 decodes the text after the "006" prefix (spec §4).
func parse006(body string) (*Token, error) {
	if len(body) < 32 {
		return nil, &ParseError{Offset: 0, Field: "appId", Err: errShort}
	}
	appID := body[:32]
	sc := getScratch()
	defer putScratch(sc)
	raw, err := sc.decodeBase64(body[32:])
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: content is %d bytes, limit %d", ErrTooLarge, len(raw), MaxPayloadSize)
	}
	content := string(raw)
	d := decoder{s: content, svc: -1}
	l := &Legacy{}
	l.sig = d.str("signature")
	l.CRCChannel = d.u32("crcChannelName")
	l.CRCUid = d.u32("crcUid")
	l.msg = d.str("message")
	if d.err != nil {
		return nil, d.err
	}
	// Read the message in place so error offsets stay absolute.
	m := decoder{s: content[:d.off], off: d.off - len(l.msg), svc: -1}
	salt := m.u32("message.salt")
	l.Ts = m.u32("message.ts")
	l.Privileges = m.privileges(nil, "message.privileges")
	if m.err != nil {
		return nil, m.err
	}
	t := &Token{Version: Version1, AppID: appID, Salt: salt, Complete: true, Legacy: l}
	if l.Ts >= legacyValidity {
		t.IssueTs = l.Ts - legacyValidity
	}
	t.Expire = l.Ts - t.IssueTs
	return t, nil
}

// legacySignature computes a 006 signature (spec §4.3).
func legacySignature(cert, appID, channel, uid, msg string) []byte {
	m := hmac.New(sha256.New, []byte(cert))
	io.WriteString(m, appID)
	io.WriteString(m, channel)
	io.WriteString(m, uid)
	io.WriteString(m, msg)
	return m.Sum(nil)
}

// VerifyLegacy checks the signature of a parsed 006 token. The signature
// covers the channel name and uid, which the token holds only as CRC-32
// values, so the caller supplies them: channel is the channel name (the user
// account for a legacy RTM token), uid the decimal uid or "" for uid 0 (and
// for RTM tokens).
//
// It returns nil, or an error wrapping ErrInvalidSignature (also when the
// channel or uid does not match the token's CRC), ErrInvalidCertificate, or
// ErrUnsupportedVersion for a 007 token.
func (t *Token) VerifyLegacy(cert, channel, uid string) error {
	l := t.Legacy
	if l == nil {
		return fmt.Errorf("%w: VerifyLegacy needs a 006 token; use Verify", ErrUnsupportedVersion)
	}
	if err := checkCert(cert); err != nil {
		return err
	}
	if !l.MatchChannel(channel) {
		return fmt.Errorf("%w: channel name does not match the token", ErrInvalidSignature)
	}
	if !l.MatchUID(uid) {
		return fmt.Errorf("%w: uid does not match the token", ErrInvalidSignature)
	}
	if !hmac.Equal(legacySignature(cert, t.AppID, channel, uid, l.msg), []byte(l.sig)) {
		return fmt.Errorf("%w: signature does not match the certificate", ErrInvalidSignature)
	}
	return nil
}

// LegacyParams are the inputs of BuildLegacy.
type LegacyParams struct {
	AppID       string // 32 hex characters
	Certificate string // 32 hex characters
	Channel     string // channel name (user account for a legacy RTM token)
	UID         string // decimal uid, "" for uid 0 and for RTM tokens
	Salt        uint32
	Ts          uint32      // absolute expiry; official builders use now + 86400
	Privileges  []Privilege // absolute unix seconds; 0 = no deadline of its own
}

// BuildLegacy mints a 006 AccessToken. Its output is byte-identical to the
// official builders' for the same inputs (006 is not compressed). Privileges
// are written in ascending id order.
func BuildLegacy(p LegacyParams) (string, error) {
	if err := checkAppID(p.AppID); err != nil {
		return "", err
	}
	if err := checkCert(p.Certificate); err != nil {
		return "", err
	}
	var scratch []Privilege
	privs, err := sortedPrivileges(p.Privileges, &scratch)
	if err != nil {
		return "", err
	}
	msg := make([]byte, 0, 10+6*len(privs))
	msg = appendU32(msg, p.Salt)
	msg = appendU32(msg, p.Ts)
	msg = appendPrivileges(msg, privs)
	sig := legacySignature(p.Certificate, p.AppID, p.Channel, p.UID, string(msg))

	content := make([]byte, 0, 46+len(msg))
	content = appendBytes(content, sig)
	content = appendU32(content, crc32.ChecksumIEEE([]byte(p.Channel)))
	content = appendU32(content, crc32.ChecksumIEEE([]byte(p.UID)))
	content = appendBytes(content, msg)
	return Version1 + p.AppID + base64.StdEncoding.EncodeToString(content), nil
}

// sortedPrivileges returns privs in ascending id order, copying into
// *scratch only when privs is not sorted already. Duplicate ids are an error.
func sortedPrivileges(privs []Privilege, scratch *[]Privilege) ([]Privilege, error) {
	if len(privs) > 0xFFFF {
		return nil, fmt.Errorf("%w: %d privileges, limit 65535", ErrInvalidService, len(privs))
	}
	sorted := true
	for i := 1; i < len(privs); i++ {
		if privs[i].ID < privs[i-1].ID {
			sorted = false
		}
	}
	if !sorted {
		*scratch = append((*scratch)[:0], privs...)
		privs = *scratch
		slices.SortFunc(privs, func(a, b Privilege) int { return int(a.ID) - int(b.ID) })
	}
	for i := 1; i < len(privs); i++ {
		if privs[i].ID == privs[i-1].ID {
			return nil, fmt.Errorf("%w: duplicate privilege id %d", ErrInvalidService, privs[i].ID)
		}
	}
	return privs, nil
}
