package accesstoken

import (
	"hash/crc32"
	"strconv"
	"strings"
	"time"
)

// Token format versions: the three-character prefix of a token.
const (
	Version2 = "007" // AccessToken2
	Version1 = "006" // AccessToken (legacy)
)

// ServiceType identifies a service record in an AccessToken2.
type ServiceType uint16

// Service types of AccessToken2 (spec §3.4).
const (
	ServiceRTC       ServiceType = 1
	ServiceRTM       ServiceType = 2
	ServiceStreaming ServiceType = 3
	ServiceFPA       ServiceType = 4
	ServiceChat      ServiceType = 5
	ServiceFCDN      ServiceType = 6
	ServiceAPaaS     ServiceType = 7
	ServiceRTM2      ServiceType = 8
	ServiceConvoAI   ServiceType = 9
	ServiceSTT       ServiceType = 10
)

var serviceNames = [...]string{"", "rtc", "rtm", "streaming", "fpa", "chat", "fcdn", "apaas", "rtm2", "convoai", "stt"}

// String returns the lower-case service name ("rtc", "rtm", …), or
// "ServiceType(N)" for a type this package does not know.
func (t ServiceType) String() string {
	if t.Known() {
		return serviceNames[t]
	}
	return "ServiceType(" + strconv.Itoa(int(t)) + ")"
}

// Known reports whether t is one of the service types 1–10 this package can
// decode and encode.
func (t ServiceType) Known() bool { return t >= ServiceRTC && t <= ServiceSTT }

// Privilege ids of the services this library cares about (spec §3.4).
const (
	PrivJoinChannel  uint16 = 1 // RTC: join channel
	PrivPublishAudio uint16 = 2 // RTC: publish audio
	PrivPublishVideo uint16 = 3 // RTC: publish video
	PrivPublishData  uint16 = 4 // RTC: publish data stream
	PrivRTMLogin     uint16 = 1 // RTM, RTM2: login
)

// Privilege is one entry of a service's privilege map. In a 007 token Value
// is a number of seconds after the token's IssueTs; in a 006 token it is an
// absolute unix time. 0 means the privilege has no deadline of its own.
type Privilege struct {
	ID    uint16
	Value uint32
}

// RTM2Permission is one (resource type, permission type) entry of an RTM2
// service's permission block with its resources, in token order.
// Resource types: 0 message channels, 1 stream channels, 2 group channels,
// 3 server groups, 4 users; permission types: 0 read, 1 write.
type RTM2Permission struct {
	ResourceType   uint16
	PermissionType uint16
	Resources      []string
}

// Service is one service record of an AccessToken2. Only the fields of its
// type are meaningful; the others are empty.
type Service struct {
	Type       ServiceType
	Privileges []Privilege // in token order (ascending id in tokens from official builders)

	Channel string // RTC, Streaming and FCDN channel name
	Account string // RTC uid field ("" is the wildcard uid 0); Streaming and FCDN account
	UserID  string // RTM, Chat and RTM2 user id

	RoomUUID string // APaaS room
	UserUUID string // APaaS user
	Role     int16  // APaaS role (-1 when unset)

	Permissions []RTM2Permission // RTM2 permission block
}

// Privilege returns the value of the first privilege with the given id.
func (s *Service) Privilege(id uint16) (value uint32, ok bool) {
	for _, p := range s.Privileges {
		if p.ID == id {
			return p.Value, true
		}
	}
	return 0, false
}

// Token is a decoded AccessToken2 ("007") or AccessToken ("006").
//
// For 006 tokens, which hold only an absolute "ts" (creation time + 24 h by
// every official builder), IssueTs is ts − 86400 (0 if ts is smaller) and
// Expire is ts − IssueTs, so ExpiresAt is exactly ts and IssuedAt is an
// approximation. Services is empty for 006; see Legacy.
//
// A Token returned by Parse is immutable in practice: its methods only read
// it, and it is safe for concurrent use as long as nobody modifies it.
type Token struct {
	Version  string    // Version2 or Version1
	AppID    string    // app ID, case preserved
	IssueTs  uint32    // unix seconds the token was issued
	Expire   uint32    // lifetime in seconds after IssueTs
	Salt     uint32    // random salt
	Services []Service // 007 services in token order; duplicates kept
	// Complete is false when parsing stopped at an unknown service type:
	// Services then holds the records before it. The signature still covers
	// the whole payload.
	Complete bool
	Legacy   *Legacy // non-nil for 006 tokens

	sig    string // signature bytes
	signed string // 007: raw signed region (appId to the end of the payload)
}

