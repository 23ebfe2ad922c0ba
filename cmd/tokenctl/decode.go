package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

func init() {
	register(&command{
		name:    "decode",
		summary: "decode a 007 or 006 token without the certificate",
		usage:   "[--json] TOKEN",
		run:     runDecode,
	})
}

func runDecode(_ context.Context, args []string, env *cmdEnv) error {
	fs := newFlagSet("decode")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a summary")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("decode: want one TOKEN argument, got %d", len(pos))
	}
	tok, err := parseTokenArg(pos[0], env)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, decodedJSON(tok))
	}
	return writeSummary(env.Stdout, tok, env.Now())
}

// decodedJSON returns the JSON form of a token that "decode --json" prints.
func decodedJSON(t *accesstoken.Token) any {
	if l := t.Legacy; l != nil {
		return legacyJSON{
			Version: t.Version, AppID: t.AppID, Salt: t.Salt, Ts: l.Ts,
			CRCChannelName: l.CRCChannel, CRCUid: l.CRCUid, Privileges: privMap(l.Privileges),
		}
	}
	out := tokenJSON{
		Version: t.Version, AppID: t.AppID, IssueTs: t.IssueTs, Expire: t.Expire,
		IssuedAt: t.IssuedAt().Format(time.RFC3339), ExpiresAt: t.ExpiresAt().Format(time.RFC3339),
		Salt: t.Salt, Services: make([]serviceJSON, 0, len(t.Services)), Complete: t.Complete,
	}
	for _, s := range t.Services {
		out.Services = append(out.Services, serviceToJSON(s))
	}
	return out
}

type tokenJSON struct {
	Version   string        `json:"version"`
	AppID     string        `json:"appId"`
	IssueTs   uint32        `json:"issueTs"`
	Expire    uint32        `json:"expire"`
	IssuedAt  string        `json:"issuedAt"`
	ExpiresAt string        `json:"expiresAt"`
	Salt      uint32        `json:"salt"`
	Services  []serviceJSON `json:"services"`
	Complete  bool          `json:"complete"`
}

// serviceJSON carries only the fields of the service's type: the pointers
// of other types stay nil and are omitted.
type serviceJSON struct {
	Type        uint16           `json:"type"`
	Name        string           `json:"name"`
	Privileges  privMap          `json:"privileges"`
	ChannelName *string          `json:"channelName,omitempty"`
	UID         *string          `json:"uid,omitempty"`
	Account     *string          `json:"account,omitempty"`
	UserID      *string          `json:"userId,omitempty"`
	RoomUUID    *string          `json:"roomUuid,omitempty"`
	UserUUID    *string          `json:"userUuid,omitempty"`
	Role        *int16           `json:"role,omitempty"`
	Permissions []permissionJSON `json:"permissions,omitempty"`
}

type permissionJSON struct {
	ResourceType   uint16   `json:"resourceType"`
	PermissionType uint16   `json:"permissionType"`
	Resources      []string `json:"resources"`
}

type legacyJSON struct {
	Version        string  `json:"version"`
	AppID          string  `json:"appId"`
	Salt           uint32  `json:"salt"`
	Ts             uint32  `json:"ts"`
	CRCChannelName uint32  `json:"crcChannelName"`
	CRCUid         uint32  `json:"crcUid"`
	Privileges     privMap `json:"privileges"`
}

func serviceToJSON(s accesstoken.Service) serviceJSON {
	j := serviceJSON{Type: uint16(s.Type), Name: s.Type.String(), Privileges: privMap(s.Privileges)}
	switch s.Type {
	case accesstoken.ServiceRTC:
		j.ChannelName, j.UID = &s.Channel, &s.Account
	case accesstoken.ServiceStreaming, accesstoken.ServiceFCDN:
		j.ChannelName, j.Account = &s.Channel, &s.Account
	case accesstoken.ServiceRTM, accesstoken.ServiceChat:
		j.UserID = &s.UserID
	case accesstoken.ServiceAPaaS:
		j.RoomUUID, j.UserUUID, j.Role = &s.RoomUUID, &s.UserUUID, &s.Role
	case accesstoken.ServiceRTM2:
		j.UserID = &s.UserID
		j.Permissions = []permissionJSON{} // present even when empty
		for _, p := range s.Permissions {
			res := p.Resources
			if res == nil {
				res = []string{}
			}
			j.Permissions = append(j.Permissions, permissionJSON{p.ResourceType, p.PermissionType, res})
		}
	}
	return j
}

