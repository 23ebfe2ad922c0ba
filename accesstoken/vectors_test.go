package accesstoken

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// vector is one entry of testdata/agora-official-vectors.json (see its
// "schema" text).
type vector struct {
	ID             string
	Version        string
	GoByteExact    bool
	ExpectError    bool
	AppID          string
	AppCertificate string
	IssueTs        uint32
	Salt           uint32
	Expire         uint32
	Services       []vectorService
	Token          string
	// 006
	ChannelName string
	UID         string
	Ts          uint32
	Privileges  map[string]uint32
}

type vectorService struct {
	Type        ServiceType
	Name        string
	Privileges  map[string]uint32
	ChannelName string
	UID         string
	UserID      string
	Account     string
	RoomUUID    string
	UserUUID    string
	Role        int16
	Permissions [][3]json.RawMessage // [resourceType, permissionType, [resources...]]
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	data, err := os.ReadFile("testdata/agora-official-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []vector }
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) != 33 {
		t.Fatalf("loaded %d vectors, want 33", len(file.Vectors))
	}
	return file.Vectors
}

// privList turns a JSON privilege object into a list in ascending id order,
// the order every official builder writes.
func privList(t testing.TB, m map[string]uint32) []Privilege {
	t.Helper()
	var out []Privilege
	for k, v := range m {
		id, err := strconv.ParseUint(k, 10, 16)
		if err != nil {
			t.Fatalf("privilege id %q: %v", k, err)
		}
		out = append(out, Privilege{ID: uint16(id), Value: v})
	}
	slices.SortFunc(out, func(a, b Privilege) int { return int(a.ID) - int(b.ID) })
	return out
}

// want converts a vector service into the Service Parse must return.
func (vs vectorService) want(t testing.TB) Service {
	t.Helper()
	s := Service{Type: vs.Type, Privileges: privList(t, vs.Privileges)}
	switch vs.Type {
	case ServiceRTC:
		s.Channel, s.Account = vs.ChannelName, vs.UID
	case ServiceRTM, ServiceChat:
		s.UserID = vs.UserID
	case ServiceStreaming, ServiceFCDN:
		s.Channel, s.Account = vs.ChannelName, vs.Account
	case ServiceAPaaS:
		s.RoomUUID, s.UserUUID, s.Role = vs.RoomUUID, vs.UserUUID, vs.Role
	case ServiceRTM2:
		s.UserID = vs.UserID
		for _, p := range vs.Permissions {
			var perm RTM2Permission
			for i, dst := range []any{&perm.ResourceType, &perm.PermissionType, &perm.Resources} {
				if err := json.Unmarshal(p[i], dst); err != nil {
					t.Fatal(err)
				}
			}
			s.Permissions = append(s.Permissions, perm)
		}
	case ServiceFPA, ServiceConvoAI, ServiceSTT:
		// no tail
	default:
		t.Fatalf("vector service type %d has no fields mapping", vs.Type)
	}
	return s
}

func (v vector) params(t testing.TB) Params {
	p := Params{AppID: v.AppID, Certificate: v.AppCertificate, IssueTs: v.IssueTs, Expire: v.Expire, Salt: v.Salt}
	for _, vs := range v.Services {
		p.Services = append(p.Services, vs.want(t))
	}
	return p
}

func TestOfficialVectors007(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Version != Version2 || v.ExpectError {
			continue
		}
		t.Run(v.ID, func(t *testing.T) {
			tok, err := Parse(v.Token)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tok.Version != Version2 || tok.AppID != v.AppID || tok.IssueTs != v.IssueTs ||
				tok.Expire != v.Expire || tok.Salt != v.Salt || !tok.Complete || tok.Legacy != nil {
				t.Errorf("header = %s %s issueTs=%d expire=%d salt=%d complete=%v legacy=%v, want %s %s %d %d %d true nil",
					tok.Version, tok.AppID, tok.IssueTs, tok.Expire, tok.Salt, tok.Complete, tok.Legacy,
					Version2, v.AppID, v.IssueTs, v.Expire, v.Salt)
			}
			want := v.params(t).Services
			if !reflect.DeepEqual(tok.Services, want) {
				t.Errorf("services:\n got %+v\nwant %+v", tok.Services, want)
			}
			if err := tok.Verify(v.AppCertificate); err != nil {
				t.Errorf("Verify with the right certificate: %v", err)
			}
			if err := tok.Verify(flipChar(v.AppCertificate, 31)); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("Verify with a wrong certificate = %v, want ErrInvalidSignature", err)
			}

			// Re-minting gives the same payload for every producer, and the
			// same string for Go-produced tokens.
			built, err := Build(v.params(t))
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if got, want := mustInflate(t, built), mustInflate(t, v.Token); got != want {
				t.Errorf("re-minted payload differs:\n got %x\nwant %x", got, want)
			}
			if v.GoByteExact && built != v.Token {
				t.Errorf("Build =\n %s\nwant\n %s", built, v.Token)
			}
		})
	}
}

