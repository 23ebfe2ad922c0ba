package accesstoken

import "strconv"

// privilegeNames maps service type → privilege id → name (spec §3.4).
var privilegeNames = map[ServiceType][]string{
	ServiceRTC:       {1: "join channel", 2: "publish audio", 3: "publish video", 4: "publish data stream"},
	ServiceRTM:       {1: "login"},
	ServiceStreaming: {1: "publish mixed stream", 2: "publish raw stream"},
	ServiceFPA:       {1: "login"},
	ServiceChat:      {1: "user", 2: "app"},
	ServiceFCDN:      {1: "publish", 2: "play"},
	ServiceAPaaS:     {1: "room user", 2: "user", 3: "app"},
	ServiceRTM2:      {1: "login"},
}

// PrivilegeName returns a human-readable name for privilege id of a service
// type ("join channel", "login", …), or "privilege N" when unknown.
func PrivilegeName(typ ServiceType, id uint16) string {
	if names := privilegeNames[typ]; int(id) < len(names) && names[id] != "" {
		return names[id]
	}
	return "privilege " + strconv.Itoa(int(id))
}

var legacyPrivilegeNames = map[uint16]string{
	1:    "join channel",
	2:    "publish audio",
	3:    "publish video",
	4:    "publish data stream",
	5:    "publish audio CDN",
	6:    "publish video CDN",
	7:    "request publish audio",
	8:    "request publish video",
	9:    "request publish data stream",
	10:   "invite publish audio",
	11:   "invite publish video",
	12:   "invite publish data stream",
	101:  "administrate channel",
	1000: "RTM login",
}

// LegacyPrivilegeName returns a human-readable name for a 006 privilege id,
// or "privilege N" when unknown.
func LegacyPrivilegeName(id uint16) string {
	if n, ok := legacyPrivilegeNames[id]; ok {
		return n
	}
	return "privilege " + strconv.Itoa(int(id))
}

// LegacyRoleName returns the name of a 006 builder role: "attendee" (0),
// "publisher" (1), "subscriber" (2), "admin" (101), or "role N".
func LegacyRoleName(role int) string {
	switch role {
	case 0:
		return "attendee"
	case 1:
		return "publisher"
	case 2:
		return "subscriber"
	case 101:
		return "admin"
	}
	return "role " + strconv.Itoa(role)
}
