package accesstoken

import "testing"

// benchParams is a typical RTC publisher token: one channel, a numeric uid,
// privileges 1–4, one hour.
var benchParams = Params{
	AppID: exampleAppID, Certificate: exampleCert, IssueTs: 1_750_000_000, Expire: 3600, Salt: 12345678,
	Services: []Service{RTCService(exampleChannel, UIDAccount(2882341273), RolePublisher, 3600)},
}

// benchToken returns benchParams built and parsed back.
func benchToken(tb testing.TB) *Token {
	tb.Helper()
	s, err := Build(benchParams)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// Compare with: go test -run '^$' -bench . -benchmem ./accesstoken/
func BenchmarkParse(b *testing.B) {
	tok, err := Build(benchParams)
	if err != nil {
		b.Fatal(err)
	}
	benchParsers(b, func(int) string { return tok })
}

// benchParsers runs the naive and the real parser as sub-benchmarks, the
// i-th call of each parsing tok(i).
func benchParsers(b *testing.B, tok func(i int) string) {
	for _, impl := range []struct {
		name  string
		parse func(string) (*Token, error)
	}{{"naive", naiveParse}, {"fast", Parse}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := impl.parse(tok(i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkParseVaried parses 4096 distinct tokens in turn (benchParams
// with other salts, issue times and uids), as a service checking the tokens
// of many users does: unlike one token parsed again and again, their
// branches cannot all be learned by the CPU's branch predictor.
func BenchmarkParseVaried(b *testing.B) {
	toks := make([]string, 4096)
	for i := range toks {
		p := benchParams
		p.Salt, p.IssueTs = uint32(i)*7919+1, benchParams.IssueTs+uint32(i)
		p.Services = []Service{RTCService(exampleChannel, UIDAccount(2882341273+uint32(i)*31), RolePublisher, 3600)}
		var err error
		if toks[i], err = Build(p); err != nil {
			b.Fatal(err)
		}
	}
	benchParsers(b, func(i int) string { return toks[i%len(toks)] })
}

func BenchmarkBuild(b *testing.B) {
	want, err := naiveBuild(benchParams)
	if err != nil {
		b.Fatal(err)
	}
	for _, impl := range []struct {
		name  string
		build func(Params) (string, error)
	}{{"naive", naiveBuild}, {"fast", Build}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got, err := impl.build(benchParams); err != nil || got != want {
					b.Fatalf("Build = %q, %v", got, err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	tok := benchToken(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := tok.Verify(exampleCert); err != nil {
			b.Fatal(err)
		}
	}
}
