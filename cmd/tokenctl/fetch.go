package main

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/fetcher"
)

func init() {
	register(&command{
		name:    "fetch",
		summary: "fetch a token from a token server and check it",
		usage: "--server URL [--preset NAME] (--user USER | --channel CH (--uid N | --account S) [--role publisher|subscriber])\n" +
			"              [--app-id ID] [--expire SECONDS] [--header 'K: V']... [--json] [--retries N] [--insecure-http]",
		run: runFetch,
	})
}

// headerFlag collects repeated --header 'K: V' flags. Set never fails, so
// that the flag package cannot echo a header value (often a credential) in
// its error; the first malformed header is reported after parsing, by name.
type headerFlag struct {
	kv  [][2]string
	bad string // why the first malformed header was refused
}

func (h *headerFlag) String() string { return "" }

func (h *headerFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, ":")
	k = textproto.TrimString(k)
	switch {
	case h.bad != "":
	case !ok || k == "" || strings.ContainsAny(k, " \t"):
		h.bad = "--header wants 'Name: value'"
	case strings.ContainsAny(v, "\r\n\x00"):
		h.bad = fmt.Sprintf("--header %s: the value contains a line break or NUL", k)
	default:
		h.kv = append(h.kv, [2]string{k, textproto.TrimString(v)})
	}
	return nil
}

// fetchJSON is the --json output: the token and its decoded fields.
type fetchJSON struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expiresAt"`
	IssuedAt  string `json:"issuedAt"`
	Kind      string `json:"kind"`
	AppID     string `json:"appId"`
	IssueTs   uint32 `json:"issueTs"`
	Expire    uint32 `json:"expire"`
	User      string `json:"user,omitempty"`
	Channel   string `json:"channel,omitempty"`
	UID       *int64 `json:"uid,omitempty"`
	Account   string `json:"account,omitempty"`
	Role      string `json:"role,omitempty"`
}

func runFetch(ctx context.Context, args []string, env *cmdEnv) error {
	fs := newFlagSet("fetch")
	server := fs.String("server", "", "token server `URL`, e.g. https://tokens.example.com")
	preset := fs.String("preset", fetcher.NameAgoraTokenService,
		"server `NAME`: agora-token-service (POST /getToken), agora-token-service-get (GET routes) or agora-docs-sample")
	user := fs.String("user", "", "fetch an RTM login token for this `USER` ID")
	channel := fs.String("channel", "", "fetch an RTC token for this `CHANNEL`")
	var uid, expire, retries uint32Flag
	fs.Var(&uid, "uid", "RTC numeric `UID` (0 = any uid)")
	account := fs.String("account", "", "RTC user `ACCOUNT`")
	role := fs.String("role", "publisher", "RTC `ROLE`: publisher or subscriber")
	appID := fs.String("app-id", "", "refuse a token for another app `ID` (default $APP_ID)")
	expire = 3600
	fs.Var(&expire, "expire", "lifetime to ask for in `SECONDS`, 1 to 86400")
	var headers headerFlag
	fs.Var(&headers, "header", "send the header 'Name: value' (repeatable), e.g. an Origin or an Authorization")
	asJSON := fs.Bool("json", false, "print a JSON object with the token and its decoded fields")
	retries = fetcher.DefaultRetryMax
	fs.Var(&retries, "retries", "retries of transient failures (5xx, 429, timeouts, refused connections)")
	insecure := fs.Bool("insecure-http", false, "allow plain http to a host other than loopback")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("fetch: unexpected argument %q", pos[0])
	}
	set := setFlags(fs)
	req, err := fetchRequest(set, *user, *channel, uint32(uid), *account, *role)
	if err != nil {
		return err
	}
	switch {
	case *server == "":
		return usagef("fetch: --server is required")
	case headers.bad != "":
		return usagef("fetch: %s", headers.bad)
	case expire < 1 || expire > 86400:
		return usagef("fetch: --expire must be 1 to 86400 seconds")
	case retries > 10:
		return usagef("fetch: --retries must be 0 to 10")
	}
	req.TTL = time.Duration(expire) * time.Second
	if !set["app-id"] {
		*appID = env.Getenv("APP_ID")
	}
	if *appID != "" && !isHex32(*appID) {
		return usagef("fetch: --app-id must be 32 hexadecimal characters")
	}
	p, err := fetcher.PresetByName(*preset)
	if err != nil {
		return usagef("fetch: unknown --preset %q (want %s, %s or %s)", *preset,
			fetcher.NameAgoraTokenService, fetcher.NameAgoraTokenServiceGET, fetcher.NameDocsSample)
	}
	opts := []fetcher.Option{fetcher.WithPreset(p), fetcher.WithAppID(*appID),
		fetcher.WithRetry(int(retries), fetcher.DefaultRetryWaitMin, fetcher.DefaultRetryWaitMax)}
	for _, kv := range headers.kv {
		opts = append(opts, fetcher.WithHeader(kv[0], kv[1]))
	}
	if *insecure {
		opts = append(opts, fetcher.WithInsecureHTTP())
	}
	f, err := fetcher.NewHTTP(*server, opts...)
	if err != nil {
		return usagef("fetch: %s", strings.TrimPrefix(err.Error(), "fetcher: "))
	}
	defer f.CloseIdleConnections()

	tok, err := f.Fetch(ctx, req)
	if err != nil {
		return fetchError(err)
	}
	if !*asJSON {
		_, err = fmt.Fprintln(env.Stdout, tok.Raw)
		return err
	}
	return writeJSON(env.Stdout, fetchedJSON(tok))
}

