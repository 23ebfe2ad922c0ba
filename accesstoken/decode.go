package accesstoken

import (
	"strconv"
	"unsafe"
)

// decoder reads little-endian fields from a payload held in one string.
// Errors are sticky: after the first failure every read returns zero values
// and err keeps the first *ParseError.
type decoder struct {
	s   string
	off int
	svc int // index of the service being read, -1 in the header
	err *ParseError
}

func (d *decoder) fail(field string) {
	if d.err != nil {
		return
	}
	if d.svc >= 0 {
		field = "services[" + strconv.Itoa(d.svc) + "]." + field
	}
	d.err = &ParseError{Offset: d.off, Field: field, Err: errShort}
}

// has reports whether n more bytes are available, recording a failure for
// field otherwise.
func (d *decoder) has(n int, field string) bool {
	if d.err != nil {
		return false
	}
	if n > len(d.s)-d.off {
		d.fail(field)
		return false
	}
	return true
}

func (d *decoder) u16(field string) uint16 {
	if !d.has(2, field) {
		return 0
	}
	v := uint16(d.s[d.off]) | uint16(d.s[d.off+1])<<8
	d.off += 2
	return v
}

func (d *decoder) u32(field string) uint32 {
	if !d.has(4, field) {
		return 0
	}
	s := d.s[d.off : d.off+4]
	v := uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
	d.off += 4
	return v
}

// str reads a u16 byte count and that many bytes, as a substring of d.s.
func (d *decoder) str(field string) string {
	if !d.has(2, field) {
		return ""
	}
	n := int(d.s[d.off]) | int(d.s[d.off+1])<<8
	if !d.has(2+n, field) {
		return ""
	}
	v := d.s[d.off+2 : d.off+2+n]
	d.off += 2 + n
	return v
}

// privileges reads a map16→32 and appends its entries to dst.
func (d *decoder) privileges(dst []Privilege, field string) []Privilege {
	n := int(d.u16(field))
	if !d.has(6*n, field) {
		return dst
	}
	for range n {
		s := d.s[d.off : d.off+6]
		dst = append(dst, Privilege{
			ID:    uint16(s[0]) | uint16(s[1])<<8,
			Value: uint32(s[2]) | uint32(s[3])<<8 | uint32(s[4])<<16 | uint32(s[5])<<24,
		})
		d.off += 6
	}
	return dst
}

// tokenBlock lets a token with one service, up to four privileges and a
// payload of up to blockText bytes (every token an RTM login or an RTC
// channel needs) be decoded with a single allocation. Tokens with more get
// their services, privileges or payload allocated on their own.
type tokenBlock struct {
	tok   Token
	svcs  [1]Service
	privs [4]Privilege
	// text holds the payload when it fits. The token's string fields
	// point into it (see decodePayload), so it is written once, before
	// any of them is made, and never again.
	text [blockText]byte
}

// blockText makes a tokenBlock 632 bytes on 64-bit platforms: with the
// allocator's 8-byte header for objects with pointers, exactly its 640-byte
// size class (TestTokenBlockSize).
const blockText = 336

// decodePayload decodes an inflated AccessToken2 payload (spec §3.2). The
// token keeps a copy of it; payload itself is not retained.
func decodePayload(payload []byte) (*Token, error) {
	blk := new(tokenBlock)
	// One string for the whole payload, every string field a slice of it:
	// in the block itself when it fits, saving an allocation per Parse.
	var p string
	if n := len(payload); n > 0 && n <= blockText {
		copy(blk.text[:], payload)
		p = unsafe.String(&blk.text[0], n) // immutable from here on
	} else {
		p = string(payload)
	}
	d := decoder{s: p, svc: -1}
	t := &blk.tok
	t.Version, t.Complete = Version2, true
	t.sig = d.str("signature")
	signedStart := d.off
	t.AppID = d.str("appId")
	t.IssueTs = d.u32("issueTs")
	t.Expire = d.u32("expire")
	t.Salt = d.u32("salt")
	count := int(d.u16("serviceCount"))
	if d.err != nil {
		return nil, d.err
	}
	t.signed = p[signedStart:]

	svcs := blk.svcs[:0]
	if count > len(blk.svcs) {
		// Every record takes at least 4 bytes (type and privilege count),
		// which bounds the allocation a hostile count can cause.
		svcs = make([]Service, 0, min(count, (len(p)-d.off)/4, 64))
	}
	// All privileges share one backing array; a service's slice is fixed
	// up once the array has stopped growing.
	privs := blk.privs[:0]
	for i := range count {
		d.svc = i
		typ := ServiceType(d.u16("type"))
		if d.err != nil {
			return nil, d.err
		}
		if !typ.Known() {
			t.Complete = false
			break
		}
		start := len(privs)
		privs = d.privileges(privs, "privileges")
		svcs = append(svcs, Service{Type: typ})
		s := &svcs[len(svcs)-1]
		// Only the length matters for now: privs may still move when it
		// grows, so the slices are re-pointed after the loop.
		s.Privileges = privs[start:len(privs):len(privs)]
		d.tail(s)
		if d.err != nil {
			return nil, d.err
		}
	}
	// Point every service at its run of the final privileges array.
	off := 0
	for i := range svcs {
		n := len(svcs[i].Privileges)
		svcs[i].Privileges = privs[off : off+n : off+n]
		if n == 0 {
			svcs[i].Privileges = nil
		}
		off += n
	}
	t.Services = svcs
	return t, nil
}

// tail reads the type-specific fields of a service record (spec §3.3).
func (d *decoder) tail(s *Service) {
	switch s.Type {
	case ServiceRTC:
		s.Channel = d.str("channelName")
		s.Account = d.str("uid")
	case ServiceRTM, ServiceChat:
		s.UserID = d.str("userId")
	case ServiceStreaming, ServiceFCDN:
		s.Channel = d.str("channelName")
		s.Account = d.str("account")
	case ServiceAPaaS:
		s.RoomUUID = d.str("roomUuid")
		s.UserUUID = d.str("userUuid")
		s.Role = int16(d.u16("role"))
	case ServiceRTM2:
		s.UserID = d.str("userId")
		s.Permissions = d.permissions()
	}
}

// permissions reads the RTM2 permission block, one RTM2Permission per
// (resource type, permission type) pair.
func (d *decoder) permissions() []RTM2Permission {
	var perms []RTM2Permission
	nTypes := int(d.u16("permissions.resourceTypeCount"))
	for range nTypes {
		rt := d.u16("permissions.resourceType")
		nPerms := int(d.u16("permissions.permissionCount"))
		for range nPerms {
			pt := d.u16("permissions.permissionType")
			nRes := int(d.u16("permissions.resourceCount"))
			// Each resource takes at least its 2-byte length.
			if !d.has(2*nRes, "permissions.resources") {
				return nil
			}
			var res []string
			if nRes > 0 {
				res = make([]string, nRes)
			}
			for k := range res {
				res[k] = d.str("permissions.resource")
			}
			if d.err != nil {
				return nil
			}
			perms = append(perms, RTM2Permission{ResourceType: rt, PermissionType: pt, Resources: res})
		}
		if d.err != nil {
			return nil
		}
	}
	return perms
}