// privMap marshals privileges as {"<id>":value,…} in token order, with the
// values exactly as stored. A repeated id keeps its first value, as
// accesstoken.Service.Privilege does.
type privMap []accesstoken.Privilege

// MarshalJSON implements json.Marshaler.
func (m privMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	seen := make(map[uint16]bool, len(m))
	for _, p := range m {
		if seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		if len(seen) > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%d":%d`, p.ID, p.Value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeSummary prints a short human-readable description of t. It never
// prints the token or its signature.
func writeSummary(w io.Writer, t *accesstoken.Token, now time.Time) error {
	var b bytes.Buffer
	if l := t.Legacy; l != nil {
		fmt.Fprintf(&b, "AccessToken (006)\napp ID:    %s\n", t.AppID)
		fmt.Fprintf(&b, "expires:   %s\n", timeAndLeft(t.ExpiresAt(), now))
		fmt.Fprintf(&b, "channel:   crc32 %08x (the channel name is not in a 006 token)\n", l.CRCChannel)
		fmt.Fprintf(&b, "uid:       crc32 %08x\n", l.CRCUid)
		for _, p := range l.Privileges {
			until, _ := t.PrivilegeExpiresAt(nil, p.ID)
			fmt.Fprintf(&b, "  %s: until %s (stored %d)\n", accesstoken.LegacyPrivilegeName(p.ID), until.Format(time.RFC3339), p.Value)
		}
		_, err := w.Write(b.Bytes())
		return err
	}
	fmt.Fprintf(&b, "AccessToken2 (007)\napp ID:    %s\n", t.AppID)
	fmt.Fprintf(&b, "issued:    %s\n", t.IssuedAt().Format(time.RFC3339))
	fmt.Fprintf(&b, "expires:   %s, lifetime %s\n", timeAndLeft(t.ExpiresAt(), now), t.Lifetime())
	for i := range t.Services {
		s := &t.Services[i]
		fmt.Fprintf(&b, "service:   %s%s\n", s.Type, serviceWho(s))
		for _, p := range s.Privileges {
			until, _ := t.PrivilegeExpiresAt(s, p.ID)
			fmt.Fprintf(&b, "  %s: until %s (+%ds)\n", accesstoken.PrivilegeName(s.Type, p.ID), until.Format(time.RFC3339), p.Value)
		}
	}
	if !t.Complete {
		b.WriteString("incomplete: decoding stopped at a service type this tool does not know\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// serviceWho names the channel and user a service is for.
func serviceWho(s *accesstoken.Service) string {
	switch s.Type {
	case accesstoken.ServiceRTC:
		uid := strconv.Quote(s.Account)
		if s.Account == "" {
			uid = "0 (any)"
		}
		return fmt.Sprintf(" channel %q uid %s", s.Channel, uid)
	case accesstoken.ServiceStreaming, accesstoken.ServiceFCDN:
		return fmt.Sprintf(" channel %q account %q", s.Channel, s.Account)
	case accesstoken.ServiceRTM, accesstoken.ServiceChat:
		return fmt.Sprintf(" user %q", s.UserID)
	case accesstoken.ServiceRTM2:
		return fmt.Sprintf(" user %q, %d permission entries", s.UserID, len(s.Permissions))
	case accesstoken.ServiceAPaaS:
		return fmt.Sprintf(" room %q user %q role %d", s.RoomUUID, s.UserUUID, s.Role)
	}
	return ""
}

// timeAndLeft formats a deadline with the time left until it (or since).
func timeAndLeft(at, now time.Time) string {
	left := at.Sub(now).Truncate(time.Second)
	if left > 0 {
		return fmt.Sprintf("%s (in %s)", at.UTC().Format(time.RFC3339), left)
	}
	return fmt.Sprintf("%s (expired %s ago)", at.UTC().Format(time.RFC3339), -left)
}
