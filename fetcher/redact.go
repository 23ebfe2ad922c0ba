package fetcher

import (
	"log/slog"
	"strconv"
	"time"
)

// String describes t for humans and logs with its Raw token redacted, so
// that printing a Token with fmt's %v or %+v never reveals the token.
func (t Token) String() string {
	s := t.Request.Kind.String() + " token " + Redact(t.Raw)
	if who := t.Request.describe(); who != "" {
		s += " for " + who
	}
	if !t.ExpiresAt.IsZero() {
		s += ", expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return s
}

// GoString is like String, for fmt's %#v.
func (t Token) GoString() string { return "fetcher.Token{" + strconv.Quote(t.String()) + "}" }

// LogValue implements slog.LogValuer: a Token logged with log/slog shows
// its kind, user or channel, times and lifetime, and only the Redact form
// of the token.
func (t Token) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("kind", t.Request.Kind.String()),
		slog.String("token", Redact(t.Raw)),
	}
	switch t.Request.Kind {
	case KindRTM:
		attrs = append(attrs, slog.String("user", t.Request.UserID))
	case KindRTC:
		attrs = append(attrs, slog.String("channel", t.Request.Channel), slog.String("user", t.Request.who()))
	}
	attrs = append(attrs,
		slog.Time("issuedAt", t.IssuedAt),
		slog.Time("expiresAt", t.ExpiresAt),
		slog.Time("receivedAt", t.ReceivedAt),
		slog.Duration("lifetime", t.Lifetime))
	return slog.GroupValue(attrs...)
}
