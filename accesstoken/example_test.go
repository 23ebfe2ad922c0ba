package accesstoken_test

import (
	"errors"
	"fmt"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

// An RTC token from Agora's official Go builder (spec §5.1).
const rtcToken = "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD//8JqJOM="

func ExampleParse() {
	tok, err := accesstoken.Parse(rtcToken)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("app:", tok.AppID)
	fmt.Println("issued:", tok.IssuedAt(), "lifetime:", tok.Lifetime())
	fmt.Println("expires:", tok.ExpiresAt())
	for _, s := range tok.Services {
		fmt.Printf("%s channel=%s uid=%q\n", s.Type, s.Channel, s.Account)
		for _, p := range s.Privileges {
			until, _ := tok.PrivilegeExpiresAt(&s, p.ID)
			fmt.Printf("  %s until %s\n", accesstoken.PrivilegeName(s.Type, p.ID), until)
		}
	}
	// Output:
	// app: 970CA35de60c44645bbae8a215061b33
	// issued: 1970-01-13 20:38:31 +0000 UTC lifetime: 10m0s
	// expires: 1970-01-13 20:48:31 +0000 UTC
	// rtc channel=7d72365eb983485397e3e3f9d460bdda uid="2882341273"
	//   join channel until 1970-01-13 20:48:31 +0000 UTC
}

func ExampleBuild() {
	tok, err := accesstoken.Build(accesstoken.Params{
		AppID:       "970CA35de60c44645bbae8a215061b33",
		Certificate: "5CFd2fd1755d40ecb72977518be15d3b",
		IssueTs:     1111111, // tests pin issueTs and salt; production uses now and a random salt
		Expire:      600,
		Salt:        1,
		Services: []accesstoken.Service{
			accesstoken.RTCService("7d72365eb983485397e3e3f9d460bdda", accesstoken.UIDAccount(2882341273), accesstoken.RoleSubscriber, 600),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok == rtcToken) // the official Go builder's string, byte for byte
	// Output:
	// true
}

func ExampleToken_Verify() {
	tok, err := accesstoken.Parse(rtcToken)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Verify("5CFd2fd1755d40ecb72977518be15d3b"))
	err = tok.Verify("5CFd2fd1755d40ecb72977518be15d3B") // one letter's case differs
	fmt.Println(errors.Is(err, accesstoken.ErrInvalidSignature), err)
	// Output:
	// <nil>
	// true accesstoken: invalid signature: signature does not match the certificate
}
