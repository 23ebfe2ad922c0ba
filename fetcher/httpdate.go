package fetcher

import (
	"net/http"
	"time"
)

// parseHTTPDate is http.ParseTime with a fast path for the form every
// current server sends, RFC 9110's IMF-fixdate ("Sun, 06 Nov 1994 08:49:37
// GMT"), which http.ParseTime reads through the general time.Parse. The
// fast path answers only for exactly that form, in its canonical spelling
// and with a valid date; anything else goes to http.ParseTime
// (FuzzHTTPDate checks that the two agree).
func parseHTTPDate(v string) (time.Time, error) {
	if t, ok := imfFixdate(v); ok {
		return t, nil
	}
	return http.ParseTime(v)
}

// imfFixdate reads v if it is an IMF-fixdate.
func imfFixdate(v string) (time.Time, bool) {
	if len(v) != len(http.TimeFormat) || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' ||
		v[16] != ' ' || v[19] != ':' || v[22] != ':' || v[25:] != " GMT" {
		return time.Time{}, false
	}
	switch v[:3] {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
	default:
		return time.Time{}, false
	}
	month := 0
	for i := 0; i < 12; i++ {
		if v[8:11] == monthNames[3*i:3*i+3] {
			month = i + 1
			break
		}
	}
	day, ok1 := digits(v[5:7])
	year, ok2 := digits(v[12:16])
	hour, ok3 := digits(v[17:19])
	minute, ok4 := digits(v[20:22])
	sec, ok5 := digits(v[23:25])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || month == 0 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}

const monthNames = "JanFebMarAprMayJunJulAugSepOctNovDec"

// digits reads a run of decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysIn returns the number of days in a month of the proleptic Gregorian
// calendar.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
