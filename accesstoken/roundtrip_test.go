package accesstoken

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// randParams draws Params with every service type, unsorted privileges,
// duplicate service types, empty, non-ASCII and long strings.
func randParams(r *rand.Rand) Params {
	hex32 := func() string {
		const digits = "0123456789abcdefABCDEF"
		b := make([]byte, 32)
		for i := range b {
			b[i] = digits[r.IntN(len(digits))]
		}
		return string(b)
	}
	str := func() string {
		switch r.IntN(6) {
		case 0:
			return ""
		case 1:
			return "Jürgen-用户-😀"
		case 2:
			return strings.Repeat("x", r.IntN(300))
		case 3:
			return UIDAccount(r.Uint32())
		default:
			return fmt.Sprintf("ch-%d", r.IntN(1000))
		}
	}
	p := Params{AppID: hex32(), Certificate: hex32(), IssueTs: r.Uint32(), Expire: r.Uint32N(200000), Salt: r.Uint32()}
	for range 1 + r.IntN(6) {
		s := Service{Type: ServiceType(1 + r.IntN(10))}
		ids := r.Perm(6)
		for _, id := range ids[:r.IntN(len(ids)+1)] {
			s.Privileges = append(s.Privileges, Privilege{ID: uint16(id + 1), Value: r.Uint32()})
		}
		setIdentity(&s, str, int16(r.IntN(1<<16)-1<<15))
		if s.Type == ServiceRTM2 {
			for _, pair := range r.Perm(10)[:r.IntN(4)] { // distinct (type, permission) pairs
				perm := RTM2Permission{ResourceType: uint16(pair / 2), PermissionType: uint16(pair % 2)}
				for range r.IntN(3) {
					perm.Resources = append(perm.Resources, str())
				}
				s.Permissions = append(s.Permissions, perm)
			}
		}
		p.Services = append(p.Services, s)
	}
	return p
}

// setIdentity fills the identity fields the type of s uses — channel and
// account, user ID, or room and user UUIDs and role — with strings from str.
func setIdentity(s *Service, str func() string, role int16) {
	switch s.Type {
	case ServiceRTC, ServiceStreaming, ServiceFCDN:
		s.Channel, s.Account = str(), str()
	case ServiceRTM, ServiceChat, ServiceRTM2:
		s.UserID = str()
	case ServiceAPaaS:
		s.RoomUUID, s.UserUUID, s.Role = str(), str(), role
	}
}

// canonical returns the services as Build writes them: stably sorted by
// type, privileges by id, RTM2 permissions by (resource type, permission).
func canonical(svcs []Service) []Service {
	out := slices.Clone(svcs)
	slices.SortStableFunc(out, func(a, b Service) int { return int(a.Type) - int(b.Type) })
	for i := range out {
		out[i].Privileges = slices.Clone(out[i].Privileges)
		slices.SortFunc(out[i].Privileges, func(a, b Privilege) int { return int(a.ID) - int(b.ID) })
		out[i].Permissions = slices.Clone(out[i].Permissions)
		slices.SortFunc(out[i].Permissions, func(a, b RTM2Permission) int {
			return int(a.ResourceType)<<16 + int(a.PermissionType) - (int(b.ResourceType)<<16 + int(b.PermissionType))
		})
	}
	return out
}

func TestBuildParseRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		p := randParams(r)
		orig := fmt.Sprintf("%+v", p)
		tok, err := Build(p)
		if err != nil {
			t.Fatalf("#%d Build: %v", i, err)
		}
		if got := fmt.Sprintf("%+v", p); got != orig {
			t.Fatalf("#%d Build modified its input", i)
		}
		if naive, _ := naiveBuild(p); naive != tok {
			t.Fatalf("#%d Build differs from the naive builder", i)
		}
		got, err := Parse(tok)
		if err != nil {
			t.Fatalf("#%d Parse: %v", i, err)
		}
		if got.AppID != p.AppID || got.IssueTs != p.IssueTs || got.Expire != p.Expire || got.Salt != p.Salt || !got.Complete {
			t.Fatalf("#%d header mismatch: %+v", i, got)
		}
		if want := canonical(p.Services); !reflect.DeepEqual(got.Services, want) {
			t.Fatalf("#%d services:\n got %+v\nwant %+v", i, got.Services, want)
		}
		if err := got.Verify(p.Certificate); err != nil {
			t.Fatalf("#%d Verify: %v", i, err)
		}
		// Any single different character fails, case included.
		pos := r.IntN(32)
		wrong := []byte(p.Certificate)
		for wrong[pos] == p.Certificate[pos] {
			wrong[pos] = "0123456789abcdefABCDEF"[r.IntN(22)]
		}
		if err := got.Verify(string(wrong)); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("#%d Verify with %q changed at %d = %v", i, wrong[pos], pos, err)
		}
	}
}

func TestBuildKeepsDuplicateServicesInOrder(t *testing.T) {
	p := Params{AppID: exampleAppID, Certificate: exampleCert, IssueTs: 1, Expire: 2, Salt: 3, Services: []Service{
		RTMService("u", 10),
		RTCService("b", "2", RoleSubscriber, 10),
		RTCService("a", "1", RolePublisher, 10),
		{Type: ServiceConvoAI},
	}}
	tok, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, s := range got.Services {
		order = append(order, s.Type.String()+":"+s.Channel+s.UserID)
	}
	if want := []string{"rtc:b", "rtc:a", "rtm:u", "convoai:"}; !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
	if s, ok := got.Service(ServiceRTC); !ok || s.Channel != "b" {
		t.Errorf("Service(RTC) = %+v, want the first RTC record", s)
	}
	if _, ok := got.Service(ServiceSTT); ok {
		t.Error("Service(STT) found a service that is not there")
	}
}

