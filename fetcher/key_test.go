package fetcher

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// keyByConcat is how Key was first written; the appending Key must give
// the same strings, since callers may have stored keys.
func keyByConcat(r Request) string {
	if r.Kind == KindRTM {
		return "rtm\x00" + r.UserID + "\x00" + strconv.FormatInt(int64(r.TTL), 10)
	}
	who := "#" + strconv.FormatUint(uint64(r.UID), 10)
	if r.Account != "" {
		who = "@" + r.Account
	}
	role := r.Role
	if role == 0 {
		role = RolePublisher
	}
	return r.Kind.String() + "\x00" + r.Channel + "\x00" + who + "\x00" +
		strconv.Itoa(int(role)) + "\x00" + strconv.FormatInt(int64(r.TTL), 10)
}

func TestKeyUnchanged(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, r := range []Request{
		{Kind: KindRTM, UserID: "alice"},
		{Kind: KindRTM, UserID: "", TTL: -time.Second},
		{Kind: KindRTM, UserID: long, TTL: time.Hour},
		{Kind: KindRTC, Channel: "room", UID: 42, Role: RoleSubscriber, TTL: 90 * time.Second},
		{Kind: KindRTC, Channel: "room", Account: "0", TTL: MaxTTL},
		{Kind: KindRTC, Channel: long, Account: long, Role: Role(-7)},
		{Kind: KindRTC, UID: 1<<32 - 1},
		{Kind: Kind(9), UserID: "u", Channel: "c"},
		{},
	} {
		if got, want := r.Key(), keyByConcat(r); got != want {
			t.Errorf("Key(%+v) = %q, want %q", r, got, want)
		}
	}
	if a, b := (Request{Kind: KindRTM, UserID: "a"}).Key(), (Request{Kind: KindRTM, UserID: "a", TTL: 1}).Key(); a == b {
		t.Errorf("different TTLs share key %q", a)
	}
}
