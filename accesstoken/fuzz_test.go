package accesstoken

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"reflect"
	"testing"
)

// errClass names the sentinel an error wraps, for comparing two parsers.
func errClass(err error) string {
	for _, s := range []error{ErrTooLarge, ErrUnsupportedVersion, ErrMalformed} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	if err == nil {
		return "ok"
	}
	return "unclassified: " + err.Error()
}

// wrap007 frames a raw payload as a 007 token with stored (uncompressed)
// deflate blocks, so the fuzzer can reach the field decoder directly.
func wrap007(payload []byte) string {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.NoCompression)
	zw.Write(payload)
	zw.Close()
	return "007" + base64.StdEncoding.EncodeToString(z.Bytes())
}

// checkParse runs Parse and the naive oracle on s and fails on any
// disagreement or broken invariant.
func checkParse(t *testing.T, s string) {
	got, err := Parse(s)
	want, werr := naiveParse(s)
	if errClass(err) != errClass(werr) {
		t.Fatalf("Parse error class %q, naive %q (err %v / %v)", errClass(err), errClass(werr), err, werr)
	}
	if err != nil {
		if got != nil {
			t.Fatal("Parse returned a token and an error")
		}
		if errClass(err) == "unclassified: "+err.Error() {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse and naive disagree:\n got %+v\nwant %+v", got, want)
	}
	// Derived values never panic, and a random certificate never verifies.
	_ = got.ExpiresAt()
	for i := range got.Services {
		for _, p := range got.Services[i].Privileges {
			if _, ok := got.PrivilegeExpiresAt(&got.Services[i], p.ID); !ok {
				t.Fatal("PrivilegeExpiresAt lost a privilege")
			}
		}
	}
	if got.Verify("0123456789abcdef0123456789abcdef") == nil {
		t.Fatal("a fuzzed token verified with an arbitrary certificate")
	}
}

func FuzzParse(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Token)
		if v.Version == Version2 && !v.ExpectError {
			f.Add(mustInflate(f, v.Token))
		}
	}
	for _, s := range []string{
		"", "007", "006", "008eJw=", "007eJ", "007!!!!", "006970CA35de60c44645bbae8a215061b33",
		"007eJwDAAAAAAE=", // empty zlib stream
		"\x20\x00" + "01234567890123456789012345678901" + "\x00\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkParse(t, s)
		// The same bytes as a raw payload inside a valid zlib stream.
		if len(s) <= MaxPayloadSize {
			checkParse(t, wrap007([]byte(s)))
		}
	})
}
