package accesstoken

// The straightforward implementation: fresh zlib readers and writers per
// call, bytes.Reader + binary.Read for every field, a string per field. It
// is the baseline of the benchmarks and the oracle of the differential tests
// and fuzzing: Parse and Build must agree with it exactly.

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"
)

var naiveBase64 = strings.NewReplacer("\r", "", "\n", "", "\t", "", "-", "+", " ", "+", "_", "/")

func naiveParse(s string) (*Token, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxTokenLen {
		return nil, ErrTooLarge
	}
	if s == "" {
		return nil, ErrMalformed
	}
	var version, body string
	switch {
	case strings.HasPrefix(s, "007"):
		version, body = "007", s[3:]
	case strings.HasPrefix(s, "006"):
		version, body = "006", s[3:]
	default:
		return nil, ErrUnsupportedVersion
	}
	if version == "006" {
		return naiveParse006(body)
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(naiveBase64.Replace(body), "="))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	defer zr.Close()
	payload, err := io.ReadAll(io.LimitReader(zr, MaxPayloadSize+1))
	if len(payload) > MaxPayloadSize { // over the cap, whatever follows
		return nil, ErrTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	r := bytes.NewReader(payload)
	t := &Token{Version: "007", Complete: true}
	sig, err := naiveStr(r)
	if err != nil {
		return nil, err
	}
	t.sig = sig
	t.signed = string(payload[len(payload)-r.Len():])
	if t.AppID, err = naiveStr(r); err != nil {
		return nil, err
	}
	var head struct {
		IssueTs, Expire, Salt uint32
		Count                 uint16
	}
	if err := binary.Read(r, binary.LittleEndian, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	t.IssueTs, t.Expire, t.Salt = head.IssueTs, head.Expire, head.Salt
	for range int(head.Count) {
		var typ uint16
		if err := binary.Read(r, binary.LittleEndian, &typ); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if typ < 1 || typ > 10 {
			t.Complete = false
			break
		}
		s := Service{Type: ServiceType(typ)}
		if s.Privileges, err = naivePrivileges(r); err != nil {
			return nil, err
		}
		if err := naiveTail(r, &s); err != nil {
			return nil, err
		}
		t.Services = append(t.Services, s)
	}
	if t.Services == nil {
		t.Services = []Service{}
	}
	return t, nil
}

func naiveParse006(body string) (*Token, error) {
	if len(body) < 32 {
		return nil, ErrMalformed
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(naiveBase64.Replace(body[32:]), "="))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(raw) > MaxPayloadSize {
		return nil, ErrTooLarge
	}
	r := bytes.NewReader(raw)
	l := &Legacy{}
	if l.sig, err = naiveStr(r); err != nil {
		return nil, err
	}
	if err := binary.Read(r, binary.LittleEndian, &l.CRCChannel); err != nil {
		return nil, ErrMalformed
	}
	if err := binary.Read(r, binary.LittleEndian, &l.CRCUid); err != nil {
		return nil, ErrMalformed
	}
	if l.msg, err = naiveStr(r); err != nil {
		return nil, err
	}
	m := strings.NewReader(l.msg)
	var salt uint32
	if err := binary.Read(m, binary.LittleEndian, &salt); err != nil {
		return nil, ErrMalformed
	}
	if err := binary.Read(m, binary.LittleEndian, &l.Ts); err != nil {
		return nil, ErrMalformed
	}
	if l.Privileges, err = naivePrivileges(m); err != nil {
		return nil, err
	}
	t := &Token{Version: "006", AppID: body[:32], Salt: salt, Complete: true, Legacy: l}
	if l.Ts >= 86400 {
		t.IssueTs = l.Ts - 86400
	}
	t.Expire = l.Ts - t.IssueTs
	return t, nil
}

func naiveStr(r io.Reader) (string, error) {
	var n uint16
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return string(b), nil
}

func naivePrivileges(r io.Reader) ([]Privilege, error) {
	var n uint16
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var out []Privilege
	for range int(n) {
		var p Privilege
		if err := binary.Read(r, binary.LittleEndian, &p.ID); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if err := binary.Read(r, binary.LittleEndian, &p.Value); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func naiveTail(r io.Reader, s *Service) error {
	var err error
	str := func(dst *string) {
		if err == nil {
			*dst, err = naiveStr(r)
		}
	}
	u16 := func(dst *uint16) {
		if err == nil {
			if e := binary.Read(r, binary.LittleEndian, dst); e != nil {
				err = fmt.Errorf("%w: %v", ErrMalformed, e)
			}
		}
	}
	switch s.Type {
	case ServiceRTC, ServiceStreaming, ServiceFCDN:
		str(&s.Channel)
		str(&s.Account)
	case ServiceRTM, ServiceChat:
		str(&s.UserID)
	case ServiceAPaaS:
		str(&s.RoomUUID)
		str(&s.UserUUID)
		var role uint16
		u16(&role)
		s.Role = int16(role)
	case ServiceRTM2:
		str(&s.UserID)
		var nTypes uint16
		u16(&nTypes)
		for range int(nTypes) {
			var rt, nPerms uint16
			u16(&rt)
			u16(&nPerms)
			for range int(nPerms) {
				p := RTM2Permission{ResourceType: rt}
				var nRes uint16
				u16(&p.PermissionType)
				u16(&nRes)
				if err != nil {
					return err
				}
				for range int(nRes) {
					var res string
					str(&res)
					p.Resources = append(p.Resources, res)
				}
				s.Permissions = append(s.Permissions, p)
			}
		}
	}
	return err
}

func naiveBuild(p Params) (string, error) {
	if !isHex32(p.AppID) {
		return "", ErrInvalidAppID
	}
	if !isHex32(p.Certificate) {
		return "", ErrInvalidCertificate
	}
	if len(p.Services) == 0 {
		return "", ErrNoServices
	}
	svcs := append([]Service(nil), p.Services...)
	sort.SliceStable(svcs, func(i, j int) bool { return svcs[i].Type < svcs[j].Type })
	var si bytes.Buffer
	w := func(v any) { binary.Write(&si, binary.LittleEndian, v) }
	ws := func(s string) { w(uint16(len(s))); si.WriteString(s) }
	ws(p.AppID)
	w(p.IssueTs)
	w(p.Expire)
	w(p.Salt)
	w(uint16(len(svcs)))
	for _, s := range svcs {
		privs := append([]Privilege(nil), s.Privileges...)
		sort.Slice(privs, func(i, j int) bool { return privs[i].ID < privs[j].ID })
		w(uint16(s.Type))
		w(uint16(len(privs)))
		for _, pr := range privs {
			w(pr.ID)
			w(pr.Value)
		}
		switch s.Type {
		case ServiceRTC, ServiceStreaming, ServiceFCDN:
			ws(s.Channel)
			ws(s.Account)
		case ServiceRTM, ServiceChat:
			ws(s.UserID)
		case ServiceAPaaS:
			ws(s.RoomUUID)
			ws(s.UserUUID)
			w(s.Role)
		case ServiceRTM2:
			ws(s.UserID)
			// Group by resource type, then permission type.
			byType := map[uint16]map[uint16][]string{}
			for _, perm := range s.Permissions {
				if byType[perm.ResourceType] == nil {
					byType[perm.ResourceType] = map[uint16][]string{}
				}
				byType[perm.ResourceType][perm.PermissionType] = append(byType[perm.ResourceType][perm.PermissionType], perm.Resources...)
			}
			w(uint16(len(byType)))
			for _, rt := range sortedKeys(byType) {
				w(rt)
				w(uint16(len(byType[rt])))
				for _, pt := range sortedKeys(byType[rt]) {
					w(pt)
					w(uint16(len(byType[rt][pt])))
					for _, res := range byType[rt][pt] {
						ws(res)
					}
				}
			}
		}
	}
	le := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	mac := func(key, msg []byte) []byte { m := hmac.New(sha256.New, key); m.Write(msg); return m.Sum(nil) }
	sig := mac(mac(le(p.Salt), mac(le(p.IssueTs), []byte(p.Certificate))), si.Bytes())
	var payload bytes.Buffer
	binary.Write(&payload, binary.LittleEndian, uint16(len(sig)))
	payload.Write(sig)
	payload.Write(si.Bytes())
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(payload.Bytes())
	zw.Close()
	return "007" + base64.StdEncoding.EncodeToString(z.Bytes()), nil
}

func sortedKeys[V any](m map[uint16]V) []uint16 {
	keys := make([]uint16, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
