package fetcher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// fail builds an *Error without its Request; Fetch fills that in.
func fail(class Class, sentinel error, cause error, format string, args ...any) *Error {
	e := &Error{Class: class, Err: sentinel, Detail: fmt.Sprintf(format, args...)}
	if cause != nil {
		e.Err = joinErrors(sentinel, cause)
	}
	return e
}

// joinedError wraps a sentinel and a cause; its text is the sentinel's.
type joinedError struct{ sentinel, cause error }

func joinErrors(sentinel, cause error) error { return &joinedError{sentinel, cause} }

func (j *joinedError) Error() string   { return j.sentinel.Error() + ": " + j.cause.Error() }
func (j *joinedError) Unwrap() []error { return []error{j.sentinel, j.cause} }

// mediaType returns the lower-case media type of a Content-Type header, or
// a short sanitized form of an unparsable one.
func mediaType(contentType string) string {
	if contentType == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return sanitize(contentType)
	}
	return mt
}

func isHTML(mt string, body []byte) bool {
	if mt == "text/html" || mt == "application/xhtml+xml" {
		return true
	}
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '<'
}

// describeNonJSON says, without echoing it, what a body that is not the
// expected JSON looks like.
func describeNonJSON(contentType string, body []byte) string {
	mt := mediaType(contentType)
	// A parsable media type is still the server's text: redact and bound it.
	shown := sanitize(mt)
	if shown == "" {
		shown = "no content type"
	}
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return "empty body (" + shown + ")"
	case isHTML(mt, body):
		return "got HTML (" + shown + ") instead of JSON"
	default:
		return fmt.Sprintf("body is not JSON (%s, %d bytes)", shown, len(body))
	}
}

