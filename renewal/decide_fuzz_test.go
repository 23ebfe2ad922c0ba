package renewal

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// FuzzDecide feeds Decide random situations and signals. It must never
// panic, must answer the same way twice, and must keep the promises of the
// decision table (see checkAction). The input bytes are decoded by
// decodeDecideCase; seeds live in testdata/fuzz/FuzzDecide and below.
func FuzzDecide(f *testing.F) {
	for _, seed := range decideSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, sig, wild := decodeDecideCase(data)
		a := Decide(s, sig)
		if b := Decide(s, sig); a != b {
			t.Fatalf("Decide is not deterministic: %+v then %+v\nsituation %+v\nsignal %+v", a, b, s, sig)
		}
		if wild {
			return // out-of-range enums: only "no panic" and determinism are promised
		}
		if msg := checkAction(s, sig, a); msg != "" {
			t.Fatalf("%s\nsituation %+v\nsignal    %+v (err %v)\naction    %+v", msg, s, sig, sig.Err, a)
		}
	})
}

// Flag bits of the sixth input byte.
const (
	fzRelogin = 1 << iota
	fzExpired
	fzForced
	fzReloginOnKick
	fzTimeout
	fzWild // take enum bytes as they are, without folding them into range
)

// decodeDecideCase turns fuzz bytes into a situation and a signal. Byte by
// byte: key, phase, link, in-flight op, trigger, flags, current link state,
// service, link operation, reason, failed op, error kind, then the SDK
// error code (2 bytes, an index into known codes or a raw value). Unless
// the wild flag is set, each enum is folded into its defined range and the
// operations into those the engine runs on a key of that kind, so the
// situation is one the engine can build.
func decodeDecideCase(data []byte) (Situation, Signal, bool) {
	var b [14]byte
	copy(b[:], data)
	flags := b[5]
	wild := flags&fzWild != 0
	fold := func(v byte, n int, base int) int {
		if wild {
			return int(v)
		}
		return base + int(v)%n
	}
	key := KeyKind(fold(b[0], 2, 1))
	ops := loginOps // the operations the engine runs on a key of this kind
	if key == KeyStream {
		ops = streamOps
	}
	pick := func(v byte, none bool) OpKind {
		switch {
		case wild:
			return OpKind(v)
		case none && int(v)%(len(ops)+1) == len(ops):
			return OpNone
		}
		return ops[int(v)%len(ops)]
	}
	s := Situation{
		Key:           key,
		Phase:         Phase(fold(b[1], 10, 0)),
		Link:          signaling.LinkState(fold(b[2], 6, 0)),
		InFlight:      pick(b[3], true),
		Relogin:       flags&fzRelogin != 0,
		Expired:       flags&fzExpired != 0,
		Forced:        flags&fzForced != 0,
		ReloginOnKick: flags&fzReloginOnKick != 0,
	}
	sig := Signal{
		Trigger: Trigger(fold(b[4], 6, 1)),
		Link: signaling.LinkStateEvent{
			Current:    signaling.LinkState(fold(b[6], 6, 0)),
			Previous:   signaling.LinkConnected,
			Service:    signaling.ServiceType(fold(b[7], 3, 0)),
			Operation:  signaling.LinkOperation(fold(b[8], 10, 0)),
			ReasonCode: signaling.Reason(fold(b[9], 38, 0)),
		},
		Op:      pick(b[10], false), // the operation that failed
		Timeout: flags&fzTimeout != 0,
	}
	code := int(b[12]) | int(b[13])<<8
	if code < len(knownCodes) {
		code = int(knownCodes[code])
	} else {
		code = -code
	}
	sig.Err = fuzzError(b[11], signaling.ErrorCode(code))
	return s, sig, wild
}

var (
	loginOps  = []OpKind{OpRenew, OpRelogin, opLogin, opLogout}
	streamOps = []OpKind{OpRenew, OpRejoin, opJoin, opLeave}
)

