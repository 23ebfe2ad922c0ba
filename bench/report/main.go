// Command report turns `go test -bench` output into the Markdown tables of
// BENCHMARKS.md: the median of every metric of every benchmark over its
// runs (with the spread, (max−min)/median), and ratios between pairs of
// benchmarks measured in the same run.
//
//	go run ./bench/report -ratio 'Parse: naive / fast|BenchmarkParse/naive|BenchmarkParse/fast|ns/op' out/*.txt
//
// A -ratio flag is "label|numerator|denominator|unit"; benchmark names are
// given without the -GOMAXPROCS suffix. A file argument TAG=PATH prefixes
// the names read from PATH with "TAG:" (to tell apart two runs of the same
// benchmarks, e.g. at GOMAXPROCS 1 and 2). The ratio is median(numerator) /
// median(denominator); the range beside it is the lowest and highest
// per-round ratio, pairing the i-th run of one with the i-th run of the
// other (bench/run.sh runs them in alternating rounds).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

type ratioFlag []string

func (r *ratioFlag) String() string     { return strings.Join(*r, ", ") }
func (r *ratioFlag) Set(s string) error { *r = append(*r, s); return nil }

// results maps benchmark name → unit → values in the order read.
type results struct {
	order []string
	units map[string][]string
	vals  map[string]map[string][]float64
}

var procSuffix = regexp.MustCompile(`-\d+$`)

func (r *results) read(in io.Reader, tag string) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		if tag != "" {
			name = tag + ":" + name
		}
		if r.vals[name] == nil {
			r.vals[name] = map[string][]float64{}
			r.order = append(r.order, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			unit := f[i+1]
			if _, seen := r.vals[name][unit]; !seen {
				r.units[name] = append(r.units[name], unit)
			}
			r.vals[name][unit] = append(r.vals[name][unit], v)
		}
	}
	return sc.Err()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func spread(v []float64) float64 {
	m := median(v)
	if len(v) < 2 || m == 0 {
		return 0
	}
	return (slices.Max(v) - slices.Min(v)) / m * 100
}

// num formats v with about four significant digits.
func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "–"
	case a >= 1000 || a == math.Trunc(a):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

func main() {
	var ratios ratioFlag
	flag.Var(&ratios, "ratio", "`label|numerator|denominator|unit` (repeatable)")
	flag.Parse()
	r := &results{units: map[string][]string{}, vals: map[string]map[string][]float64{}}
	for _, arg := range flag.Args() {
		tag, path, ok := strings.Cut(arg, "=")
		if !ok {
			tag, path = "", arg
		}
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(1)
		}
		err = r.read(f, tag)
		f.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, "report:", path+":", err)
			os.Exit(1)
		}
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	if len(ratios) > 0 {
		fmt.Fprintln(w, "| comparison | unit | numerator (median) | denominator (median) | ratio | per-round range |")
		fmt.Fprintln(w, "|---|---|---:|---:|---:|---|")
		for _, spec := range ratios {
			p := strings.Split(spec, "|")
			if len(p) != 4 {
				fmt.Fprintf(os.Stderr, "report: bad -ratio %q\n", spec)
				os.Exit(2)
			}
			a, b := r.vals[p[1]][p[3]], r.vals[p[2]][p[3]]
			ma, mb := median(a), median(b)
			rng := "–"
			if n := min(len(a), len(b)); n > 1 {
				per := make([]float64, n)
				for i := range per {
					per[i] = a[i] / b[i]
				}
				rng = num(slices.Min(per)) + "–" + num(slices.Max(per)) + "×"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | **%s×** | %s |\n", p[0], p[3], num(ma), num(mb), num(ma/mb), rng)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "| benchmark | runs | medians (± half the range (max−min), in % of the median, when ≥ 0.5 %) |")
	fmt.Fprintln(w, "|---|---:|---|")
	for _, name := range r.order {
		var cells []string
		runs := 0
		for _, u := range r.units[name] {
			v := r.vals[name][u]
			runs = max(runs, len(v))
			c := num(median(v)) + " " + u
			if s := spread(v); s >= 0.5 {
				c += fmt.Sprintf(" (±%.0f%%)", s/2)
			}
			cells = append(cells, c)
		}
		fmt.Fprintf(w, "| %s | %d | %s |\n", strings.TrimPrefix(name, "Benchmark"), runs, strings.Join(cells, ", "))
	}
}
