package fetcher

import (
	"strconv"
	"strings"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

// legacyRTMLogin is the privilege id of RTM login in a 006 token.
const legacyRTMLogin = 1000

// checkToken decodes raw and checks that it is a token for req: the app
// (when appID is set), the RTM user or the RTC channel and user, the
// privilege the request needs, and a deadline still ahead. expiry, when not
// zero, is an absolute expiry the server sent next to the token; the earlier
// of it and the token's own deadline wins.
//
// serverTime, when not zero, is the token server's clock when it answered
// (its Date header). The token's times are on that clock, so "still ahead"
// is judged against it too: a client whose own clock runs ahead of the
// server's by a token lifetime or more would otherwise refuse every fresh
// token. With no Date header the local receipt time alone decides.
//
// The deadline of the privilege the request needs (RTM login, RTC join)
// bounds the token's: a 006 token from an early agora-token-service keeps
// its 24 h "ts" but carries the requested expiry in its privileges.
func checkToken(raw string, req Request, appID string, receivedAt, serverTime, expiry time.Time) (Token, *Error) {
	t, err := accesstoken.Parse(raw)
	if err != nil {
		return Token{}, fail(Permanent, ErrBadToken, err, "the token does not decode: %s", sanitize(err.Error()))
	}
	if appID != "" && t.AppID != appID {
		return Token{}, fail(Permanent, ErrMismatch, nil, "the token is for app ID %q, not %q", sanitize(t.AppID), appID)
	}
	var (
		privExp time.Time
		e       *Error
	)
	if t.Legacy != nil {
		privExp, e = checkLegacy(t, req)
	} else {
		privExp, e = checkServices(t, req)
	}
	if e != nil {
		return Token{}, e
	}
	exp := t.ExpiresAt()
	if privExp.Before(exp) {
		exp = privExp
	}
	if !expiry.IsZero() && expiry.Before(exp) {
		exp = expiry
	}
	issued := t.IssuedAt()
	life := exp.Sub(issued)
	if life <= 0 {
		return Token{}, fail(Retryable, ErrExpired, nil,
			"the token has no lifetime (issued %s, expires %s)", issued.Format(time.RFC3339), exp.Format(time.RFC3339))
	}
	// A token is refused as expired only when it is expired on every clock
	// at hand. A Date header the token is already expired by is not trusted
	// for the deadline either (a proxy's clock, or a server whose Date and
	// token clocks disagree); the local rule stands in.
	if !serverTime.IsZero() && !exp.After(serverTime) {
		if !exp.After(receivedAt) {
			return Token{}, fail(Retryable, ErrExpired, nil,
				"the token expired at %s, before the server sent it at %s by its own clock (a stale or cached token)",
				exp.Format(time.RFC3339), serverTime.UTC().Format(time.RFC3339))
		}
		serverTime = time.Time{}
	}
	if serverTime.IsZero() && !exp.After(receivedAt) {
		return Token{}, fail(Retryable, ErrExpired, nil,
			"the token expired at %s, before it arrived at %s (stale token, or the server's clock is behind)",
			exp.Format(time.RFC3339), receivedAt.UTC().Format(time.RFC3339))
	}
	return Token{
		Raw:        raw,
		Request:    req,
		IssuedAt:   issued,
		ExpiresAt:  exp,
		ReceivedAt: receivedAt,
		ServerTime: serverTime,
		Lifetime:   life,
	}, nil
}

// wantAccount is the RTC uid field a token for req must carry.
func wantAccount(req Request) string {
	if req.Account != "" {
		return req.Account
	}
	return accesstoken.UIDAccount(req.UID)
}

func describeAccount(a string) string {
	if a == "" {
		return "the wildcard uid 0"
	}
	return "user " + strconv.Quote(sanitize(a))
}

// checkServices finds the 007 service the request needs and returns the
// deadline of its privilege.
func checkServices(t *accesstoken.Token, req Request) (time.Time, *Error) {
	var seen []string
	for i := range t.Services {
		s := &t.Services[i]
		switch {
		case req.Kind == KindRTM && s.Type == accesstoken.ServiceRTM:
			if s.UserID != req.UserID {
				seen = append(seen, "RTM user "+strconv.Quote(sanitize(s.UserID)))
				continue
			}
			exp, ok := t.PrivilegeExpiresAt(s, accesstoken.PrivRTMLogin)
			if !ok {
				return time.Time{}, fail(Permanent, ErrMismatch, nil, "the RTM token for user %q lacks the login privilege", req.UserID)
			}
			return exp, nil
		case req.Kind == KindRTC && s.Type == accesstoken.ServiceRTC:
			if s.Channel != req.Channel || s.Account != wantAccount(req) {
				seen = append(seen, "RTC channel "+strconv.Quote(sanitize(s.Channel))+" for "+describeAccount(s.Account))
				continue
			}
			exp, ok := t.PrivilegeExpiresAt(s, accesstoken.PrivJoinChannel)
			if !ok {
				return time.Time{}, fail(Permanent, ErrMismatch, nil, "the RTC token lacks the join-channel privilege")
			}
			if req.Role != RoleSubscriber {
				_, audio := s.Privilege(accesstoken.PrivPublishAudio)
				_, video := s.Privilege(accesstoken.PrivPublishVideo)
				if !audio || !video {
					return time.Time{}, fail(Permanent, ErrMismatch, nil,
						"the RTC token grants subscriber rights only, publisher requested (does the server know the role word %q?)",
						req.Role.String())
				}
			}
			return exp, nil
		}
	}
	want := "RTM user " + strconv.Quote(req.UserID)
	if req.Kind == KindRTC {
		want = "RTC channel " + strconv.Quote(req.Channel) + " for " + describeAccount(wantAccount(req))
	}
	if len(seen) == 0 {
		for i := range t.Services {
			seen = append(seen, t.Services[i].Type.String()+" service")
		}
		if len(seen) == 0 {
			seen = append(seen, "no services")
		}
	}
	return time.Time{}, fail(Permanent, ErrMismatch, nil, "the token is for %s, not %s", strings.Join(seen, ", "), want)
}

// checkLegacy matches a 006 token through the CRCs of its channel and uid
// (the legacy RTM builder stores the user ID as the channel and an empty
// uid) and returns the deadline of the needed privilege.
func checkLegacy(t *accesstoken.Token, req Request) (time.Time, *Error) {
	l := t.Legacy
	channel, uid, priv := req.Channel, wantAccount(req), uint16(accesstoken.PrivJoinChannel)
	want := "RTC channel " + strconv.Quote(req.Channel) + " for " + describeAccount(uid)
	if req.Kind == KindRTM {
		channel, uid, priv = req.UserID, "", legacyRTMLogin
		want = "RTM user " + strconv.Quote(req.UserID)
	}
	if !l.MatchChannel(channel) || !l.MatchUID(uid) {
		return time.Time{}, fail(Permanent, ErrMismatch, nil, "the 006 token's channel and uid checksums do not match %s", want)
	}
	exp, ok := t.PrivilegeExpiresAt(nil, priv)
	if !ok {
		return time.Time{}, fail(Permanent, ErrMismatch, nil, "the 006 token for %s lacks privilege %d", want, priv)
	}
	return exp, nil
}