// decodeJSON parses a whole body as one JSON value.
func decodeJSON(body []byte) (any, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// serverText extracts a short, sanitized explanation from an error body:
// the "error", "message", "msg" or "detail" members of a JSON object (and,
// for the docs sample servers, the error text they put in "token"), or a
// plain-text body. HTML pages and other shapes give "".
func serverText(contentType string, body []byte, docsCode bool) string {
	if len(body) == 0 || isHTML(mediaType(contentType), body) {
		return ""
	}
	v, err := decodeJSON(body)
	if err != nil {
		if mediaType(contentType) == "text/plain" || mediaType(contentType) == "" {
			return sanitize(string(body))
		}
		return ""
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	var parts []string
	keys := []string{"error", "message", "msg", "detail"}
	if _, hasCode := obj["code"]; docsCode || hasCode {
		keys = append(keys, "token")
	}
	for _, k := range keys {
		if s, ok := obj[k].(string); ok && strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	return sanitize(strings.Join(parts, "; "))
}

// statusError describes a response whose status is not 2xx.
func statusError(status int, header http.Header, body []byte, retryAfter time.Duration, preset string, docsCode bool) *Error {
	class := Permanent
	if retryableStatus(status) {
		class = Retryable
	}
	text := serverText(header.Get("Content-Type"), body, docsCode)
	said := ""
	if text != "" {
		said = ": " + strconv.Quote(text)
	}
	st := strconv.Itoa(status)
	if t := http.StatusText(status); t != "" {
		st += " " + t
	}
	var detail string
	switch {
	case status == http.StatusForbidden && strings.Contains(text, "Origin not allowed"):
		detail = "the server refused the request's origin (403 Origin not allowed): it pins its CORS origins " +
			"(CORS_ALLOW_ORIGIN), so send an allowed one with WithHeader(\"Origin\", \"https://…\")"
	case status == http.StatusUnauthorized:
		detail = "the server refused the credentials (" + st + ")" + said +
			"; send the right ones with WithHeader(\"Authorization\", …)"
	case status == http.StatusForbidden:
		detail = "forbidden (" + st + ")" + said
	case status == http.StatusNotFound:
		detail = "no such route (" + st + ")" + said + "; check the server URL and the preset (" + preset +
			"; POST /getToken needs agora-token-service v1.4.1 or later, older servers answer the " +
			NameAgoraTokenServiceGET + " preset)"
	case status == http.StatusBadRequest:
		detail = "the server rejected the request (" + st + ")" + said
	case status == http.StatusTooManyRequests:
		detail = "rate limited (" + st + ")" + said
	case status >= 500:
		detail = "server error (" + st + ")" + said
	case status >= 300 && status < 400:
		detail = "unexpected redirect (" + st + ") that was not followed"
	default:
		detail = "unexpected status " + st + said
	}
	if retryAfter > 0 {
		detail += "; retry after " + retryAfter.String()
	}
	e := fail(class, ErrStatus, nil, "%s", detail)
	e.StatusCode = status
	e.RetryAfter = retryAfter
	return e
}

// decoded is the useful content of a 2xx body.
type decoded struct {
	raw    string    // the token, whitespace trimmed
	expiry time.Time // from the preset's expiry path; zero if none
}

// decodeBody reads a 2xx body per the preset: JSON, the optional docs
// sample "code", the token field (a string starting "006" or "007") and the
// optional expiry field. The body is never echoed: it may hold a token.
func decodeBody(spec *presetSpec, kind Kind, contentType string, body []byte) (decoded, *Error) {
	if htmlAnswer(contentType, body) || len(bytes.TrimSpace(body)) == 0 {
		return decoded{}, fail(Permanent, ErrBadResponse, nil, "%s", describeNonJSON(contentType, body))
	}
	if d, ok := fastDecode(spec, kind, body); ok {
		return d, nil
	}
	return decodeGeneric(spec, kind, contentType, body)
}

// htmlAnswer is isHTML(mediaType(contentType), body), without parsing the
// usual JSON content types: a header starting "application/json" names no
// HTML type whether or not it parses.
func htmlAnswer(contentType string, body []byte) bool {
	if strings.HasPrefix(contentType, "application/json") {
		return isHTML("", body)
	}
	return isHTML(mediaType(contentType), body)
}

// decodeGeneric is decodeBody through encoding/json, for any document; it
// writes the error messages. The caller has refused HTML and empty bodies.
func decodeGeneric(spec *presetSpec, kind Kind, contentType string, body []byte) (decoded, *Error) {
	doc, err := decodeJSON(body)
	if err != nil {
		return decoded{}, fail(Permanent, ErrBadResponse, nil, "%s", describeNonJSON(contentType, body))
	}
	if spec.docsCode {
		if e := docsCodeError(doc); e != nil {
			return decoded{}, e
		}
	}
	path := spec.token(kind)
	name := strconv.Quote(strings.Join(path, "."))
	v, ok := lookupPath(doc, path)
	if !ok {
		detail := "the answer has no " + name + " field"
		if obj, isObj := doc.(map[string]any); isObj {
			if text := serverText("application/json", body, false); text != "" {
				detail += "; the server says " + strconv.Quote(text)
			} else if len(obj) > 0 {
				detail += " (it has " + memberNames(obj) + ")"
			}
		} else {
			detail += " (the JSON value is not an object)"
		}
		return decoded{}, fail(Permanent, ErrBadResponse, nil, "%s", detail)
	}
	s, ok := v.(string)
	if !ok {
		return decoded{}, fail(Permanent, ErrBadResponse, nil, "the %s field is %s, not a string", name, jsonKind(v))
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return decoded{}, fail(Permanent, ErrBadResponse, nil, "the %s field is empty", name)
	case !strings.HasPrefix(s, "007") && !strings.HasPrefix(s, "006"):
		return decoded{}, fail(Permanent, ErrBadResponse, nil,
			"the %s field does not hold an Agora token (no 006/007 prefix, %d characters)", name, len(s))
	}
	out := decoded{raw: s}
	if spec.expiry != nil {
		exp, e := expiryField(doc, spec.expiry)
		if e != nil {
			return decoded{}, e
		}
		out.expiry = exp
	}
	return out, nil
}

// docsCodeError checks the "code" of a docs sample server's answer.
func docsCodeError(doc any) *Error {
	obj, _ := doc.(map[string]any)
	code, ok := obj["code"]
	if !ok {
		return nil
	}
	var c string
	switch x := code.(type) {
	case string:
		c = x
	case float64:
		c = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fail(Permanent, ErrBadResponse, nil, "the \"code\" field is %s", jsonKind(code))
	}
	if c == "200" || c == "0" {
		return nil
	}
	class := Permanent
	if n, err := strconv.Atoi(c); err == nil && retryableStatus(n) {
		class = Retryable
	}
	detail := "the server answered code " + strconv.Quote(sanitize(c))
	if text, _ := obj["token"].(string); text != "" {
		detail += ": " + strconv.Quote(sanitize(text))
	}
	return fail(class, ErrStatus, nil, "%s", detail)
}

// expiryField reads an absolute unix expiry (seconds, or milliseconds when
// at least 1e11) from a number or numeric string.
func expiryField(doc any, path []string) (time.Time, *Error) {
	name := strconv.Quote(strings.Join(path, "."))
	v, ok := lookupPath(doc, path)
	if !ok {
		return time.Time{}, fail(Permanent, ErrBadResponse, nil, "the answer has no %s expiry field", name)
	}
	var f float64
	var err error
	switch x := v.(type) {
	case float64:
		f = x
	case string:
		f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
	default:
		return time.Time{}, fail(Permanent, ErrBadResponse, nil, "the %s expiry field is %s, not a number", name, jsonKind(v))
	}
	t, ok := unixTime(f, err)
	if !ok {
		return time.Time{}, fail(Permanent, ErrBadResponse, nil, "the %s expiry field is not a unix time", name)
	}
	return t, nil
}

// unixTime turns a parsed expiry into a time: f is unix seconds, or
// milliseconds when at least 1e11. ok is false when err is set or f is not
// a plausible unix time.
func unixTime(f float64, err error) (t time.Time, ok bool) {
	if err != nil || math.IsNaN(f) || f <= 0 || f >= 1e15 {
		return time.Time{}, false
	}
	if f >= 1e11 {
		f /= 1000
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "unknown"
}

// memberNames lists up to five member names of obj, sanitized.
func memberNames(obj map[string]any) string {
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	slices.Sort(names)
	if len(names) > 5 {
		names = append(names[:5], "…")
	}
	return sanitize(strings.Join(names, ", "))
}
