package fetcher

import (
	"strconv"
	"strings"
)

// The fast reading of a 2xx body.
//
// Almost every answer is a small flat object such as {"token":"007…"}.
// Decoding it with encoding/json into an any builds a map and boxes every
// value, which costs more than the rest of the answer's handling. fastDecode
// instead walks the bytes once, validating the whole document and noting
// where the preset's few top-level members are, without allocating.
//
// It only ever answers for the success path, and only when it is sure that
// encoding/json would decode the same document without error to the same
// token and expiry: anything unusual (escapes in a top-level key or in the
// token, non-ASCII or non-printable text in the token, exponents or very
// long numbers, deep nesting, a dotted path, a docs "code" other than the
// literal 200 or 0, any error) makes it decline, and decodeBody then takes
// the generic path, which also writes every error message. FuzzFastDecode
// checks the two against each other.

// maxFastDepth bounds the nesting the fast scan follows; deeper documents
// take the generic path (encoding/json allows 10000 levels).
const maxFastDepth = 32

// maxFastNumber is the longest number the fast scan accepts. A number
// without an exponent and at most this many characters is always within
// float64 range, so encoding/json decodes it into an any without error.
const maxFastNumber = 300

// member is the last value found for one top-level member name.
type member struct {
	name       string
	found      bool
	kind       byte // the value's first byte: '"', '{', '[', 't', 'f', 'n', '-' or a digit
	plain      bool // a string without escapes whose bytes are all printable ASCII
	start, end int  // the value's bytes; for a string, without its quotes
}

// fastDecode reads a 2xx body for spec and kind without encoding/json. ok
// is false when it cannot be sure of the result; the caller then decodes
// the body the generic way.
func fastDecode(spec *presetSpec, kind Kind, body []byte) (d decoded, ok bool) {
	path := spec.token(kind)
	if len(path) != 1 || !fastName(path[0]) {
		return decoded{}, false
	}
	var buf [3]member
	ms := append(buf[:0], member{name: path[0]})
	if spec.docsCode {
		ms = append(ms, member{name: "code"})
	}
	if spec.expiry != nil {
		if len(spec.expiry) != 1 || !fastName(spec.expiry[0]) {
			return decoded{}, false
		}
		ms = append(ms, member{name: spec.expiry[0]})
	}
	if !scanObject(body, ms) {
		return decoded{}, false
	}
	tok := ms[0]
	if !tok.found || !tok.plain {
		return decoded{}, false
	}
	// Printable ASCII holds no white space but the space character.
	raw := body[tok.start:tok.end]
	for len(raw) > 0 && raw[0] == ' ' {
		raw = raw[1:]
	}
	for len(raw) > 0 && raw[len(raw)-1] == ' ' {
		raw = raw[:len(raw)-1]
	}
	if len(raw) < 3 || raw[0] != '0' || raw[1] != '0' || (raw[2] != '6' && raw[2] != '7') {
		return decoded{}, false
	}
	ms = ms[1:]
	if spec.docsCode {
		if code := ms[0]; code.found {
			// The member's raw bytes (a string without its quotes): exactly
			// "200" or "0" can only be that number or that plain string,
			// since an escaped string would hold a backslash.
			v := string(body[code.start:code.end]) // compared, not kept: no allocation
			if v != "200" && v != "0" {
				return decoded{}, false
			}
		}
		ms = ms[1:]
	}
	d.raw = string(raw)
	if spec.expiry != nil {
		exp := ms[0]
		if !exp.found {
			return decoded{}, false
		}
		var s string
		switch {
		case exp.plain:
			s = strings.TrimSpace(string(body[exp.start:exp.end]))
		case exp.kind == '-' || exp.kind >= '0' && exp.kind <= '9':
			s = string(body[exp.start:exp.end])
		default:
			return decoded{}, false
		}
		f, err := strconv.ParseFloat(s, 64)
		t, isTime := unixTime(f, err)
		if !isTime {
			return decoded{}, false
		}
		d.expiry = t
	}
	return d, true
}