func TestBuildErrors(t *testing.T) {
	ok := Params{AppID: exampleAppID, Certificate: exampleCert, Services: []Service{RTMService("u", 1)}}
	with := func(f func(*Params)) Params { p := ok; p.Services = slices.Clone(ok.Services); f(&p); return p }
	tests := []struct {
		name string
		p    Params
		want error
	}{
		{"no services", with(func(p *Params) { p.Services = nil }), ErrNoServices},
		{"short app id", with(func(p *Params) { p.AppID = p.AppID[1:] }), ErrInvalidAppID},
		{"non-hex app id", with(func(p *Params) { p.AppID = "g" + p.AppID[1:] }), ErrInvalidAppID},
		{"long certificate", with(func(p *Params) { p.Certificate += "0" }), ErrInvalidCertificate},
		{"non-hex certificate", with(func(p *Params) { p.Certificate = "-" + p.Certificate[1:] }), ErrInvalidCertificate},
		{"unknown service type", with(func(p *Params) { p.Services[0].Type = 11 }), ErrInvalidService},
		{"service type zero", with(func(p *Params) { p.Services[0].Type = 0 }), ErrInvalidService},
		{"user id too long", with(func(p *Params) { p.Services[0].UserID = strings.Repeat("u", 1<<16) }), ErrInvalidService},
		{"duplicate privilege", with(func(p *Params) {
			p.Services[0].Privileges = []Privilege{{ID: 1, Value: 1}, {ID: 1, Value: 2}}
		}), ErrInvalidService},
	}
	for _, tt := range tests {
		tok, err := Build(tt.p)
		if !errors.Is(err, tt.want) || tok != "" {
			t.Errorf("%s: Build = %q, %v; want %v", tt.name, tok, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), exampleCert) {
			t.Errorf("%s: error echoes the certificate", tt.name)
		}
	}
}

func TestServiceHelpers(t *testing.T) {
	pub := RTCService("ch", UIDAccount(0), RolePublisher, 60)
	if pub.Type != ServiceRTC || pub.Channel != "ch" || pub.Account != "" || len(pub.Privileges) != 4 {
		t.Errorf("publisher = %+v", pub)
	}
	for id := uint16(1); id <= 4; id++ {
		if v, ok := pub.Privilege(id); !ok || v != 60 {
			t.Errorf("publisher privilege %d = %d, %v", id, v, ok)
		}
	}
	sub := RTCService("ch", "0", RoleSubscriber, 60)
	if _, ok := sub.Privilege(PrivPublishAudio); ok || len(sub.Privileges) != 1 || sub.Account != "0" {
		t.Errorf("subscriber = %+v", sub)
	}
	rtm := RTMService("bot", 30)
	if v, ok := rtm.Privilege(PrivRTMLogin); rtm.Type != ServiceRTM || rtm.UserID != "bot" || !ok || v != 30 {
		t.Errorf("rtm = %+v", rtm)
	}
	for uid, want := range map[uint32]string{0: "", 1: "1", 4294967295: "4294967295"} {
		if got := UIDAccount(uid); got != want {
			t.Errorf("UIDAccount(%d) = %q, want %q", uid, got, want)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{ServiceRTC.String(), "rtc"}, {ServiceRTM2.String(), "rtm2"}, {ServiceSTT.String(), "stt"},
		{ServiceType(0).String(), "ServiceType(0)"}, {ServiceType(11).String(), "ServiceType(11)"},
		{PrivilegeName(ServiceRTC, 4), "publish data stream"}, {PrivilegeName(ServiceRTM, 1), "login"},
		{PrivilegeName(ServiceRTM, 2), "privilege 2"}, {PrivilegeName(ServiceConvoAI, 1), "privilege 1"},
		{PrivilegeName(ServiceAPaaS, 3), "app"}, {PrivilegeName(ServiceType(99), 1), "privilege 1"},
		{LegacyPrivilegeName(1000), "RTM login"}, {LegacyPrivilegeName(101), "administrate channel"},
		{LegacyPrivilegeName(13), "privilege 13"}, {LegacyRoleName(0), "attendee"}, {LegacyRoleName(101), "admin"},
		{LegacyRoleName(2), "subscriber"}, {LegacyRoleName(7), "role 7"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestConcurrentUse shares the pooled readers, writers and buffers between
// goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	vectors := loadVectors(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for range 50 {
				p := randParams(r)
				tok, err := Build(p)
				if err != nil {
					errs <- err
					return
				}
				got, err := Parse(tok)
				if err != nil || !reflect.DeepEqual(got.Services, canonical(p.Services)) {
					errs <- fmt.Errorf("round trip failed: %v", err)
					return
				}
				v := vectors[r.IntN(len(vectors))]
				if _, err := Parse(v.Token); (err != nil) != v.ExpectError {
					errs <- fmt.Errorf("%s: %v", v.ID, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
