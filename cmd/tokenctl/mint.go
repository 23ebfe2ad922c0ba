package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

func init() {
	register(&command{
		name:    "mint",
		summary: "mint an AccessToken2 (RTM login or RTC) like Agora's official Go builder",
		usage: "--app-id ID --cert CERT (--user USER | --channel CH (--uid N | --account S) [--role publisher|subscriber])\n" +
			"              [--expire SECONDS] [--issue-ts UNIX] [--salt N]",
		run: runMint,
	})
}

// maxSalt is the top of the official builders' salt range [1, 99999999].
const maxSalt = 99999999

func runMint(_ context.Context, args []string, env *cmdEnv) error {
	fs := newFlagSet("mint")
	appID := fs.String("app-id", "", "app `ID`, 32 hex characters (default $APP_ID)")
	cert := fs.String("cert", "", "app certificate `CERT`, 32 hex characters (default $APP_CERTIFICATE)")
	user := fs.String("user", "", "mint an RTM login token for this `USER` ID")
	channel := fs.String("channel", "", "mint an RTC token for this `CHANNEL`")
	var uid, expire, issueTs, salt uint32Flag
	fs.Var(&uid, "uid", "RTC numeric `UID` (0 = any uid)")
	account := fs.String("account", "", "RTC user `ACCOUNT`, stored as given")
	role := fs.String("role", "publisher", "RTC `ROLE`: publisher (privileges 1-4) or subscriber (privilege 1)")
	expire = 3600
	fs.Var(&expire, "expire", "lifetime in `SECONDS`, also the value of every privilege")
	fs.Var(&issueTs, "issue-ts", "issue time in `UNIX` seconds (default now)")
	fs.Var(&salt, "salt", "`SALT` (default random in [1, 99999999])")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("mint: unexpected argument %q", pos[0])
	}
	set := setFlags(fs)
	if !set["app-id"] {
		*appID = env.Getenv("APP_ID")
	}
	if !set["cert"] {
		*cert = env.Getenv("APP_CERTIFICATE")
	}
	switch {
	case *appID == "":
		return usagef("mint: --app-id (or APP_ID) is required")
	case !isHex32(*appID):
		return usagef("mint: --app-id must be 32 hexadecimal characters")
	}
	if err := checkCertFlag("mint", *cert); err != nil {
		return err
	}

	var svc accesstoken.Service
	switch {
	case set["user"] == set["channel"]:
		return usagef("mint: give exactly one of --user (RTM) and --channel (RTC)")
	case set["user"]:
		if set["uid"] || set["account"] || set["role"] {
			return usagef("mint: --uid, --account and --role apply to RTC tokens (--channel) only")
		}
		if *user == "" {
			return usagef("mint: --user must not be empty")
		}
		svc = accesstoken.RTMService(*user, uint32(expire))
	default:
		if *channel == "" {
			return usagef("mint: --channel must not be empty")
		}
		if set["uid"] == set["account"] {
			return usagef("mint: an RTC token needs exactly one of --uid and --account")
		}
		r, err := parseRole(*role)
		if err != nil {
			return err
		}
		acct := *account
		if set["uid"] {
			acct = accesstoken.UIDAccount(uint32(uid))
		}
		svc = accesstoken.RTCService(*channel, acct, r, uint32(expire))
	}

	if !set["issue-ts"] {
		issueTs = uint32Flag(env.Now().Unix())
	}
	if !set["salt"] {
		salt = uint32Flag(1 + rand.Uint32N(maxSalt))
	}
	tok, err := accesstoken.Build(accesstoken.Params{
		AppID: *appID, Certificate: *cert, IssueTs: uint32(issueTs), Expire: uint32(expire), Salt: uint32(salt),
		Services: []accesstoken.Service{svc},
	})
	if errors.Is(err, accesstoken.ErrInvalidService) {
		return usagef("mint: %v", err) // e.g. a user ID longer than 65535 bytes
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, tok)
	return err
}

func parseRole(s string) (accesstoken.Role, error) {
	switch s {
	case "publisher":
		return accesstoken.RolePublisher, nil
	case "subscriber":
		return accesstoken.RoleSubscriber, nil
	}
	return 0, usagef("mint: --role must be publisher or subscriber, not %q", s)
}