// fastName reports whether a member name can be matched byte for byte: a
// non-empty name of printable ASCII without quotes or backslashes, which no
// other spelling (escapes, invalid UTF-8) decodes to.
func fastName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// scanObject reports whether b is one JSON object, with nothing but white
// space around it, that encoding/json decodes into an any without error,
// and whose top-level member names hold no escapes. For each of ms it
// records the last member with that name, as decoding into a map keeps the
// last one.
func scanObject(b []byte, ms []member) bool {
	s := scanner{b: b}
	s.space()
	if !s.object(1, ms) {
		return false
	}
	s.space()
	return s.i == len(b)
}

// scanner walks a JSON document; every method returns false on anything it
// does not accept, which includes all invalid JSON.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) at(c byte) bool { return s.i < len(s.b) && s.b[s.i] == c }

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object scans the object at s.i, recording the members named in ms (only
// given for the top level, where names with escapes are refused).
func (s *scanner) object(depth int, ms []member) bool {
	if depth > maxFastDepth || !s.at('{') {
		return false
	}
	s.i++
	s.space()
	if s.at('}') {
		s.i++
		return true
	}
	for {
		if !s.at('"') {
			return false
		}
		k := s.i + 1
		escaped, _, ok := s.str()
		if !ok || (escaped && depth == 1) {
			return false
		}
		key := s.b[k : s.i-1]
		s.space()
		if !s.at(':') {
			return false
		}
		s.i++
		s.space()
		m := member{found: true, start: s.i}
		if s.at('"') {
			escaped, ascii, ok := s.str()
			if !ok {
				return false
			}
			m.kind, m.plain, m.start, m.end = '"', !escaped && ascii, m.start+1, s.i-1
		} else {
			if s.i < len(s.b) {
				m.kind = s.b[s.i]
			}
			if !s.value(depth) {
				return false
			}
			m.end = s.i
		}
		for j := range ms {
			if string(key) == ms[j].name {
				m.name = ms[j].name
				ms[j] = m
			}
		}
		s.space()
		switch {
		case s.at(','):
			s.i++
			s.space()
		case s.at('}'):
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array(depth int) bool {
	if depth > maxFastDepth {
		return false
	}
	s.i++ // '['
	s.space()
	if s.at(']') {
		s.i++
		return true
	}
	for {
		if !s.value(depth) {
			return false
		}
		s.space()
		switch {
		case s.at(','):
			s.i++
			s.space()
		case s.at(']'):
			s.i++
			return true
		default:
			return false
		}
	}
}

// value scans any value at s.i; depth is that of the enclosing container.
func (s *scanner) value(depth int) bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, ok := s.str()
		return ok
	case c == '{':
		return s.object(depth+1, nil)
	case c == '[':
		return s.array(depth + 1)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

// number scans a number without an exponent, of at most maxFastNumber
// characters.
func (s *scanner) number() bool {
	start := s.i
	if s.at('-') {
		s.i++
	}
	switch {
	case s.at('0'):
		s.i++
	case s.digits() == 0:
		return false
	}
	if s.at('.') {
		s.i++
		if s.digits() == 0 {
			return false
		}
	}
	if s.at('e') || s.at('E') {
		return false // encoding/json may find it out of float64 range
	}
	return s.i-start <= maxFastNumber
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// str scans the string at s.i (its opening quote) and reports whether it
// holds escapes and whether all its bytes are printable ASCII.
func (s *scanner) str() (escaped, ascii, ok bool) {
	ascii = true
	b, i := s.b, s.i+1
	for {
		for i < len(b) && plainByte[b[i]] {
			i++
		}
		if i >= len(b) {
			return false, false, false
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return escaped, ascii, true
		case c == '\\':
			s.i = i
			if !s.escape() {
				return false, false, false
			}
			escaped, i = true, s.i
		case c < 0x20:
			return false, false, false
		default: // DEL or a byte of a multi-byte character
			ascii = false
			i++
		}
	}
}

// plainByte holds the bytes that a string may hold as they are and that
// are printable ASCII: not a quote, a backslash or a control character.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escape scans the escape sequence at s.i (its backslash).
func (s *scanner) escape() bool {
	if s.i+1 >= len(s.b) {
		return false
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i += 2
		return true
	case 'u':
		if len(s.b)-s.i < 6 {
			return false
		}
		for _, c := range s.b[s.i+2 : s.i+6] {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
		s.i += 6
		return true
	}
	return false
}
