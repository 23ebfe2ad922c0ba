package accesstoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// The worked example of spec §5.1: off-rtc-uid-go.
const (
	exampleCert    = "5CFd2fd1755d40ecb72977518be15d3b"
	exampleAppID   = "970CA35de60c44645bbae8a215061b33"
	exampleChannel = "7d72365eb983485397e3e3f9d460bdda"
	exampleToken   = "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD//8JqJOM="
)

func hexOf(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWorkedExampleLayout(t *testing.T) {
	if len(exampleToken) != 195 {
		t.Errorf("token is %d characters, want 195", len(exampleToken))
	}
	z, err := base64.StdEncoding.DecodeString(exampleToken[3:])
	if err != nil {
		t.Fatal(err)
	}
	if len(z) != 143 || z[0] != 0x78 || z[1] != 0x9C ||
		!strings.HasSuffix(string(z), string(hexOf(t, "0000FFFF C26A24E3"))) {
		t.Errorf("zlib stream = %x, want 143 bytes 789C…0000FFFF C26A24E3", z)
	}
	payload := mustInflate(t, exampleToken)
	want := hexOf(t, `
		2000 16a0b84c5a5e82cbf74fb813d09f59c5 4bdac9c06120580539ac97578e958b1a
		2000 39373043413335646536306334343634 35626261653861323135303631623333
		47f41000 58020000 01000000 0100
		0100 0100 0100 58020000
		2000 37643732333635656239383334383533 39376533653366396434363062646461
		0a00 32383832333431323733`)
	if payload != string(want) {
		t.Fatalf("payload =\n%x\nwant\n%x", payload, want)
	}
	tok, err := Parse(exampleToken)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.signed) != 104 || tok.signed != payload[34:] {
		t.Errorf("signed region is %d bytes, want the last 104 of the payload", len(tok.signed))
	}
	if got := hex.EncodeToString([]byte(tok.sig)); got != "16a0b84c5a5e82cbf74fb813d09f59c54bdac9c06120580539ac97578e958b1a" {
		t.Errorf("signature = %s", got)
	}
}

func TestWorkedExampleSignatureCheckpoints(t *testing.T) {
	mac := func(key, msg []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		return m.Sum(nil)
	}
	// k1 = HMAC(LE32(1111111), cert), computed independently of signingKey.
	k1 := mac([]byte{0x47, 0xf4, 0x10, 0x00}, []byte(exampleCert))
	if got := hex.EncodeToString(k1); got != "e0f6141e54329d72102500478ec18e0020a5eeef53bbcccc442c6c2f7f178251" {
		t.Errorf("k1 = %s", got)
	}
	key := signingKey(exampleCert, 1111111, 1)
	if got := hex.EncodeToString(key); got != "cee2fa8dcbe868c30ca8c959d97fad4a5049c634da48449f1b8f59c14fa61073" {
		t.Errorf("signingKey = %s", got)
	}
	if want := mac([]byte{1, 0, 0, 0}, k1); !hmac.Equal(key, want) {
		t.Errorf("signingKey = %x, want HMAC(LE32(1), k1) = %x", key, want)
	}
	payload := mustInflate(t, exampleToken)
	sig := sign(exampleCert, 1111111, 1, []byte(payload[34:]))
	if got := hex.EncodeToString(sig); got != "16a0b84c5a5e82cbf74fb813d09f59c54bdac9c06120580539ac97578e958b1a" {
		t.Errorf("signature = %s", got)
	}
}

func TestWorkedExampleBuild(t *testing.T) {
	got, err := Build(Params{
		AppID: exampleAppID, Certificate: exampleCert, IssueTs: 1111111, Expire: 600, Salt: 1,
		Services: []Service{{Type: ServiceRTC, Channel: exampleChannel, Account: UIDAccount(2882341273),
			Privileges: []Privilege{{ID: PrivJoinChannel, Value: 600}}}},
	})
	if err != nil || got != exampleToken {
		t.Errorf("Build = %s, %v\nwant %s", got, err, exampleToken)
	}
}