// Legacy holds the fields specific to a 006 token.
type Legacy struct {
	Ts         uint32      // absolute expiry of the token (creation time + 86400 by official builders)
	CRCChannel uint32      // IEEE CRC-32 of the channel name (the RTM user id for RTM tokens)
	CRCUid     uint32      // IEEE CRC-32 of the uid string; 0 for the empty uid
	Privileges []Privilege // values are absolute unix seconds, 0 = no deadline of its own

	sig string // signature bytes
	msg string // raw message bytes (salt, ts, privileges), as signed
}

// MatchChannel reports whether name has the channel-name CRC in the token.
// The legacy RTM builder stores the user account in the channel slot.
func (l *Legacy) MatchChannel(name string) bool {
	return crc32.ChecksumIEEE([]byte(name)) == l.CRCChannel
}

// MatchUID reports whether uid (its decimal text, or "" for uid 0) has the
// uid CRC in the token.
func (l *Legacy) MatchUID(uid string) bool {
	return crc32.ChecksumIEEE([]byte(uid)) == l.CRCUid
}

// String describes t for humans and logs: version, app ID, times and
// services. It leaves out the signature and the signed bytes, from which
// the token could be rebuilt, so printing a Token (or a *Token) with fmt's
// %v or %+v never reveals a usable token.
func (t Token) String() string {
	var b strings.Builder
	b.WriteString(t.Version)
	b.WriteString(" token for app ")
	b.WriteString(strconv.Quote(t.AppID))
	b.WriteString(", issued ")
	b.WriteString(t.IssuedAt().Format(time.RFC3339))
	b.WriteString(", expires ")
	b.WriteString(t.ExpiresAt().Format(time.RFC3339))
	if len(t.Services) > 0 {
		b.WriteString(", services")
		for i, s := range t.Services {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte(' ')
			b.WriteString(s.Type.String())
		}
	}
	if !t.Complete {
		b.WriteString(" (incomplete)")
	}
	return b.String()
}

// GoString is like String, for fmt's %#v.
func (t Token) GoString() string { return "accesstoken.Token{" + strconv.Quote(t.String()) + "}" }

// String describes l without its signature and signed message, like
// Token.String.
func (l Legacy) String() string {
	return "006 legacy fields: ts " + strconv.FormatUint(uint64(l.Ts), 10) +
		", " + strconv.Itoa(len(l.Privileges)) + " privileges"
}

// GoString is like String, for fmt's %#v.
func (l Legacy) GoString() string { return "accesstoken.Legacy{" + strconv.Quote(l.String()) + "}" }

// IssuedAt returns IssueTs as a UTC time.
func (t *Token) IssuedAt() time.Time { return time.Unix(int64(t.IssueTs), 0).UTC() }

// ExpiresAt returns the token deadline IssueTs + Expire as a UTC time,
// computed in 64 bits.
func (t *Token) ExpiresAt() time.Time {
	return time.Unix(int64(t.IssueTs)+int64(t.Expire), 0).UTC()
}

// Lifetime returns Expire as a duration.
func (t *Token) Lifetime() time.Duration { return time.Duration(t.Expire) * time.Second }

// Service returns the first service of the given type.
func (t *Token) Service(typ ServiceType) (*Service, bool) {
	for i := range t.Services {
		if t.Services[i].Type == typ {
			return &t.Services[i], true
		}
	}
	return nil, false
}

// PrivilegeExpiresAt returns when privilege id of service s ends, bounded by
// the token deadline: IssueTs + min(value, Expire), where a value of 0 means
// the token deadline. ok is false when s has no such privilege.
//
// For a 006 token pass s == nil: the legacy privileges are used, whose values
// are absolute (min(value, ts), 0 meaning ts).
func (t *Token) PrivilegeExpiresAt(s *Service, id uint16) (time.Time, bool) {
	if s == nil {
		if t.Legacy == nil {
			return time.Time{}, false
		}
		for _, p := range t.Legacy.Privileges {
			if p.ID == id {
				v := p.Value
				if v == 0 || v > t.Legacy.Ts {
					v = t.Legacy.Ts
				}
				return time.Unix(int64(v), 0).UTC(), true
			}
		}
		return time.Time{}, false
	}
	v, ok := s.Privilege(id)
	if !ok {
		return time.Time{}, false
	}
	if v == 0 || v > t.Expire {
		v = t.Expire
	}
	return time.Unix(int64(t.IssueTs)+int64(v), 0).UTC(), true
}
