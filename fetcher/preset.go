package fetcher

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// A Preset says how to ask one kind of token server for a token and where
// the token is in its answer. Use one of the Preset variables, [Custom] or
// [PresetByName]; the zero Preset means [PresetAgoraTokenService].
type Preset struct {
	s   *presetSpec
	err error // a Custom template that did not validate; reported by NewHTTP
}

// Name returns the preset's name: "agora-token-service",
// "agora-token-service-get", "agora-docs-sample" or "custom".
func (p Preset) Name() string {
	if p.s == nil {
		if p.err != nil {
			return "custom"
		}
		return PresetAgoraTokenService.s.name
	}
	return p.s.name
}

// String returns the preset's name.
func (p Preset) String() string { return p.Name() }

// Preset names accepted by PresetByName.
const (
	NameAgoraTokenService    = "agora-token-service"
	NameAgoraTokenServiceGET = "agora-token-service-get"
	NameDocsSample           = "agora-docs-sample"
)

// The built-in presets (see the token-server spec for each server's quirks).
var (
	// PresetAgoraTokenService talks to AgoraIO-Community/agora-token-service
	// v1.4.1 or later: POST /getToken with a JSON body
	// {"tokenType":"rtm"|"rtc","channel","role":"publisher"|"subscriber","uid":"…","expire":N},
	// answered by {"token":"007…"}. The server turns an RTC uid string that
	// parses as a number into a numeric uid ("0001" → 1, "0" → wildcard), so
	// such accounts are refused before sending.
	PresetAgoraTokenService = Preset{s: &presetSpec{
		name:  NameAgoraTokenService,
		build: buildAgoraPOST,
		token: func(Kind) []string { return pathToken },
	}}
	// PresetAgoraTokenServiceGET uses the same server's legacy GET routes
	// /rtm/{user}/, /rtc/{channel}/{role}/uid/{uid}/ and
	// /rtc/{channel}/{role}/userAccount/{account}/ with ?expiry=N, answered by
	// {"rtmToken":…} or {"rtcToken":…}. They also work with servers older
	// than v1.4.1 (which return 006 tokens) and keep numeric-looking
	// accounts verbatim. Names containing "/" cannot be sent, and the RTM
	// user IDs "" and "0" are refused by the server.
	PresetAgoraTokenServiceGET = Preset{s: &presetSpec{
		name:  NameAgoraTokenServiceGET,
		build: buildAgoraGET,
		token: func(k Kind) []string {
			if k == KindRTM {
				return pathRTMToken
			}
			return pathRTCToken
		},
	}}
	// PresetDocsSample talks to the sample servers in Agora's documentation:
	// POST /fetch_rtm_token {"uid":"user"} and POST /fetch_rtc_token
	// {"uid":N,"ChannelName":"…","role":1|2}, answered by
	// {"code":"200","token":"007…"} (any other code is an error whose text is
	// in "token"). These servers ignore the requested lifetime and take
	// numeric RTC uids only.
	PresetDocsSample = Preset{s: &presetSpec{
		name:     NameDocsSample,
		build:    buildDocsSample,
		token:    func(Kind) []string { return pathToken },
		docsCode: true,
	}}
)

// The token paths of the built-in presets, shared by every fetch.
var (
	pathToken    = []string{"token"}
	pathRTMToken = []string{"rtmToken"}
	pathRTCToken = []string{"rtcToken"}
)

// PresetByName returns the built-in preset with the given name (see the
// Name constants). An unknown name gives an error wrapping
// [ErrInvalidConfig].
func PresetByName(name string) (Preset, error) {
	for _, p := range []Preset{PresetAgoraTokenService, PresetAgoraTokenServiceGET, PresetDocsSample} {
		if p.s.name == name {
			return p, nil
		}
	}
	return Preset{}, fmt.Errorf("fetcher: unknown preset %q (want %s, %s or %s): %w",
		name, NameAgoraTokenService, NameAgoraTokenServiceGET, NameDocsSample, ErrInvalidConfig)
}

// presetSpec is the implementation behind a Preset.
type presetSpec struct {
	name string
	// build turns a validated request into the HTTP request to send.
	build func(req Request, expire uint32) (outgoing, error)
	// token returns the JSON path of the token for a request kind. The
	// slice is shared: never modify it.
	token func(Kind) []string
	// expiry is the optional JSON path of an absolute expiry.
	expiry []string
	// docsCode: the body carries "code":"200" on success and the error
	// text in "token" otherwise.
	docsCode bool
}

// outgoing is a request built by a preset, relative to the server URL.
type outgoing struct {
	method string
	path   string // escaped, appended to the server URL's path; "" for none
	query  string // encoded, appended to the server URL's query
	body   []byte // JSON, nil for none
	header map[string]string
}

// who returns the RTC user as text: the account, or the decimal uid.
func (r Request) who() string {
	if r.Kind == KindRTM {
		return r.UserID
	}
	if r.Account != "" {
		return r.Account
	}
	return strconv.FormatUint(uint64(r.UID), 10)
}

