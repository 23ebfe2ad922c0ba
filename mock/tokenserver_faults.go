package mock

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind says what a [Fault] does to a token request.
type FaultKind int

// Fault kinds.
const (
	// FaultStatus answers Status (with a Retry-After header when RetryAfter
	// is set) in the route's error shape.
	FaultStatus FaultKind = iota + 1
	// FaultBody answers 200 with the broken body Body.
	FaultBody
	// FaultWrongUser mints the token for another user (RTM user ID and RTC
	// account get a suffix).
	FaultWrongUser
	// FaultWrongApp mints the token for another app ID.
	FaultWrongApp
	// FaultWrongChannel mints RTC services for another channel; RTM-only
	// tokens are unaffected.
	FaultWrongChannel
	// FaultExpired mints a token that has already expired on the server's
	// clock (a minute ago, or with zero lifetime when the clock is too
	// close to the epoch for that).
	FaultExpired
	// FaultReset drops the connection without an answer: the in-memory
	// transport returns a connection-reset error; over real HTTP the
	// connection is hijacked and closed.
	FaultReset
)

// BodyFault is a broken 200 answer.
type BodyFault int

// Body faults.
const (
	BodyHTML    BodyFault = iota + 1 // an HTML page (text/html), as from a proxy or captive portal
	BodyEmpty                        // no body at all (application/json)
	BodyHuge                         // valid JSON larger than 64 KiB (80 KiB of padding)
	BodyGarbage                      // 256 random bytes labelled application/json
)

// Fault is a scripted misbehaviour of a [TokenServer].
type Fault struct {
	Kind FaultKind
	// Times is the number of token requests the fault applies to; zero or
	// less means every request until [TokenServer.Clear].
	Times      int
	Status     int           // FaultStatus: the HTTP status
	RetryAfter time.Duration // FaultStatus: sent as Retry-After seconds, rounded up
	Body       BodyFault     // FaultBody: the broken body
}

// Inject queues f. Faults apply in the order they were injected: each token
// request takes the fault at the head of the queue, which is dropped once it
// has applied Times times (a fault with Times <= 0 stays at the head until
// Clear). /ping, redirects and unknown routes take no fault.
func (s *TokenServer) Inject(f Fault) {
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// FailNext answers the next n token requests with status.
func (s *TokenServer) FailNext(n, status int) {
	s.Inject(Fault{Kind: FaultStatus, Times: n, Status: status})
}

// RateLimitNext answers the next n token requests with 429 Too Many
// Requests and a Retry-After of retryAfter (omitted when zero).
func (s *TokenServer) RateLimitNext(n int, retryAfter time.Duration) {
	s.Inject(Fault{Kind: FaultStatus, Times: n, Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
}

// BodyNext answers the next n token requests with a broken body.
func (s *TokenServer) BodyNext(n int, kind BodyFault) {
	s.Inject(Fault{Kind: FaultBody, Times: n, Body: kind})
}

// WrongUserNext mints the next n tokens for another user.
func (s *TokenServer) WrongUserNext(n int) { s.Inject(Fault{Kind: FaultWrongUser, Times: n}) }

// WrongAppNext mints the next n tokens for another app ID.
func (s *TokenServer) WrongAppNext(n int) { s.Inject(Fault{Kind: FaultWrongApp, Times: n}) }

// WrongChannelNext mints the next n tokens for another channel.
func (s *TokenServer) WrongChannelNext(n int) { s.Inject(Fault{Kind: FaultWrongChannel, Times: n}) }

// ExpiredNext mints the next n tokens already expired.
func (s *TokenServer) ExpiredNext(n int) { s.Inject(Fault{Kind: FaultExpired, Times: n}) }

// ResetNext drops the connection of the next n token requests.
func (s *TokenServer) ResetNext(n int) { s.Inject(Fault{Kind: FaultReset, Times: n}) }

// Outage turns a full outage on or off: while on, every token route answers
// 503 in its error shape, without taking queued faults.
func (s *TokenServer) Outage(on bool) {
	s.mu.Lock()
	s.outage = on
	s.mu.Unlock()
}

// SetLatency makes every token request wait d on the server's clock before
// it is answered (0 turns it off). With a clock.Mock the request blocks
// until the test advances the clock; see Blocked and NextWake. A request
// whose client goes away stops waiting.
func (s *TokenServer) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Blocked returns the number of token requests currently waiting out the
// latency.
func (s *TokenServer) Blocked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiting)
}

// NextWake returns the earliest time a waiting request is due, on the
// server's clock; ok is false when no request is waiting.
func (s *TokenServer) NextWake() (t time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.waiting {
		if !ok || w.Before(t) {
			t, ok = w, true
		}
	}
	return t, ok
}

// Clear removes every queued fault, the outage and the latency. Counters
// are kept.
func (s *TokenServer) Clear() {
	s.mu.Lock()
	s.faults, s.outage, s.latency = nil, false, 0
	s.mu.Unlock()
}

// takeFault returns the fault for the next token request, if any.
func (s *TokenServer) takeFaultLocked() *Fault {
	if len(s.faults) == 0 {
		return nil
	}
	f := s.faults[0]
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			s.faults = s.faults[1:]
		}
	}
	c := *f
	return &c
}