func TestOfficialVectors006(t *testing.T) {
	n := 0
	for _, v := range loadVectors(t) {
		if v.Version != Version1 {
			continue
		}
		n++
		t.Run(v.ID, func(t *testing.T) {
			tok, err := Parse(v.Token)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			l := tok.Legacy
			if l == nil {
				t.Fatal("Legacy is nil")
			}
			if tok.Version != Version1 || tok.AppID != v.AppID || tok.Salt != v.Salt || l.Ts != v.Ts || !tok.Complete {
				t.Errorf("got %s %s salt=%d ts=%d complete=%v", tok.Version, tok.AppID, tok.Salt, l.Ts, tok.Complete)
			}
			if want := privList(t, v.Privileges); !reflect.DeepEqual(l.Privileges, want) {
				t.Errorf("privileges = %v, want %v", l.Privileges, want)
			}
			if tok.IssueTs != v.Ts-86400 || tok.Expire != 86400 || tok.ExpiresAt().Unix() != int64(v.Ts) {
				t.Errorf("IssueTs=%d Expire=%d, want ts-86400 and 86400", tok.IssueTs, tok.Expire)
			}
			if !l.MatchChannel(v.ChannelName) || !l.MatchUID(v.UID) || l.MatchChannel(v.ChannelName+"x") {
				t.Error("CRC matching failed")
			}
			if err := tok.VerifyLegacy(v.AppCertificate, v.ChannelName, v.UID); err != nil {
				t.Errorf("VerifyLegacy: %v", err)
			}
			if err := tok.VerifyLegacy(flipChar(v.AppCertificate, 0), v.ChannelName, v.UID); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("VerifyLegacy with a wrong certificate = %v", err)
			}
			if err := tok.VerifyLegacy(v.AppCertificate, v.ChannelName, "1"); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("VerifyLegacy with a wrong uid = %v", err)
			}
			if err := tok.Verify(v.AppCertificate); !errors.Is(err, ErrUnsupportedVersion) {
				t.Errorf("Verify on 006 = %v, want ErrUnsupportedVersion", err)
			}
			built, err := BuildLegacy(LegacyParams{AppID: v.AppID, Certificate: v.AppCertificate,
				Channel: v.ChannelName, UID: v.UID, Salt: v.Salt, Ts: v.Ts, Privileges: privList(t, v.Privileges)})
			if err != nil || built != v.Token {
				t.Errorf("BuildLegacy = %s, %v\nwant %s", built, err, v.Token)
			}
		})
	}
	if n != 3 {
		t.Errorf("%d 006 vectors, want 3", n)
	}
}

func TestOfficialNegativeVector(t *testing.T) {
	n := 0
	for _, v := range loadVectors(t) {
		if !v.ExpectError {
			continue
		}
		n++
		tok, err := Parse(v.Token)
		if !errors.Is(err, ErrMalformed) || tok != nil {
			t.Errorf("%s: Parse = %v, %v; want nil, ErrMalformed", v.ID, tok, err)
		}
	}
	if n != 1 {
		t.Errorf("%d negative vectors, want 1", n)
	}
}

// flipChar changes the character at i to a different hex digit of the same
// case class.
func flipChar(s string, i int) string {
	b := []byte(s)
	if b[i] == '0' {
		b[i] = '1'
	} else {
		b[i] = '0'
	}
	return string(b)
}

// mustInflate returns the inflated payload of a 007 token.
func mustInflate(t testing.TB, tok string) string {
	t.Helper()
	sc := getScratch()
	defer putScratch(sc)
	z, err := sc.decodeBase64(tok[3:])
	if err == nil {
		var p []byte
		if p, err = sc.inflate(z); err == nil {
			return string(p)
		}
	}
	t.Fatal(fmt.Errorf("inflate %s: %w", tok[:8], err))
	return ""
}
