package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

func init() {
	register(&command{
		name:    "verify",
		summary: "check a token's signature against the app certificate",
		usage:   "--cert CERT [--channel CH [--uid N | --account S]] TOKEN",
		run:     runVerify,
	})
}

// errInvalidSignature is printed as exactly "tokenctl: invalid signature".
var errInvalidSignature = errors.New("invalid signature")

func runVerify(_ context.Context, args []string, env *cmdEnv) error {
	fs := newFlagSet("verify")
	cert := fs.String("cert", "", "app certificate `CERT`, 32 hex characters (default $APP_CERTIFICATE)")
	channel := fs.String("channel", "", "006 only: the `CHANNEL` name (the user account for an RTM token)")
	var uid uint32Flag
	fs.Var(&uid, "uid", "006 only: the numeric `UID` (0 for the wildcard; omit for RTM tokens)")
	account := fs.String("account", "", "006 only: the user `ACCOUNT`, instead of --uid")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("verify: want one TOKEN argument, got %d", len(pos))
	}
	set := setFlags(fs)
	if !set["cert"] {
		*cert = env.Getenv("APP_CERTIFICATE")
	}
	if err := checkCertFlag("verify", *cert); err != nil {
		return err
	}
	if set["uid"] && set["account"] {
		return usagef("verify: --uid and --account are mutually exclusive")
	}
	legacyUID := *account
	if set["uid"] {
		legacyUID = accesstoken.UIDAccount(uint32(uid))
	}

	tok, err := parseTokenArg(pos[0], env)
	if err != nil {
		return err
	}
	if tok.Legacy != nil {
		if !set["channel"] {
			return usagef("verify: a 006 token's signature covers the channel name and uid: pass --channel (and --uid or --account)")
		}
		err = tok.VerifyLegacy(*cert, *channel, legacyUID)
	} else {
		if set["channel"] || set["uid"] || set["account"] {
			return usagef("verify: --channel, --uid and --account apply to 006 tokens only")
		}
		err = tok.Verify(*cert)
	}
	switch {
	case errors.Is(err, accesstoken.ErrInvalidSignature):
		return errInvalidSignature
	case err != nil:
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, "valid")
	return err
}
