package fetcher

import (
	"strconv"
	"unicode/utf8"
)

// Request bodies are written by appending to one byte slice, with the
// exact output of encoding/json (tested against it), which would otherwise
// reflect over a struct and allocate for every fetch.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, quoted and escaped as
// encoding/json.Marshal does: quote and backslash escaped, control
// characters as \b \f \n \r \t or \u00XX, <, > and & as \u003c, \u003e and
// \u0026, U+2028 and U+2029 as \u2028 and \u2029, and each byte of invalid
// UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONText(b, s)
	return append(b, '"')
}

// appendJSONText is appendJSONString without the quotes.
func appendJSONText(b []byte, s string) []byte {
	done := 0 // s[:done] is in b
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[done:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[done:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[done:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	return append(b, s[done:]...)
}

// jsonMember appends `"name":` after a '{' or a previous member.
func jsonMember(b []byte, name string) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// jsonObject is a small JSON object being written: start it with
// newJSONObject, add members in order, and close it with end.
type jsonObject []byte

func newJSONObject(size int) jsonObject { return append(make([]byte, 0, size+2), '{') }

func (o jsonObject) str(name, v string) jsonObject {
	return appendJSONString(jsonMember(o, name), v)
}

func (o jsonObject) uint(name string, v uint64) jsonObject {
	return strconv.AppendUint(jsonMember(o, name), v, 10)
}

func (o jsonObject) end() []byte { return append(o, '}') }
