package fetcher

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestIMFFixdate: every day of 1999–2031 at a few times of day, in the
// form servers send, is read by the fast path exactly as http.ParseTime
// reads it; invalid dates and other spellings are left to http.ParseTime.
func TestIMFFixdate(t *testing.T) {
	for d := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2032; d = d.AddDate(0, 0, 1) {
		for _, at := range []time.Duration{0, 9*time.Hour + 5*time.Minute + 7*time.Second, 23*time.Hour + 59*time.Minute + 59*time.Second} {
			v := d.Add(at).Format(http.TimeFormat)
			got, ok := imfFixdate(v)
			want, err := http.ParseTime(v)
			if !ok || err != nil || !got.Equal(want) || got.Location() != want.Location() {
				t.Fatalf("%q: fast %v %v, http.ParseTime %v %v", v, got, ok, want, err)
			}
		}
	}
	for _, v := range []string{
		"Sun, 29 Feb 2023 08:49:37 GMT", // no such day
		"Sun, 31 Apr 2024 08:49:37 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:37 GMT",
		"Sun, 06 Nov 1994 08:49:60 GMT",
		"sun, 06 nov 1994 08:49:37 GMT", // time.Parse ignores case; the fast path does not
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sunday, 06-Nov-94 08:49:37 GMT", // RFC 850
		"Sun Nov  6 08:49:37 1994",       // ANSI C
		"Sun, 06 Nov 1994  8:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37.5 GMT",
		"Sun, 06 Nov +994 08:49:37 GMT",
		"",
	} {
		if got, ok := imfFixdate(v); ok {
			t.Errorf("fast path read %q as %v", v, got)
		}
	}
	// Through parseHTTPDate, the other forms still parse.
	for _, v := range []string{"Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "sun, 06 nov 1994 08:49:37 GMT"} {
		want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
		if got, err := parseHTTPDate(v); err != nil || !got.Equal(want) {
			t.Errorf("parseHTTPDate(%q) = %v, %v", v, got, err)
		}
	}
}

// FuzzHTTPDate: whenever the fast path reads a value, http.ParseTime reads
// it as the same instant in UTC. Besides v, each input builds a well-formed
// candidate from numbers, so that the fuzzer reaches invalid days, hours
// and leap years, not only malformed text.
func FuzzHTTPDate(f *testing.F) {
	f.Add("Sun, 06 Nov 1994 08:49:37 GMT", uint8(0), uint8(6), uint8(10), uint16(1994), uint8(8), uint8(49), uint8(37))
	f.Add("Thu, 29 Feb 2024 23:59:59 GMT", uint8(4), uint8(29), uint8(1), uint16(2023), uint8(23), uint8(59), uint8(59))
	f.Add("Mon, 29 Feb 2100 00:00:00 GMT", uint8(1), uint8(29), uint8(1), uint16(2000), uint8(24), uint8(0), uint8(60))
	f.Add("Sat, 01 Jan 0000 00:00:00 GMT", uint8(6), uint8(31), uint8(3), uint16(0), uint8(0), uint8(0), uint8(0))
	f.Add("Fri, 31 Dec 9999 12:30:45 GMT", uint8(5), uint8(0), uint8(11), uint16(9999), uint8(12), uint8(30), uint8(45))
	f.Fuzz(func(t *testing.T, v string, wd, day, month uint8, year uint16, hour, minute, sec uint8) {
		built := fmt.Sprintf("%s, %02d %s %04d %02d:%02d:%02d GMT", time.Weekday(wd % 7).String()[:3], day%100,
			time.Month(month%12 + 1).String()[:3], year%10000, hour%100, minute%100, sec%100)
		for _, v := range []string{v, built} {
			got, ok := imfFixdate(v)
			if !ok {
				continue
			}
			want, err := http.ParseTime(v)
			if err != nil || !got.Equal(want) || got.Location() != want.Location() {
				t.Fatalf("%q: fast path %v, http.ParseTime %v, %v", v, got, want, err)
			}
		}
	})
}
