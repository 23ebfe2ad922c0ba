package accesstoken

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// sizedParams returns Build parameters whose payload is n bytes give or
// take a few, filled by gen: an RTM2 user with resources of up to 4000
// bytes each.
func sizedParams(r *rand.Rand, n int, gen func(r *rand.Rand, n int) []byte) Params {
	p := benchParams
	s := Service{Type: ServiceRTM2, UserID: "user-1", Privileges: []Privilege{{ID: PrivRTMLogin, Value: 3600}}}
	perm := RTM2Permission{ResourceType: 1, PermissionType: 1}
	for left := n - 186; left > 0; left -= 4000 + 2 {
		perm.Resources = append(perm.Resources, string(gen(r, min(left, 4000))))
	}
	s.Permissions = []RTM2Permission{perm}
	p.Services = []Service{s, RTCService(exampleChannel, "2882341273", RolePublisher, 3600)}
	return p
}

// TestBuildLargePayloads holds Build to the naive builder for payloads
// beyond the encoder's bound, which compress/zlib compresses, and just
// under it.
func TestBuildLargePayloads(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 3))
	sizes := []int{quickMaxInput - 100, quickMaxInput + 20, 20 << 10, 40 << 10, MaxPayloadSize - 300}
	for _, shape := range deflateShapes {
		for _, n := range sizes {
			p := sizedParams(r, n, shape.gen)
			if m := len(mustPayload(t, p)); (m > quickMaxInput) != (n > quickMaxInput) {
				t.Fatalf("set-up: payload of %d bytes for %d", m, n)
			}
			got, err := Build(p)
			if err != nil {
				t.Fatalf("%s, ~%d bytes: %v", shape.name, n, err)
			}
			if want, _ := naiveBuild(p); got != want {
				t.Fatalf("%s, ~%d bytes: Build differs from the naive builder", shape.name, n)
			}
		}
	}
}

// TestBuildConcurrentMixedSizes runs Build from several goroutines on
// payloads small, at the encoder's bound, beyond it and crafted to exhaust
// its skip budget, so pooled encoders and fallback writers pass between
// sizes; run with -race.
func TestBuildConcurrentMixedSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	cases := []Params{benchParams, floodParams()}
	for _, n := range []int{1000, quickMaxInput - 50, 30 << 10} {
		cases = append(cases, sizedParams(r, n, randWords), sizedParams(r, n, deflateShapes[0].gen))
	}
	want := make([]string, len(cases))
	for i, p := range cases {
		var err error
		if want[i], err = naiveBuild(p); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for k := range 3 * len(cases) {
				i := (g + k) % len(cases)
				got, err := Build(cases[i])
				if err != nil || got != want[i] {
					errs <- fmt.Errorf("case %d: Build differs from the naive builder (err %v, %d vs %d chars)", i, err, len(got), len(want[i]))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