// tokenRefused counts a token request refused before the pipeline (CORS).
func (s *TokenServer) tokenRefused(route string) {
	s.mu.Lock()
	s.requests++
	s.failed++
	s.byRoute[route]++
	s.mu.Unlock()
}

// serveToken runs a token request through latency and faults, then serve.
func (s *TokenServer) serveToken(w *statusWriter, r *http.Request, route string, style errStyle, serve tokenHandler) {
	s.mu.Lock()
	s.requests++
	s.byRoute[route]++
	outage := s.outage
	var f *Fault
	if !outage {
		f = s.takeFaultLocked()
	}
	s.mu.Unlock()

	minted := false
	defer func() {
		s.mu.Lock()
		if minted && w.status == http.StatusOK {
			s.minted++
		} else {
			s.failed++
		}
		s.mu.Unlock()
	}()
	if s.waitLatency(r.Context()) != nil {
		return // the client went away
	}
	if outage {
		writeError(w, style, http.StatusServiceUnavailable, 0)
		return
	}
	var m tokenMods
	if f != nil {
		switch f.Kind {
		case FaultReset:
			resetConnection(w)
			return
		case FaultStatus:
			writeError(w, style, f.Status, f.RetryAfter)
			return
		case FaultBody:
			s.writeBrokenBody(w, f.Body)
			return
		case FaultWrongUser:
			m.wrongUser = true
		case FaultWrongApp:
			m.wrongApp = true
		case FaultWrongChannel:
			m.wrongChannel = true
		case FaultExpired:
			m.expired = true
		}
	}
	serve(w, r, m)
	minted = true
}

// waitLatency waits out the configured latency on the server's clock.
func (s *TokenServer) waitLatency(ctx context.Context) error {
	s.mu.Lock()
	d := s.latency
	if d <= 0 {
		s.mu.Unlock()
		return nil
	}
	key := new(int)
	s.waiting[key] = s.clock.Now().Add(d)
	t := s.clock.Timer(d)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiting, key)
		s.mu.Unlock()
	}()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

// writeError answers status in a route's error shape.
func writeError(w http.ResponseWriter, style errStyle, status int, retryAfter time.Duration) {
	if retryAfter > 0 {
		secs := int64((retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	text := http.StatusText(status)
	if text == "" {
		text = "status " + strconv.Itoa(status)
	}
	switch style {
	case styleText:
		http.Error(w, text, status)
	case styleDocs:
		b, _ := json.Marshal(map[string]string{"code": strconv.Itoa(status), "token": text})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(b)
	default:
		b, _ := json.Marshal(text)
		writeJSONBody(w, status, `{"error":`+string(b)+`,"status":`+strconv.Itoa(status)+`}`)
	}
}

func (s *TokenServer) writeBrokenBody(w http.ResponseWriter, kind BodyFault) {
	switch kind {
	case BodyHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n")
	case BodyHuge:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"padding":"`+strings.Repeat("x", 80<<10)+`"}`)
	case BodyGarbage:
		b := make([]byte, 256)
		s.mu.Lock()
		for i := range b {
			b[i] = byte(s.rng.Uint32())
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(b)
	default: // BodyEmpty
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
	}
}

// resetConnection drops the connection: over real HTTP it hijacks and
// closes it (with a TCP reset where possible); otherwise it aborts the
// handler, which the in-memory transport reports as a connection reset.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
