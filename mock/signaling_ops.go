package mock

import (
	"context"
	"fmt"
	"time"

	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// Compile-time checks that the fake implements every adapter interface.
var (
	_ signaling.SDK             = (*Signaling)(nil)
	_ signaling.StreamSDK       = (*Signaling)(nil)
	_ signaling.SessionRestorer = (*Signaling)(nil)
)

// Login logs in with an RTM token, like the SDK's login followed by its
// onLoginResult. On success the link goes IDLE → CONNECTING → CONNECTED
// (operation LOGIN, reasons LOGIN and LOGIN_SUCCESS) and the token's
// signals are armed.
//
// Failures, checked in this order:
//   - DUPLICATE_OPERATION (−10017): a login succeeded, or the link went
//     FAILED, and Logout has not run since. This is the Go wrapper's
//     isLoggedIn quirk; the real wrapper returns its own −10003, which
//     collides with INVALID_APP_ID, so the fake uses −10017 instead.
//   - OPERATION_RATE_EXCEED_LIMITATION (−10021): more than LoginRateLimit
//     logins in LoginRateWindow.
//   - INVALID_TOKEN (−10005), INCONSISTENT_APPID (−10016) or TOKEN_EXPIRED
//     (−10009) for a token that fails the checks (no RTM service for this
//     user with the login privilege counts as invalid). The link then goes
//     CONNECTING → FAILED (operation LOGIN, reason INVALID_TOKEN,
//     INCONSISTENT_APP_ID or TOKEN_EXPIRED), and the next Login needs a
//     Logout first, as with the wrapper.
func (s *Signaling) Login(ctx context.Context, token string) error {
	const op = CallLogin
	if err := s.begin(ctx, op, EntryLogin, ""); err != nil {
		return err
	}
	s.mu.Lock()
	now := s.clock.Now()
	if s.needLogout {
		err := s.failCallLocked(now, op, EntryLogin, "", signaling.CodeDuplicateOperation,
			"already logged in or FAILED: Logout first")
		s.mu.Unlock()
		return err
	}
	if !s.allowLoginLocked(now) {
		err := s.failCallLocked(now, op, EntryLogin, "", signaling.CodeOperationRateExceedLimitation,
			fmt.Sprintf("more than %d logins in %v", s.rateLimit, s.rateWindow))
		s.mu.Unlock()
		return err
	}
	in, rej := s.checkLocked(token, now, "")
	ds := []sigDelivery{s.linkLocked(now, signaling.LinkStateEvent{Current: signaling.LinkConnecting,
		Operation: signaling.OpLogin, ReasonCode: signaling.ReasonLogin, Reason: "Login"})}
	s.needLogout = true
	if rej != nil {
		err := s.rejectLocked(now, op, "", token, rej)
		ds = append(ds, s.linkLocked(now, signaling.LinkStateEvent{Current: signaling.LinkFailed,
			Operation: signaling.OpLogin, ReasonCode: rej.reason(), Reason: rej.reason().String()}))
		s.mu.Unlock()
		s.deliver(ds)
		return err
	}
	s.login = in
	ds = append(ds, s.linkLocked(now, signaling.LinkStateEvent{Current: signaling.LinkConnected,
		Operation: signaling.OpLogin, ReasonCode: signaling.ReasonLoginSuccess, Reason: "Login success"}))
	s.stats.Logins++
	s.recordCallLocked(now, EntryLogin, op, "", nil, in.describe())
	s.mu.Unlock()
	s.nudge()
	s.deliver(ds)
	return nil
}

// allowLoginLocked applies the sliding-window login rate limit and, when
// the login may go ahead, counts it.
func (s *Signaling) allowLoginLocked(now time.Time) bool {
	cut := now.Add(-s.rateWindow)
	kept := s.loginTimes[:0]
	for _, t := range s.loginTimes {
		if t.After(cut) {
			kept = append(kept, t)
		}
	}
	s.loginTimes = kept
	if len(kept) >= s.rateLimit {
		return false
	}
	s.loginTimes = append(s.loginTimes, now)
	return true
}

// Logout logs out: the login token and every stream channel are dropped, the
// link goes to IDLE (operation LOGOUT, reason LOGOUT) and Login is allowed
// again. Logging out when not logged in succeeds and changes nothing but
// the quirk flag (the NOT_LOGIN outcome an adapter treats as success).
func (s *Signaling) Logout(ctx context.Context) error {
	const op = CallLogout
	if err := s.begin(ctx, op, EntryLogout, ""); err != nil {
		return err
	}
	s.mu.Lock()
	now := s.clock.Now()
	was := s.state
	var ds []sigDelivery
	if was != signaling.LinkIdle {
		ds = append(ds, s.linkLocked(now, signaling.LinkStateEvent{Current: signaling.LinkIdle,
			Operation: signaling.OpLogout, ReasonCode: signaling.ReasonLogout, Reason: "Logout",
			AffectedChannels: s.joinedLocked()}))
	}
	s.login = nil
	clear(s.streams)
	s.needLogout = false
	s.stats.Logouts++
	s.recordCallLocked(now, EntryLogout, op, "", nil, "link was "+was.String())
	s.mu.Unlock()
	s.nudge()
	s.deliver(ds)
	return nil
}

// RenewToken replaces the login token, moving its deadline and re-arming
// its will-expire signal. It fails with NOT_CONNECTED (−10025) unless the
// link is CONNECTED, and with the token codes of [Signaling.Login] for a
// bad token; the token in use stays. Renewing with the token already in use
// succeeds silently and changes nothing (counted in RenewNoops).
func (s *Signaling) RenewToken(ctx context.Context, token string) error {
	const op = CallRenew
	if err := s.begin(ctx, op, EntryRenew, ""); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if s.state != signaling.LinkConnected || s.login == nil {
		return s.failCallLocked(now, op, EntryRenew, "", signaling.CodeNotConnected, "link is "+s.state.String())
	}
	return s.replaceLocked(now, op, "", token, s.login)
}

// JoinStream joins a stream channel with an RTC token for that channel and
// this user (or the wildcard account ""), holding the join privilege.
// Failures: INVALID_CHANNEL_NAME (−10008) for an empty name or one over 64
// bytes; NOT_CONNECTED (−10025) unless the link is CONNECTED;
// DUPLICATE_OPERATION (−10017) when already joined; INVALID_TOKEN,
// INCONSISTENT_APPID or TOKEN_EXPIRED for a bad token. The fake emits no
// link event for stream joins.
func (s *Signaling) JoinStream(ctx context.Context, channel, token string) error {
	const op = CallJoin
	if err := s.begin(ctx, op, EntryJoin, channel); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if !sigValidChannel(channel) {
		return s.failCallLocked(now, op, EntryJoin, channel, signaling.CodeInvalidChannelName, "invalid channel name")
	}
	if s.state != signaling.LinkConnected {
		return s.failCallLocked(now, op, EntryJoin, channel, signaling.CodeNotConnected, "link is "+s.state.String())
	}
	if s.streams[channel] != nil {
		return s.failCallLocked(now, op, EntryJoin, channel, signaling.CodeDuplicateOperation, "already joined")
	}
	in, rej := s.checkLocked(token, now, channel)
	if rej != nil {
		return s.rejectLocked(now, op, channel, token, rej)
	}
	s.streams[channel] = in
	s.stats.Joins++
	s.recordCallLocked(now, EntryJoin, op, channel, nil, in.describe())
	s.nudge()
	return nil
}

// RenewStreamToken replaces the RTC token of a joined stream channel,
// moving its deadline and re-arming its will-expire signal. Failures:
// INVALID_CHANNEL_NAME (−10008) for an invalid name, CHANNEL_NOT_JOINED
// (−11001) for a channel not joined (or left after FAILED), NOT_CONNECTED
// (−10025) unless the link is CONNECTED, and the token codes of
// [Signaling.JoinStream]. The token already in use is a silent no-op.
func (s *Signaling) RenewStreamToken(ctx context.Context, channel, token string) error {
	const op = CallRenewStream
	if err := s.begin(ctx, op, EntryRenewStream, channel); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if !sigValidChannel(channel) {
		return s.failCallLocked(now, op, EntryRenewStream, channel, signaling.CodeInvalidChannelName, "invalid channel name")
	}
	cur := s.streams[channel]
	if cur == nil {
		return s.failCallLocked(now, op, EntryRenewStream, channel, signaling.CodeChannelNotJoined, "not joined")
	}
	if s.state != signaling.LinkConnected {
		return s.failCallLocked(now, op, EntryRenewStream, channel, signaling.CodeNotConnected, "link is "+s.state.String())
	}
	return s.replaceLocked(now, op, channel, token, cur)
}

// replaceLocked checks token and installs it for channel ("" for the login
// token) in place of cur, or records a no-op when it is the token in use.
func (s *Signaling) replaceLocked(now time.Time, op SDKOp, channel, token string, cur *sigInstalled) error {
	in, rej := s.checkLocked(token, now, channel)
	if rej != nil {
		return s.rejectLocked(now, op, channel, token, rej)
	}
	if in.sum == cur.sum {
		s.stats.RenewNoops++
		s.recordCallLocked(now, EntryRenewNoop, op, channel, nil, "same token "+in.redacted)
		return nil
	}
	if channel == "" {
		s.login = in
		s.stats.Renewals++
		s.recordCallLocked(now, EntryRenew, op, channel, nil, in.describe())
	} else {
		s.streams[channel] = in
		s.stats.StreamRenewals++
		s.recordCallLocked(now, EntryRenewStream, op, channel, nil, in.describe())
	}
	s.nudge()
	return nil
}

// LeaveStream leaves a joined stream channel and drops its token. It fails
// with INVALID_CHANNEL_NAME (−10008) for an invalid name and
// CHANNEL_NOT_JOINED (−11001) for a channel not joined.
func (s *Signaling) LeaveStream(ctx context.Context, channel string) error {
	const op = CallLeave
	if err := s.begin(ctx, op, EntryLeave, channel); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if !sigValidChannel(channel) {
		return s.failCallLocked(now, op, EntryLeave, channel, signaling.CodeInvalidChannelName, "invalid channel name")
	}
	if s.streams[channel] == nil {
		return s.failCallLocked(now, op, EntryLeave, channel, signaling.CodeChannelNotJoined, "not joined")
	}
	delete(s.streams, channel)
	s.stats.Leaves++
	s.recordCallLocked(now, EntryLeave, op, channel, nil, "")
	s.nudge()
	return nil
}

// RestoreSession records that the client restored its session after a
// re-login (channels: the stream channels it rejoined). It fails with
// NOT_CONNECTED (−10025) unless the link is CONNECTED.
func (s *Signaling) RestoreSession(ctx context.Context, channels []string) error {
	const op = CallRestore
	if err := s.begin(ctx, op, EntryRestore, ""); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if s.state != signaling.LinkConnected {
		return s.failCallLocked(now, op, EntryRestore, "", signaling.CodeNotConnected, "link is "+s.state.String())
	}
	s.stats.Restores++
	s.recordCallLocked(now, EntryRestore, op, "", nil, fmt.Sprintf("stream channels %q", channels))
	return nil
}

// failCallLocked records a call that fails for a reason other than its
// token and returns its error.
func (s *Signaling) failCallLocked(now time.Time, op SDKOp, kind EntryKind, channel string, code signaling.ErrorCode, detail string) error {
	err := &signaling.Error{Op: op.String(), Channel: channel, Code: code}
	s.recordCallLocked(now, kind, op, channel, err, detail)
	return err
}

func sigValidChannel(ch string) bool { return ch != "" && len(ch) <= sigMaxChannelName }
