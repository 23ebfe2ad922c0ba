package accesstoken

import (
	"fmt"
	"strings"
	"testing"
)

// Printing a parsed token with fmt must not reveal its signature: with the
// signed bytes it is the whole token.
func TestPrintHidesSignature(t *testing.T) {
	const appID, cert = "970CA35de60c44645bbae8a215061b33", "5CFd2fd1755d40ecb72977518be15d3b"
	raw007, err := Build(Params{AppID: appID, Certificate: cert, IssueTs: 1111111, Salt: 1, Expire: 600,
		Services: []Service{{Type: ServiceRTM, UserID: "bot-42", Privileges: []Privilege{{ID: PrivRTMLogin, Value: 600}}}}})
	if err != nil {
		t.Fatal(err)
	}
	raw006, err := BuildLegacy(LegacyParams{AppID: appID, Certificate: cert, Channel: "room", UID: "42",
		Ts: 1111111 + 86400, Salt: 1, Privileges: []Privilege{{ID: PrivJoinChannel}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{raw007, raw006} {
		tok, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		sig := tok.sig
		outs := []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok),
			fmt.Sprintf("%+v", *tok), fmt.Sprintf("%v", []*Token{tok})}
		if tok.Legacy != nil {
			sig = tok.Legacy.sig
			outs = append(outs, fmt.Sprintf("%+v", tok.Legacy), fmt.Sprintf("%#v", *tok.Legacy))
		}
		if len(sig) < 16 {
			t.Fatalf("%s…: signature of %d bytes", raw[:6], len(sig))
		}
		for _, out := range outs {
			if strings.Contains(out, sig) {
				t.Errorf("%s… printed with its signature: %q", raw[:6], out)
			}
			if !strings.Contains(out, raw[:3]) {
				t.Errorf("%s… printed without its version: %q", raw[:6], out)
			}
		}
	}
}
