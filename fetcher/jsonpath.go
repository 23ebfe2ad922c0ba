package fetcher

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxPathSegments bounds a dotted path; JSON answers are shallow.
const maxPathSegments = 32

// parsePath splits a dotted path such as "data.token" or "items.0.token"
// into its segments. Empty paths and empty segments are errors.
func parsePath(s string) ([]string, error) {
	if s == "" {
		return nil, errors.New("empty path")
	}
	segs := strings.Split(s, ".")
	if len(segs) > maxPathSegments {
		return nil, fmt.Errorf("path %q has more than %d segments", s, maxPathSegments)
	}
	for _, seg := range segs {
		if seg == "" {
			return nil, fmt.Errorf("path %q has an empty segment", s)
		}
	}
	return segs, nil
}

// lookupPath follows path through a value decoded by encoding/json: a
// segment selects an object member, or, when the value is an array, the
// element at its decimal index. ok is false when a step is missing.
func lookupPath(v any, path []string) (any, bool) {
	for _, seg := range path {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[seg]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}