var knownCodes = []signaling.ErrorCode{
	signaling.CodeNotInitialized, signaling.CodeNotLogin, signaling.CodeInvalidAppID, signaling.CodeInvalidToken,
	signaling.CodeInvalidUserID, signaling.CodeInvalidChannelName, signaling.CodeTokenExpired,
	signaling.CodeLoginNoServerResources, signaling.CodeLoginTimeout, signaling.CodeLoginRejected,
	signaling.CodeLoginAborted, signaling.CodeInvalidParameter, signaling.CodeLoginNotAuthorized,
	signaling.CodeInconsistentAppID, signaling.CodeDuplicateOperation, signaling.CodeInstanceAlreadyReleased,
	signaling.CodeOperationRateExceedLimitation, signaling.CodeLoginCanceled, signaling.CodeNotConnected,
	signaling.CodeRenewTokenTimeout, signaling.CodeDuplicateUserID, signaling.CodeChannelNotJoined,
	signaling.CodeChannelJoinFailed, signaling.CodeChannelSubscribeTooFrequent,
}

// fuzzError returns one of the errors a fetch or an SDK call can fail with.
func fuzzError(kind byte, code signaling.ErrorCode) error {
	sdk := &signaling.Error{Op: "renewToken", Code: code}
	switch kind % 14 {
	case 0:
		return nil
	case 1:
		return context.Canceled
	case 2:
		return context.DeadlineExceeded
	case 3:
		return &fetcher.Error{Class: fetcher.Retryable, Err: fetcher.ErrTransport}
	case 4:
		return &fetcher.Error{Class: fetcher.Permanent, Err: fetcher.ErrMismatch}
	case 5:
		return &fetcher.Error{Class: fetcher.Retryable, Err: fetcher.ErrStatus, StatusCode: 429, RetryAfter: time.Minute}
	case 6:
		return sdk
	case 7:
		return fmt.Errorf("adapter: %w", sdk)
	case 8:
		return ErrSameToken
	case 9:
		return ErrStaleToken
	case 10:
		return errors.New("something else")
	case 11:
		return fmt.Errorf("wrapped: %w", context.Canceled)
	case 12:
		return errors.Join(context.Canceled, sdk)
	default:
		return &fetcher.Error{Class: fetcher.Permanent, Err: fetcher.ErrStatus, StatusCode: 401}
	}
}