// describe names the user and channel of r for messages, e.g.
// `user "alice"` or `channel "room" account "bob"`; "" when r names none.
func (r Request) describe() string {
	switch r.Kind {
	case KindRTM:
		if r.UserID != "" {
			return "user " + strconv.Quote(r.UserID)
		}
	case KindRTC:
		if r.Channel == "" {
			return ""
		}
		if r.Account != "" {
			return "channel " + strconv.Quote(r.Channel) + " account " + strconv.Quote(r.Account)
		}
		return "channel " + strconv.Quote(r.Channel) + " uid " + strconv.FormatUint(uint64(r.UID), 10)
	}
	return ""
}

// numericAccount reports whether agora-token-service's POST /getToken would
// mint a token for another uid field than the RTC account sent (it reads a
// string that parses as uint64 as the number uint32(n)), and which: becomes
// is "" for the wildcard uid 0.
func numericAccount(account string) (becomes string, changed bool) {
	n, err := strconv.ParseUint(account, 10, 64)
	if err != nil {
		return "", false
	}
	u := uint32(n)
	if u == 0 {
		return "", true
	}
	s := strconv.FormatUint(uint64(u), 10)
	return s, s != account
}

// refuse explains why a request cannot be sent with a preset.
func refuse(format string, args ...any) error { return fmt.Errorf(format, args...) }

func buildAgoraPOST(req Request, expire uint32) (outgoing, error) {
	who := req.who()
	if req.Kind == KindRTC && req.Account != "" {
		if becomes, changed := numericAccount(req.Account); changed {
			what := "uid " + strconv.Quote(becomes)
			if becomes == "" {
				what = "the wildcard uid 0"
			}
			return outgoing{}, refuse("account %q looks like a number: agora-token-service's POST /getToken "+
				"would mint the token for %s instead of this account; use the %s preset, whose "+
				"/userAccount/ route keeps the account verbatim", req.Account, what, NameAgoraTokenServiceGET)
		}
	}
	// {"tokenType":…,"channel":…,"role":…,"uid":…,"expire":N}, channel and
	// role for RTC only (and, like omitempty, only when not empty).
	o := newJSONObject(64 + len(who) + len(req.Channel))
	o = o.str("tokenType", req.Kind.String())
	if req.Kind == KindRTC {
		if req.Channel != "" {
			o = o.str("channel", req.Channel)
		}
		o = o.str("role", req.Role.String())
	}
	o = o.str("uid", who).uint("expire", uint64(expire))
	return outgoing{method: "POST", path: "/getToken", body: o.end()}, nil
}

// getSegment checks that a name can travel as one GET path segment.
func getSegment(what, s string) (string, error) {
	switch {
	case strings.Contains(s, "/"):
		return "", refuse("%s %q contains \"/\", which the GET routes cannot carry; use the %s preset",
			what, s, NameAgoraTokenService)
	case s == "." || s == "..":
		return "", refuse("%s %q cannot be a URL path segment; use the %s preset", what, s, NameAgoraTokenService)
	}
	return url.PathEscape(s), nil
}

func buildAgoraGET(req Request, expire uint32) (outgoing, error) {
	q := "expiry=" + strconv.FormatUint(uint64(expire), 10)
	if req.Kind == KindRTM {
		if req.UserID == "0" {
			return outgoing{}, refuse("user ID \"0\" is refused by the GET /rtm/ route; use the %s preset",
				NameAgoraTokenService)
		}
		user, err := getSegment("user ID", req.UserID)
		if err != nil {
			return outgoing{}, err
		}
		return outgoing{method: "GET", path: "/rtm/" + user + "/", query: q}, nil
	}
	ch, err := getSegment("channel", req.Channel)
	if err != nil {
		return outgoing{}, err
	}
	tail := "uid/" + strconv.FormatUint(uint64(req.UID), 10)
	if req.Account != "" {
		acc, err := getSegment("account", req.Account)
		if err != nil {
			return outgoing{}, err
		}
		tail = "userAccount/" + acc
	}
	return outgoing{method: "GET", path: "/rtc/" + ch + "/" + req.Role.String() + "/" + tail + "/", query: q}, nil
}

func buildDocsSample(req Request, _ uint32) (outgoing, error) {
	if req.Kind == KindRTM {
		body := newJSONObject(16+len(req.UserID)).str("uid", req.UserID).end()
		return outgoing{method: "POST", path: "/fetch_rtm_token", body: body}, nil
	}
	uid := req.UID
	if req.Account != "" {
		n, err := strconv.ParseUint(req.Account, 10, 32)
		if err != nil || n == 0 || strconv.FormatUint(n, 10) != req.Account {
			return outgoing{}, refuse("account %q is not a numeric uid; the %s RTC server takes numeric uids only",
				req.Account, NameDocsSample)
		}
		uid = uint32(n)
	}
	role := uint64(1)
	if req.Role == RoleSubscriber {
		role = 2
	}
	body := newJSONObject(48+len(req.Channel)).uint("uid", uint64(uid)).str("ChannelName", req.Channel).
		uint("role", role).end()
	return outgoing{method: "POST", path: "/fetch_rtc_token", body: body}, nil
}
