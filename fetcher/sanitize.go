package fetcher

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxEchoLen bounds server text echoed in an error detail.
const maxEchoLen = 200

// sanitize makes server-supplied text safe to put in an error or a log: it
// turns control characters and runs of white space into one space, drops
// invalid UTF-8, replaces anything that looks like a token (see
// redactTokens) with its [Redact] form and cuts the result to maxEchoLen
// characters plus "…".
//
// Redaction runs after the clean-up, so that dropping an invalid byte
// cannot join two harmless pieces into a token-like run. The clean-up stops
// at twice maxEchoLen characters, after finishing the token-like run it is
// in: a run cut short could escape redaction and, once an earlier run has
// shrunk to its Redact form, move inside the final cut.
func sanitize(s string) string {
	if len(s) > 4*MaxResponseSize {
		s = s[:4*MaxResponseSize]
	}
	var b strings.Builder
	n := 0
	space := false
	for _, r := range s {
		if r == utf8.RuneError {
			continue
		}
		white := unicode.IsSpace(r) || unicode.IsControl(r)
		if n >= 2*maxEchoLen {
			// Past the limit, only finish the token-like run the text
			// stopped in, so that redactTokens sees it whole.
			if white || space || r >= utf8.RuneSelf || !isTokenByte(byte(r)) {
				break
			}
			b.WriteByte(byte(r))
			continue
		}
		if white {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return cutRunes(redactTokens(b.String()), maxEchoLen)
}

// cutRunes returns s cut to n characters, marked with "…" if it was longer.
func cutRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}

// minTokenRun is the shortest run after "006"/"007" treated as a token. Real
// tokens are over a hundred characters; error texts seldom hold such runs.
const minTokenRun = 16

// redactTokens replaces each "006…" or "007…" run of at least minTokenRun
// base64 characters with its Redact form, so that echoed text never carries
// a usable token.
func redactTokens(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i+3 <= len(s); {
		if s[i] != '0' || s[i+1] != '0' || (s[i+2] != '6' && s[i+2] != '7') {
			i++
			continue
		}
		j := i + 3
		for j < len(s) && isTokenByte(s[j]) {
			j++
		}
		if j-i-3 < minTokenRun {
			i = j
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(Redact(s[i:j]))
		last, i = j, j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isTokenByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '+' || c == '/' || c == '=' || c == '-' || c == '_'
}
