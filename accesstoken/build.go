package accesstoken

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"sync"
)

// Params are the inputs of Build.
type Params struct {
	AppID       string // 32 hex characters
	Certificate string // 32 hex characters, used as text
	IssueTs     uint32 // unix seconds; official builders use "now"
	Expire      uint32 // token lifetime in seconds after IssueTs, written as given
	Salt        uint32 // official builders draw it from [1, 99999999]
	Services    []Service
}

// Build mints an AccessToken2 (spec §3.13). Services are written stably
// sorted by type (duplicates kept), privileges in ascending id order, RTM2
// permissions by resource type then permission type; the caller's slices are
// not modified. The payload is compressed with compress/zlib at the default
// level (reproduced by a purpose-built encoder, deflate.go) and encoded with
// standard base64, so the string is byte-identical to the official Go
// builder's for the same inputs.
//
// Build is a pure function: it never reads the clock or a random source.
// Errors wrap ErrInvalidAppID, ErrInvalidCertificate, ErrNoServices,
// ErrInvalidService or ErrTooLarge: Build refuses a payload over
// MaxPayloadSize, which Parse (and so every check in this module) would
// refuse to inflate.
func Build(p Params) (string, error) {
	if err := checkAppID(p.AppID); err != nil {
		return "", err
	}
	if err := checkCert(p.Certificate); err != nil {
		return "", err
	}
	if len(p.Services) == 0 {
		return "", fmt.Errorf("%w: a token needs at least one service", ErrNoServices)
	}
	if len(p.Services) > 0xFFFF {
		return "", fmt.Errorf("%w: %d services, limit 65535", ErrInvalidService, len(p.Services))
	}
	for i := range p.Services {
		if t := p.Services[i].Type; !t.Known() {
			return "", fmt.Errorf("%w: services[%d] has unknown type %d", ErrInvalidService, i, uint16(t))
		}
	}

	e := encoderPool.Get().(*encoder)
	defer e.release()

	// Reserve room for the signature str in front of the signed region.
	const sigLen = 2 + sha256Size
	b := append(e.buf[:0], make([]byte, sigLen)...)
	b = appendStr(b, p.AppID)
	b = appendU32(b, p.IssueTs)
	b = appendU32(b, p.Expire)
	b = appendU32(b, p.Salt)
	b = appendU16(b, uint16(len(p.Services)))
	var err error
	// Stable order by type without sorting a copy: one pass per type.
	for typ := ServiceRTC; typ <= ServiceSTT; typ++ {
		for i := range p.Services {
			if p.Services[i].Type != typ {
				continue
			}
			if b, err = e.appendService(b, &p.Services[i]); err != nil {
				e.buf = b
				return "", fmt.Errorf("services[%d]: %w", i, err)
			}
		}
	}
	e.buf = b
	if len(b) > MaxPayloadSize {
		return "", fmt.Errorf("%w: payload of %d bytes, limit %d (Parse would refuse it)", ErrTooLarge, len(b), MaxPayloadSize)
	}
	sig := e.signer.sign(p.Certificate, p.IssueTs, p.Salt, b[sigLen:])
	b[0], b[1] = byte(len(sig)), byte(len(sig)>>8)
	copy(b[2:sigLen], sig[:])

	// The same bytes as compress/zlib at the default level (deflate.go).
	e.z = e.def.appendZlib(e.z[:0], b)
	n := len(Version2) + base64.StdEncoding.EncodedLen(len(e.z))
	if cap(e.out) < n {
		e.out = make([]byte, n)
	}
	out := e.out[:n]
	copy(out, Version2)
	base64.StdEncoding.Encode(out[len(Version2):], e.z)
	return string(out), nil
}

const sha256Size = 32

// encoder holds the reusable buffers and compressor of one Build call.
type encoder struct {
	buf    []byte // payload
	z      []byte // compressed payload
	out    []byte // token text
	privs  []Privilege
	perms  []RTM2Permission
	signer signer
	def    *deflater
}

var encoderPool = sync.Pool{New: func() any { return &encoder{def: new(deflater)} }}

func (e *encoder) release() {
	if cap(e.buf) > maxPooledBuf {
		e.buf = nil
	}
	if cap(e.z) > maxPooledBuf {
		e.z = nil
	}
	if cap(e.out) > maxPooledBuf {
		e.out = nil
	}
	if cap(e.signer.buf) > maxPooledBuf {
		e.signer.buf = nil
	}
	if cap(e.def.tokens)*4 > maxPooledBuf { // 4 bytes a token
		e.def.tokens = nil
	}
	clear(e.perms) // drop references to the caller's strings
	e.perms = e.perms[:0]
	encoderPool.Put(e)
}

