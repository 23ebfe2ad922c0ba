package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/signaling"
)

// timeline prints what happened, leaving out routine renewals and folding a
// run of failures of one kind into one line.
type timeline struct {
	w     io.Writer
	start time.Time

	streak      string // the repeated line being folded
	streakCount int
}

func (t *timeline) stamp(at time.Time) string {
	d := at.Sub(t.start)
	day := int(d/(24*time.Hour)) + 1
	return fmt.Sprintf("day %d %s", day, at.UTC().Format("15:04:05"))
}

// note prints one line, first closing a folded streak.
func (t *timeline) note(at time.Time, what, detail string) {
	t.flush()
	fmt.Fprintf(t.w, "%s  %-14s %s\n", t.stamp(at), what, detail)
}

// flush prints how many repeats of the folded line were left out.
func (t *timeline) flush() {
	if t.streakCount > 0 {
		fmt.Fprintf(t.w, "%17s  %-14s … %d more like this\n", "", "", t.streakCount)
	}
	t.streak, t.streakCount = "", 0
}

// event is the harness's OnEvent: it runs on the engine's goroutine, one
// event at a time.
func (t *timeline) event(ev renewal.Event) {
	if renewalQuiet(ev.Kind) {
		return
	}
	target := "login token"
	if ev.Channel != "" {
		target = fmt.Sprintf("%q", ev.Channel)
	}
	var detail string
	switch ev.Kind {
	case renewal.EventFetchFailed, renewal.EventRenewFailed:
		detail = fmt.Sprintf("%s: %s, retry in %v", target, short(ev.Err), ev.RetryIn.Round(time.Second))
	case renewal.EventRelogin, renewal.EventExpired:
		detail = fmt.Sprintf("%s (%s)", target, ev.Reason)
	default:
		detail = target
		if ev.Reason != "" {
			detail += " (" + ev.Reason + ")"
		}
	}
	// Failures of any key during one incident fold into one line.
	line := ev.Kind.String() + "|" + short(ev.Err)
	if line == t.streak {
		t.streakCount++
		return
	}
	t.note(ev.Time, ev.Kind.String(), detail)
	if ev.Kind == renewal.EventFetchFailed || ev.Kind == renewal.EventRenewFailed {
		t.streak = line
	}
}

// short describes a failure in a few words: the HTTP status of a failed
// fetch, the SDK code of a failed call, or the first line of the error.
func short(err error) string {
	var fe *fetcher.Error
	if errors.As(err, &fe) && fe.StatusCode != 0 {
		return fmt.Sprintf("token server answered %d %s", fe.StatusCode, http.StatusText(fe.StatusCode))
	}
	if code, ok := signaling.CodeOf(err); ok {
		return fmt.Sprintf("SDK returned %s (%d)", code, int(code))
	}
	if err == nil {
		return "failed"
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