// fetchRequest builds the Request from the identity flags.
func fetchRequest(set map[string]bool, user, channel string, uid uint32, account, role string) (fetcher.Request, error) {
	switch {
	case set["user"] == set["channel"]:
		return fetcher.Request{}, usagef("fetch: give exactly one of --user (RTM) and --channel (RTC)")
	case set["user"]:
		if set["uid"] || set["account"] || set["role"] {
			return fetcher.Request{}, usagef("fetch: --uid, --account and --role apply to RTC tokens (--channel) only")
		}
		if user == "" {
			return fetcher.Request{}, usagef("fetch: --user must not be empty")
		}
		return fetcher.Request{Kind: fetcher.KindRTM, UserID: user}, nil
	}
	if channel == "" {
		return fetcher.Request{}, usagef("fetch: --channel must not be empty")
	}
	if set["uid"] == set["account"] {
		return fetcher.Request{}, usagef("fetch: an RTC token needs exactly one of --uid and --account")
	}
	if set["account"] && account == "" {
		return fetcher.Request{}, usagef("fetch: --account must not be empty (use --uid 0 for any uid)")
	}
	req := fetcher.Request{Kind: fetcher.KindRTC, Channel: channel, UID: uid, Account: account}
	switch role {
	case "publisher":
		req.Role = fetcher.RolePublisher
	case "subscriber":
		req.Role = fetcher.RoleSubscriber
	default:
		return fetcher.Request{}, usagef("fetch: --role must be publisher or subscriber, not %q", role)
	}
	return req, nil
}

// fetchError words a failed fetch as one line: what failed and whether a
// retry later may help.
func fetchError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "fetcher: ")
	var e *fetcher.Error
	switch {
	case !errors.As(err, &e):
	case e.Class == fetcher.Retryable && e.RetryAfter > 0:
		msg += fmt.Sprintf(" (temporary: retry after %v)", e.RetryAfter)
	case e.Class == fetcher.Retryable:
		msg += " (temporary: retry later)"
	}
	return fmt.Errorf("fetch: %s", msg)
}

func fetchedJSON(tok fetcher.Token) fetchJSON {
	out := fetchJSON{
		Token:     tok.Raw,
		ExpiresAt: tok.ExpiresAt.UTC().Format(time.RFC3339),
		IssuedAt:  tok.IssuedAt.UTC().Format(time.RFC3339),
		Kind:      tok.Request.Kind.String(),
	}
	// The fetcher has decoded and checked the token already; this cannot
	// fail for a token it returned.
	if t, err := accesstoken.Parse(tok.Raw); err == nil {
		out.AppID, out.IssueTs, out.Expire = t.AppID, t.IssueTs, t.Expire
	}
	r := tok.Request
	if r.Kind == fetcher.KindRTM {
		out.User = r.UserID
		return out
	}
	out.Channel, out.Role = r.Channel, r.Role.String()
	if r.Account != "" {
		out.Account = r.Account
	} else {
		n := int64(r.UID)
		out.UID = &n
	}
	return out
}
