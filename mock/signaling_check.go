package mock

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// sigPrivLegacyRTMLogin is the RTM login privilege of a legacy (006) RTM
// token; 007 tokens use accesstoken.PrivRTMLogin.
const sigPrivLegacyRTMLogin uint16 = 1000

// sigRejection is why a token was refused.
type sigRejection struct {
	code    signaling.ErrorCode
	expired bool   // counts as an expired-token use
	why     string // for the timeline; never the token
}

// reason is the link-state reason a failed login reports for r.
func (r *sigRejection) reason() signaling.Reason {
	switch r.code {
	case signaling.CodeTokenExpired:
		return signaling.ReasonTokenExpired
	case signaling.CodeInconsistentAppID:
		return signaling.ReasonInconsistentAppID
	default:
		return signaling.ReasonInvalidToken
	}
}

// checkLocked verifies raw for the login (channel "") or for joining or
// renewing a stream channel at time now, in the order an SDK and its
// server would: format, app ID, signature, expiry, service for this user
// (and channel), privilege and its expiry. On success it returns the token
// to install, its deadline the earlier of the token's and the privilege's.
// Legacy 006 tokens are checked too, by their channel and uid CRCs.
func (s *Signaling) checkLocked(raw string, now time.Time, channel string) (*sigInstalled, *sigRejection) {
	invalid := func(why string) *sigRejection {
		return &sigRejection{code: signaling.CodeInvalidToken, why: why}
	}
	expired := func(why string, at time.Time) *sigRejection {
		return &sigRejection{code: signaling.CodeTokenExpired, expired: true, why: why + " " + sigStamp(at)}
	}
	if raw == "" {
		return nil, invalid("empty token")
	}
	tok, err := accesstoken.Parse(raw)
	if err != nil {
		return nil, invalid("token does not parse")
	}
	if tok.AppID != s.appID {
		return nil, &sigRejection{code: signaling.CodeInconsistentAppID,
			why: "token for app " + strconv.Quote(tok.AppID)}
	}
	legacy := tok.Legacy != nil
	if legacy {
		if rej := s.verifyLegacy(tok, channel); rej != nil {
			return nil, rej
		}
	} else if tok.Verify(s.cert) != nil {
		return nil, invalid("signature does not verify")
	}
	sum := sha256.Sum256([]byte(raw))
	if s.revoked[sum] {
		return nil, &sigRejection{code: signaling.CodeTokenExpired, expired: true, why: "token was forced to expire"}
	}
	deadline := tok.ExpiresAt()
	if !now.Before(deadline) {
		return nil, expired("token expired at", deadline)
	}
	var svc *accesstoken.Service // stays nil for a legacy token
	priv := accesstoken.PrivRTMLogin
	switch {
	case channel != "":
		priv = accesstoken.PrivJoinChannel
	case legacy:
		priv = sigPrivLegacyRTMLogin
	}
	if !legacy {
		var rej *sigRejection
		if svc, rej = s.findService(tok, channel); rej != nil {
			return nil, rej
		}
	}
	pd, ok := tok.PrivilegeExpiresAt(svc, priv)
	if !ok {
		return nil, invalid(fmt.Sprintf("%s token lacks privilege %d", sigServiceName(channel), priv))
	}
	if pd.Before(deadline) {
		deadline = pd
	}
	if !now.Before(deadline) {
		return nil, expired("privilege expired at", deadline)
	}
	return &sigInstalled{
		sum:      sum,
		redacted: sigRedact(raw),
		deadline: deadline,
		warnAt:   sigLater(now, deadline.Add(-WillExpireLead)),
	}, nil
}

// verifyLegacy checks a 006 token's signature, which covers the channel
// name and uid: the user ID in the channel slot (and uid "") for the login,
// else the channel with this user's account or the wildcard "".
func (s *Signaling) verifyLegacy(tok *accesstoken.Token, channel string) *sigRejection {
	r := &sigRejection{code: signaling.CodeInvalidToken, why: "signature does not verify"}
	switch {
	case channel == "" && !tok.Legacy.MatchChannel(s.userID):
		r.why = "legacy token for another user"
	case channel == "" && tok.VerifyLegacy(s.cert, s.userID, "") == nil:
		return nil
	case channel == "":
	case !tok.Legacy.MatchChannel(channel):
		r.why = "legacy token for another channel"
	case tok.VerifyLegacy(s.cert, channel, s.userID) == nil, tok.VerifyLegacy(s.cert, channel, "") == nil:
		return nil
	case !tok.Legacy.MatchUID(s.userID) && !tok.Legacy.MatchUID(""):
		r.why = "legacy token for another account"
	}
	return r
}

// findService returns the service record the use needs: an RTM service for
// the user, or an RTC service for the channel whose account is the user or
// the wildcard "".
func (s *Signaling) findService(tok *accesstoken.Token, channel string) (*accesstoken.Service, *sigRejection) {
	want := accesstoken.ServiceRTM
	if channel != "" {
		want = accesstoken.ServiceRTC
	}
	var other *accesstoken.Service
	for i := range tok.Services {
		svc := &tok.Services[i]
		if svc.Type != want {
			continue
		}
		if channel == "" && svc.UserID == s.userID {
			return svc, nil
		}
		if channel != "" && svc.Channel == channel && (svc.Account == s.userID || svc.Account == "") {
			return svc, nil
		}
		if other == nil {
			other = svc
		}
	}
	r := &sigRejection{code: signaling.CodeInvalidToken}
	switch {
	case other == nil:
		r.why = "token has no " + sigServiceName(channel) + " service"
	case channel == "":
		r.why = "RTM service for user " + strconv.Quote(other.UserID)
	case other.Channel != channel:
		r.why = "RTC service for channel " + strconv.Quote(other.Channel)
	default:
		r.why = "RTC service for account " + strconv.Quote(other.Account)
	}
	return nil, r
}

func sigServiceName(channel string) string {
	if channel == "" {
		return "RTM"
	}
	return "RTC"
}

func sigStamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func sigLater(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// describe is the timeline detail of an installed token.
func (in *sigInstalled) describe() string {
	return "token " + in.redacted + ", deadline " + sigStamp(in.deadline)
}

// rejectLocked records and counts a refused token and returns the call's
// error.
func (s *Signaling) rejectLocked(now time.Time, op SDKOp, channel, raw string, r *sigRejection) error {
	kind := EntryRejected
	if r.expired {
		kind = EntryExpiredUse
		s.stats.ExpiredTokenUses++
	} else {
		s.stats.RejectedTokens++
	}
	err := &signaling.Error{Op: op.String(), Channel: channel, Code: r.code}
	detail := op.String() + ": " + r.why
	if raw != "" {
		detail += "; token " + sigRedact(raw)
	}
	e := Entry{Time: now, Kind: kind, Op: op, Channel: channel, Code: r.code, Detail: detail}
	s.stats.FailedCalls++
	s.recordLocked(e)
	return err
}

// sigRedact returns a form of a token that is safe to record: its first six
// characters, an ellipsis and its length (the format of fetcher.Redact).
// Strings of twelve characters or fewer are replaced entirely.
func sigRedact(s string) string {
	if len(s) <= 12 {
		return "[redacted]"
	}
	return s[:6] + "…(" + strconv.Itoa(len(s)) + " chars)"
}