func (e *encoder) appendService(b []byte, s *Service) ([]byte, error) {
	privs, err := sortedPrivileges(s.Privileges, &e.privs)
	if err != nil {
		return b, err
	}
	b = appendU16(b, uint16(s.Type))
	b = appendPrivileges(b, privs)
	switch s.Type {
	case ServiceRTC:
		return appendStrs(b, "channelName", s.Channel, "uid", s.Account)
	case ServiceRTM, ServiceChat:
		return appendStrs(b, "userId", s.UserID)
	case ServiceStreaming, ServiceFCDN:
		return appendStrs(b, "channelName", s.Channel, "account", s.Account)
	case ServiceAPaaS:
		if b, err = appendStrs(b, "roomUuid", s.RoomUUID, "userUuid", s.UserUUID); err != nil {
			return b, err
		}
		return appendU16(b, uint16(s.Role)), nil
	case ServiceRTM2:
		if b, err = appendStrs(b, "userId", s.UserID); err != nil {
			return b, err
		}
		return e.appendPermissions(b, s.Permissions)
	}
	return b, nil // FPA, ConvoAI, STT: no tail
}

// appendPermissions writes the RTM2 permission block: resource types
// ascending, permission types ascending within each, resources in the order
// given (entries with the same pair are merged in order).
func (e *encoder) appendPermissions(b []byte, perms []RTM2Permission) ([]byte, error) {
	ps := append(e.perms[:0], perms...)
	e.perms = ps
	// Insertion sort: stable, allocation-free, and the lists are tiny.
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && permLess(&ps[j], &ps[j-1]); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
	nTypes := 0
	for i := range ps {
		if i == 0 || ps[i].ResourceType != ps[i-1].ResourceType {
			nTypes++
		}
	}
	b = appendU16(b, uint16(nTypes))
	for i := 0; i < len(ps); {
		rt := ps[i].ResourceType
		j := i
		nPerms := 0
		for j < len(ps) && ps[j].ResourceType == rt {
			if j == i || ps[j].PermissionType != ps[j-1].PermissionType {
				nPerms++
			}
			j++
		}
		b = appendU16(b, rt)
		b = appendU16(b, uint16(nPerms))
		for k := i; k < j; {
			pt := ps[k].PermissionType
			l, nRes := k, 0
			for l < j && ps[l].PermissionType == pt {
				nRes += len(ps[l].Resources)
				l++
			}
			if nRes > 0xFFFF {
				return b, fmt.Errorf("%w: %d resources for one permission, limit 65535", ErrInvalidService, nRes)
			}
			b = appendU16(b, pt)
			b = appendU16(b, uint16(nRes))
			for ; k < l; k++ {
				for _, r := range ps[k].Resources {
					var err error
					if b, err = appendStrs(b, "resource", r); err != nil {
						return b, err
					}
				}
			}
		}
		i = j
	}
	return b, nil
}

func permLess(a, b *RTM2Permission) bool {
	if a.ResourceType != b.ResourceType {
		return a.ResourceType < b.ResourceType
	}
	return a.PermissionType < b.PermissionType
}

// appendStrs appends str fields given as name/value pairs, checking that
// each fits its 16-bit length prefix.
func appendStrs(b []byte, nameValue ...string) ([]byte, error) {
	for i := 0; i+1 < len(nameValue); i += 2 {
		if v := nameValue[i+1]; len(v) > 0xFFFF {
			return b, fmt.Errorf("%w: %s is %d bytes, limit 65535", ErrInvalidService, nameValue[i], len(v))
		}
		b = appendStr(b, nameValue[i+1])
	}
	return b, nil
}

func appendU16(b []byte, v uint16) []byte { return append(b, byte(v), byte(v>>8)) }

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func appendStr(b []byte, s string) []byte { return append(appendU16(b, uint16(len(s))), s...) }

func appendBytes(b, p []byte) []byte { return append(appendU16(b, uint16(len(p))), p...) }

func appendPrivileges(b []byte, privs []Privilege) []byte {
	b = appendU16(b, uint16(len(privs)))
	for _, p := range privs {
		b = appendU16(b, p.ID)
		b = appendU32(b, p.Value)
	}
	return b
}

// Role is an RTC builder role. Tokens do not store it; it only selects the
// privileges RTCService grants.
type Role int

// RTC roles.
const (
	RolePublisher  Role = 1 // join channel and publish audio, video and data
	RoleSubscriber Role = 2 // join channel only
)

// RTMService returns an RTM (signaling login) service for userID whose login
// privilege lasts expire seconds after the token's IssueTs.
func RTMService(userID string, expire uint32) Service {
	return Service{Type: ServiceRTM, UserID: userID, Privileges: []Privilege{{ID: PrivRTMLogin, Value: expire}}}
}

// RTCService returns an RTC service for a channel and account (use
// UIDAccount for a numeric uid). A publisher gets privileges 1–4, any other
// role only privilege 1 (join), as the official builder does; each value is
// expire.
func RTCService(channel, account string, role Role, expire uint32) Service {
	privs := []Privilege{{ID: PrivJoinChannel, Value: expire}}
	if role == RolePublisher {
		privs = append(privs,
			Privilege{ID: PrivPublishAudio, Value: expire},
			Privilege{ID: PrivPublishVideo, Value: expire},
			Privilege{ID: PrivPublishData, Value: expire})
	}
	return Service{Type: ServiceRTC, Channel: channel, Account: account, Privileges: privs}
}

// UIDAccount returns the RTC uid field for a numeric uid: "" for 0 (the
// wildcard), else its decimal text.
func UIDAccount(uid uint32) string {
	if uid == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(uid), 10)
}
