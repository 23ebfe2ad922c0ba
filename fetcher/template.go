package fetcher

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Template describes a token server that no built-in preset covers. Pass it
// to [Custom].
//
// URL, Body and Headers may hold placeholders, replaced per request:
//
//	{user}, {uid}, {account}  the user the token is for: the RTM user ID, or the
//	                          RTC account (the decimal uid when Account is empty)
//	{channel}                 the RTC channel ("" for RTM)
//	{role}                    "publisher" or "subscriber"
//	{roleid}                  1 (publisher) or 2 (subscriber)
//	{kind}                    "rtm" or "rtc"
//	{expire}                  the requested lifetime in seconds
//
// In the URL's path a value is path-escaped, in its query query-escaped; in
// Body it is JSON-escaped without quotes, so write "{user}" for a string and
// {uid} for a number. A brace that does not enclose a lower-case name is
// kept literally; an unknown name is a configuration error.
type Template struct {
	// Method is the HTTP method; empty means POST when Body is set, else GET.
	Method string
	// URL is the path and query appended to the server URL, e.g.
	// "/token?channel={channel}&uid={uid}". Empty means the server URL.
	URL string
	// Body is the JSON request body, e.g. `{"uid":"{user}","expire":{expire}}`;
	// empty means no body. Each expanded body must be valid JSON.
	Body string
	// TokenPath is the dotted path of the token in the JSON answer, e.g.
	// "token" or "data.token"; a numeric segment indexes an array.
	TokenPath string
	// ExpiryPath is the optional dotted path of an absolute expiry in unix
	// seconds (a number or a numeric string; values of 1e11 and above are
	// read as milliseconds). When present, the token's ExpiresAt is the
	// earlier of this and the token's own expiry.
	ExpiryPath string
	// Headers are sent with every request; values may hold placeholders.
	Headers map[string]string
}

// Custom returns a Preset for a token server described by t. Errors in t
// are reported by NewHTTP, wrapping [ErrInvalidConfig].
func Custom(t Template) Preset {
	s, err := compileTemplate(t)
	if err != nil {
		return Preset{err: fmt.Errorf("fetcher: custom template: %w: %w", err, ErrInvalidConfig)}
	}
	return Preset{s: s}
}

var placeholders = map[string]bool{
	"user": true, "uid": true, "account": true, "channel": true,
	"role": true, "roleid": true, "kind": true, "expire": true,
}

// piece is a literal or, when name is set, a placeholder.
type piece struct {
	lit  string
	name string
}

type pattern []piece

// parsePattern splits s into literals and placeholders.
func parsePattern(s string) (pattern, error) {
	var p pattern
	lit := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		j := i + 1
		for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
			j++
		}
		if j == i+1 || j == len(s) || s[j] != '}' {
			continue // not a placeholder: keep the brace literally
		}
		name := s[i+1 : j]
		if !placeholders[name] {
			return nil, fmt.Errorf("unknown placeholder {%s}", name)
		}
		if lit < i {
			p = append(p, piece{lit: s[lit:i]})
		}
		p = append(p, piece{name: name})
		i, lit = j, j+1
	}
	if lit < len(s) {
		p = append(p, piece{lit: s[lit:]})
	}
	return p, nil
}

func (p pattern) expand(vals map[string]string, escape func(string) string) string {
	var b strings.Builder
	for _, pc := range p {
		if pc.name == "" {
			b.WriteString(pc.lit)
		} else {
			b.WriteString(escape(vals[pc.name]))
		}
	}
	return b.String()
}

// jsonEscape is s as encoding/json writes it inside quotes.
func jsonEscape(s string) string { return string(appendJSONText(nil, s)) }

func compileTemplate(t Template) (*presetSpec, error) {
	method := t.Method
	if method == "" {
		method = "GET"
		if t.Body != "" {
			method = "POST"
		}
	}
	for _, c := range method {
		if c < 'A' || c > 'Z' {
			return nil, fmt.Errorf("method %q is not an upper-case HTTP method", t.Method)
		}
	}
	if t.Body != "" && (method == "GET" || method == "HEAD") {
		return nil, fmt.Errorf("a %s request cannot carry a body", method)
	}
	rawPath, rawQuery, _ := strings.Cut(t.URL, "?")
	if rawPath != "" && rawPath[0] != '/' {
		return nil, fmt.Errorf("URL %q must be empty or start with \"/\" or \"?\" (it is appended to the server URL)", t.URL)
	}
	if strings.ContainsAny(t.URL, "# \t\r\n") {
		return nil, fmt.Errorf("URL %q contains a fragment or whitespace", t.URL)
	}
	pathPat, err := parsePattern(rawPath)
	if err != nil {
		return nil, fmt.Errorf("URL: %w", err)
	}
	queryPat, err := parsePattern(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("URL: %w", err)
	}
	bodyPat, err := parsePattern(t.Body)
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	tokenPath, err := parsePath(t.TokenPath)
	if err != nil {
		return nil, fmt.Errorf("TokenPath: %w", err)
	}
	var expiryPath []string
	if t.ExpiryPath != "" {
		if expiryPath, err = parsePath(t.ExpiryPath); err != nil {
			return nil, fmt.Errorf("ExpiryPath: %w", err)
		}
	}
	headers := make(map[string]pattern, len(t.Headers))
	for k, v := range t.Headers {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			return nil, fmt.Errorf("invalid header name %q", k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("header %q: value contains a line break or NUL", k)
		}
		if headers[k], err = parsePattern(v); err != nil {
			return nil, fmt.Errorf("header %q: %w", k, err)
		}
	}
	hasBody := t.Body != ""
	build := func(req Request, expire uint32) (outgoing, error) {
		vals := templateValues(req, expire)
		out := outgoing{
			method: method,
			path:   pathPat.expand(vals, url.PathEscape),
			query:  queryPat.expand(vals, url.QueryEscape),
		}
		if hasBody {
			out.body = []byte(bodyPat.expand(vals, jsonEscape))
			if !json.Valid(out.body) {
				return outgoing{}, fmt.Errorf("the custom template's body is not valid JSON for this request " +
					"(does a string placeholder lack its quotes?)")
			}
		}
		if len(headers) > 0 {
			out.header = make(map[string]string, len(headers))
			for k, p := range headers {
				v := p.expand(vals, func(s string) string { return s })
				if strings.ContainsAny(v, "\r\n\x00") {
					return outgoing{}, fmt.Errorf("header %q of the custom template would contain a line break or NUL", k)
				}
				out.header[k] = v
			}
		}
		return out, nil
	}
	return &presetSpec{
		name:   "custom",
		build:  build,
		token:  func(Kind) []string { return tokenPath },
		expiry: expiryPath,
	}, nil
}

func templateValues(req Request, expire uint32) map[string]string {
	who := req.who()
	role, roleID := "publisher", "1"
	if req.Role == RoleSubscriber {
		role, roleID = "subscriber", "2"
	}
	return map[string]string{
		"user": who, "uid": who, "account": who,
		"channel": req.Channel,
		"role":    role, "roleid": roleID,
		"kind":   req.Kind.String(),
		"expire": strconv.FormatUint(uint64(expire), 10),
	}
}