// checkAction returns what is wrong with a, or "". The rules, derived from
// the decision table in DESIGN.md and decide.go:
func checkAction(s Situation, sig Signal, a Action) string {
	renewTrigger := sig.Trigger == TriggerTimer || sig.Trigger == TriggerWillExpire || sig.Trigger == TriggerRenewNow
	failure := sig.Trigger == TriggerFetchFailed || sig.Trigger == TriggerHookFailed
	cancelled := errors.Is(sig.Err, context.Canceled) && !sig.Timeout
	switch {
	// Decide only chooses renew, relogin or rejoin, at a defined time.
	case a.Op > OpRejoin:
		return "chose an operation Decide never chooses"
	case a.When > WhenConnected:
		return "chose an undefined When"
	case a.Op == OpNone && a.Force:
		return "a Force without an operation"
	// Relogin is the login key's recovery, rejoin a stream channel's.
	case a.Op == OpRelogin && s.Key != KeyLogin:
		return "relogin for a stream key"
	case a.Op == OpRejoin && s.Key != KeyStream:
		return "rejoin for the login key"
	// Never renew in place a token that has expired, or that never was.
	case a.Op == OpRenew && s.Expired:
		return "renew in place of an expired token"
	case a.Op == OpRenew && !failure && (s.Phase == PhaseNew || s.Phase == PhaseClosed):
		return "renew with no token"
	case a.Op == OpRenew && failure && sig.Op != OpRenew:
		return "a failed login, join or recovery retried as a renewal"
	case a.Op == OpRenew && sig.Trigger == TriggerLink && sig.Link.Current != signaling.LinkConnected:
		return "renew on a link event other than CONNECTED"
	// Kicks: never log in again unless ReloginOnKick.
	case a.Report == EventKicked && !s.ReloginOnKick && a.Op != OpNone:
		return "automatic recovery after a kick without ReloginOnKick"
	case !s.ReloginOnKick && a.Op != OpNone && sig.Trigger == TriggerLink && sig.Link.Current == signaling.LinkFailed &&
		sig.Link.ReasonCode.Class() == signaling.ClassKick:
		return "recovery on a kick without ReloginOnKick"
	case a.Report == EventKicked && a.Op != OpNone && a.When == WhenNow:
		return "relogin after a kick without a backoff"
	// Fatal configuration errors stop the key.
	case a.Report == EventGaveUp && a.Op != OpNone:
		return "gave up but runs an operation"
	// Only link events supersede a running operation.
	case a.Supersede && sig.Trigger != TriggerLink:
		return "supersedes on a signal other than a link event"
	case a.Report == EventExpired && !s.Expired:
		return "reports an expiry of a valid token"
	case a.Force && (a.Op != OpRenew || sig.Trigger != TriggerHookFailed || s.Forced):
		return "a forced refetch outside the one allowed after INVALID_TOKEN"
	case a.When == WhenConnected && (s.Key != KeyLogin || a.Op != OpRenew):
		return "waits for CONNECTED with something other than a login renewal"
	// Failures: cancelled operations are dropped; everything else is
	// reported, and a fetch failure never retries at once (no hot loop
	// against the token server); a permanent one waits BackoffLong.
	case failure && cancelled && a != Action{}:
		return "acts on a cancelled operation"
	case failure && !cancelled && a.Report == 0:
		return "a failure dropped silently"
	case sig.Trigger == TriggerFetchFailed && a.Op != OpNone && a.When != WhenBackoff && a.When != WhenLongBackoff:
		return "a fetch failure retried without backoff"
	case sig.Trigger == TriggerFetchFailed && a.Op != OpNone && !sig.Timeout && !fetcher.IsRetryable(sig.Err) &&
		!errors.Is(sig.Err, ErrSameToken) && !errors.Is(sig.Err, ErrStaleToken) && a.When != WhenLongBackoff:
		return "a permanent fetch failure retried before BackoffLong"
	// One operation in flight per key: renewal signals join it; a stream
	// key waits for its session's relogin; kicked and gave-up keys wait
	// for RenewNow; closed keys do nothing.
	case renewTrigger && s.InFlight != OpNone && a != Action{}:
		return "a second operation on a busy key"
	case (renewTrigger || sig.Trigger == TriggerLink) && s.Key == KeyStream && s.Relogin && a != Action{}:
		return "a stream key acts while its session relogs in"
	case renewTrigger && sig.Trigger != TriggerRenewNow && (s.Phase == PhaseKicked || s.Phase == PhaseGaveUp) && a != Action{}:
		return "a kicked or gave-up key acts without RenewNow"
	case renewTrigger && s.Phase == PhaseClosed && a != Action{}:
		return "a closed key acts"
	// Link events: only FAILED and CONNECTED matter.
	case sig.Trigger == TriggerLink && sig.Link.Current != signaling.LinkFailed && sig.Link.Current != signaling.LinkConnected && a != Action{}:
		return "acts on a link state other than FAILED or CONNECTED"
	case sig.Trigger == TriggerLink && s.Key == KeyLogin && sig.Link.Current == signaling.LinkFailed &&
		sig.Link.ReasonCode == signaling.ReasonLoginTooFrequent && a.Op != OpNone && a.When != WhenLongBackoff:
		return "LOGIN_TOO_FREQUENT retried before BackoffLong"
	}
	// The token rows of the table: an expired or invalid token on a
	// running, idle key goes straight to the recovery path.
	if sig.Trigger == TriggerLink && sig.Link.Current == signaling.LinkFailed && sig.Link.ReasonCode.Class() == signaling.ClassToken && !s.Relogin {
		want := Action{Op: OpRelogin, Supersede: true, Class: "token"}
		busy := s.InFlight == OpRelogin || s.InFlight == opLogin
		if s.Key == KeyStream {
			want.Op = OpRejoin
			busy = s.InFlight == OpRejoin || s.InFlight == opJoin || s.InFlight == opLeave
		}
		if !busy && a != want {
			return fmt.Sprintf("FAILED with a token reason: want %+v", want)
		}
	}
	return ""
}

