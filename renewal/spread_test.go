package renewal

import (
	"strconv"
	"testing"
	"testing/synctest"
	"time"
)

// TestSpreadFirstCoversOnePeriod checks that first renewals of keys that got
// their tokens at the same instant are spread over the whole renewal period,
// never before one second after receipt nor after the usual renewal time.
func TestSpreadFirstCoversOnePeriod(t *testing.T) {
	p, err := Policy{}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	receipt := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	deadline := receipt.Add(time.Hour)
	const n = 2000
	var lo, hi time.Duration = time.Hour, 0
	buckets := make([]int, 10)
	for i := 0; i < n; i++ {
		user := "bot-" + strconv.Itoa(i)
		u := jitterUnit(1, user, "", 1)
		usual, _ := renewAt(receipt, deadline, receipt, p, u)
		at, short := spreadFirst(receipt, deadline, receipt, p, u, jitterUnit(1, user, "", 1|1<<62))
		if short {
			t.Fatalf("a 1 h token reported too short")
		}
		if at.Before(receipt.Add(minRenewInterval)) || at.After(usual) {
			t.Fatalf("%s: first renewal at %v, outside [receipt+1s, %v]", user, at.Sub(receipt), usual.Sub(receipt))
		}
		off := at.Sub(receipt)
		lo, hi = min(lo, off), max(hi, off)
		buckets[int(off*10/(48*time.Minute))%10]++
	}
	if lo > 2*time.Minute || hi < 44*time.Minute {
		t.Errorf("first renewals span %v…%v, want about 0…47 min", lo, hi)
	}
	for i, b := range buckets {
		if b < n/10/2 || b > n/10*3/2 {
			t.Errorf("tenth %d of the period holds %d of %d first renewals: not spread evenly %v", i, b, n, buckets)
		}
	}
}

// TestSpreadFirstRenewalOnlyFirst checks through the engine that the opt-in
// moves the first renewal after login earlier and leaves later renewals at
// their usual lead.
func TestSpreadFirstRenewalOnlyFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		usualRig := newRig(t, time.Hour)
		usualRig.start()
		usual := time.Until(usualRig.key("").NextRenewal)
		r := newRig(t, time.Hour, func(_ *Config, s *SessionConfig) { s.Policy.SpreadFirstRenewal = true })
		r.start()
		first := time.Until(r.key("").NextRenewal)
		if first >= usual || first < minRenewInterval {
			t.Fatalf("first renewal in %v, want it drawn in [1s, %v) (the usual time)", first, usual)
		}
		time.Sleep(first + time.Second)
		synctest.Wait()
		if got := r.sdk.count("renew"); got != 1 {
			t.Fatalf("renewals after the first due time: %d, want 1", got)
		}
		ks := r.key("")
		lead := ks.Deadline.Sub(ks.NextRenewal)
		if lead < 12*time.Minute || lead > 13*time.Minute+12*time.Second {
			t.Fatalf("second renewal leads its deadline by %v, want the usual 12–13.2 min", lead)
		}
	})
}