// decideSeeds encodes a case per row family of the decision table.
func decideSeeds() [][]byte {
	opIndex := func(k KeyKind, op OpKind) byte {
		ops := loginOps
		if k == KeyStream {
			ops = streamOps
		}
		for i, o := range ops {
			if o == op {
				return byte(i)
			}
		}
		return byte(len(ops)) // OpNone
	}
	enc := func(key KeyKind, phase Phase, link signaling.LinkState, inflight OpKind, trig Trigger, flags byte,
		cur signaling.LinkState, svc signaling.ServiceType, reason signaling.Reason, op OpKind, errKind byte, codeIdx int) []byte {
		return []byte{byte(key - 1), byte(phase), byte(link), opIndex(key, inflight), byte(trig - 1), flags,
			byte(cur), byte(svc), byte(signaling.OpServerReject), byte(reason), opIndex(key, op), errKind, byte(codeIdx), byte(codeIdx >> 8)}
	}
	conn, failedLink := signaling.LinkConnected, signaling.LinkFailed
	msg, stream := signaling.ServiceMessage, signaling.ServiceStream
	return [][]byte{
		enc(KeyLogin, PhaseFresh, conn, OpNone, TriggerTimer, 0, conn, msg, 0, 0, 0, 0),
		enc(KeyStream, PhaseFresh, conn, OpNone, TriggerWillExpire, 0, conn, stream, 0, 0, 0, 0),
		enc(KeyLogin, PhaseFresh, conn, OpNone, TriggerTimer, fzExpired, conn, msg, 0, 0, 0, 0),
		enc(KeyLogin, PhaseFresh, conn, OpRenew, TriggerLink, 0, failedLink, msg, signaling.ReasonTokenExpired, 0, 0, 0),
		enc(KeyStream, PhaseFresh, conn, OpNone, TriggerLink, 0, failedLink, stream, signaling.ReasonInvalidToken, 0, 0, 0),
		enc(KeyLogin, PhaseFresh, conn, OpNone, TriggerLink, 0, failedLink, msg, signaling.ReasonSameUIDLogin, 0, 0, 0),
		enc(KeyLogin, PhaseFresh, conn, OpNone, TriggerLink, fzReloginOnKick, failedLink, msg, signaling.ReasonKickedOutByServer, 0, 0, 0),
		enc(KeyLogin, PhaseFresh, conn, OpNone, TriggerLink, 0, failedLink, msg, signaling.ReasonLoginTooFrequent, 0, 0, 0),
		enc(KeyLogin, PhaseBackoff, conn, OpNone, TriggerFetchFailed, 0, conn, msg, 0, OpRenew, 3, 0),
		enc(KeyLogin, PhaseExpired, conn, OpNone, TriggerFetchFailed, fzExpired|fzRelogin, conn, msg, 0, OpRelogin, 4, 0),
		enc(KeyLogin, PhaseRenewing, conn, OpNone, TriggerHookFailed, 0, conn, msg, 0, OpRenew, 6, 3),        // INVALID_TOKEN
		enc(KeyLogin, PhaseRenewing, conn, OpNone, TriggerHookFailed, fzForced, conn, msg, 0, OpRenew, 7, 3), // INVALID_TOKEN again
		enc(KeyStream, PhaseRenewing, conn, OpNone, TriggerHookFailed, 0, conn, stream, 0, OpRenew, 6, 21),   // CHANNEL_NOT_JOINED
		enc(KeyLogin, PhaseRenewing, conn, OpNone, TriggerHookFailed, fzTimeout, conn, msg, 0, OpRenew, 2, 0),
		enc(KeyLogin, PhaseRelogin, conn, OpNone, TriggerHookFailed, 0, conn, msg, 0, OpRelogin, 12, 9),
		enc(KeyLogin, PhaseKicked, failedLink, OpNone, TriggerRenewNow, 0, conn, msg, 0, 0, 0, 0),
		enc(KeyLogin, PhaseWaiting, signaling.LinkDisconnected, OpNone, TriggerLink, 0, conn, msg, signaling.ReasonReconnectSuccess, 0, 0, 0),
		append(enc(KeyLogin, PhaseFresh, conn, OpNone, TriggerTimer, fzWild, conn, msg, 0, 0, 0, 0)[:4], 0xff, fzWild, 0xff),
	}
}
