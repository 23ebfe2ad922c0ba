#!/usr/bin/env bash
# Reproduces the tables of BENCHMARKS.md in about two to three minutes on a 2-core
# machine:
#
#   bash bench/run.sh [OUTDIR]        (default OUTDIR: bench/out, git-ignored)
#
# It builds each package's test binary once, then runs the benchmarks in
# alternating rounds (every round measures a design and its alternative
# back to back), so load from other processes hits both sides of a ratio
# alike. Raw `go test -bench` output lands in OUTDIR/*.txt, the machine
# description in OUTDIR/machine.txt, the load average during the run in
# OUTDIR/loadavg.log and the tables in OUTDIR/report.md.
#
# Environment: ROUNDS (default 6) rounds for time figures, FETCH_ROUNDS
# (default 10) for the fetch overhead, SIM_RUNS (default 3) runs of
# `tokenctl simulate`. Memory and wake-up figures do not depend on load and
# run fewer times.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-bench/out}
mkdir -p "$out/bin"
out=$(cd "$out" && pwd)
rounds=${ROUNDS:-6}
fetch_rounds=${FETCH_ROUNDS:-10}
sim_runs=${SIM_RUNS:-3}
rm -f "$out"/*.txt

rm -f "$out/loadavg.log" "$out/raw.log"
load() { echo "$(date -u +%H:%M:%S) $1: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/loadavg.log"; }
log() { echo "== $*" >&2; }

{
	echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "go:      $(go version)"
	echo "nproc:   $(nproc)"
	echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "memory:  $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
} >"$out/machine.txt"
cat "$out/machine.txt" >&2

log "building test binaries"
for pkg in accesstoken renewal fetcher mock; do
	go test -c -o "$out/bin/$pkg.test" "./$pkg"
done
go build -o "$out/bin/tokenctl" ./cmd/tokenctl

# bench PKG FILE ARGS...: one run of PKG's benchmarks, appended to FILE.
bench() {
	local pkg=$1 file=$2
	shift 2
	(cd "$root/$pkg" && "$out/bin/$pkg.test" -test.run '^$' -test.benchmem "$@") | tee -a "$out/raw.log" | grep '^Benchmark' >>"$out/$file.txt"
}

load start
log "codec, scheduler cost, hot path: $rounds rounds"
for ((i = 1; i <= rounds; i++)); do
	bench accesstoken codec -test.bench '^Benchmark(Parse|ParseVaried|Build|VerifyVsNaive)$' -test.benchtime 0.2s
	# GOMAXPROCS=1: the garbage collector's work runs on the benchmark's own
	# core, so the naive versions' allocations cost what they cost in CPU
	# (with 2 procs on an idle machine, the GC runs on the other core for free).
	bench accesstoken codec1 -test.bench '^Benchmark(Parse|ParseVaried|Build|VerifyVsNaive)$' -test.benchtime 0.2s -test.cpu 1
	# With 64 MiB of live heap, as in a long-running service (see
	# accesstoken/codec_perf_test.go).
	bench accesstoken codecheap -test.bench '^BenchmarkCodecLiveHeap$' -test.benchtime 0.2s
	bench renewal hotpath -test.bench '^BenchmarkLazyHotPath$' -test.benchtime 0.2s
	bench renewal renewcycle -test.bench '^BenchmarkRenewCycleLogger$' -test.benchtime 0.2s
	bench renewal reschedule -test.bench '^BenchmarkScaleReschedule$/./^keys=100000$' -test.benchtime 0.2s
	bench renewal reschedule -test.bench '^Benchmark(ScaleSchedule|SchedulerWake)$' -test.benchtime 0.2s
	if ((i <= (rounds + 1) / 2)); then # 1M keys: half the rounds (4 s of set-up each)
		bench renewal reschedule -test.bench '^BenchmarkScaleReschedule$/./^keys=1000000$' -test.benchtime 0.2s
	fi
	load "round $i"
done

log "memory, goroutines, wake-ups, token-server load"
for ((i = 1; i <= 2; i++)); do
	bench renewal memory -test.bench '^BenchmarkScaleMemory$' -test.benchtime 1x
done
bench renewal wakeups -test.bench '^Benchmark(IdleWakeups|BusyWakeups)$' -test.benchtime 1x
bench renewal serverload -test.bench '^BenchmarkRenewalLoad$' -test.benchtime 1x
bench fetcher shared -test.bench '^BenchmarkFetchShared$' -test.benchtime 5x
load "memory done"

log "fetch overhead: $fetch_rounds rounds"
for ((i = 1; i <= fetch_rounds; i++)); do
	bench fetcher fetch -test.bench '^BenchmarkFetchLoopback$' -test.benchtime 0.3s
	bench fetcher fetch -test.bench '^BenchmarkFetchOverhead$' -test.benchtime 0.2s
done
load "fetch done"

log "simulation: harness shard and tokenctl simulate (10k sessions x 7 days), $sim_runs runs"
bench mock harness -test.bench '^BenchmarkHarnessWeek$' -test.benchtime 1x -test.count "$sim_runs"
for ((i = 1; i <= sim_runs; i++)); do
	start=$(date +%s%N)
	json=$("$out/bin/tokenctl" simulate --sessions 10000 --channels 1 --days 7 --ttl 24h --json)
	end=$(date +%s%N)
	field() { echo "$json" | grep -o "\"$1\":[0-9.e+-]*" | cut -d: -f2; }
	echo "BenchmarkSimulate/sessions=10000/days=7 1 $((end - start)) ns/op $(field wallSeconds) wall-s $(field eventsPerSecond) events/s $(field events) events $(field unhealthySessions) unhealthy" >>"$out/simulate.txt"
done
load end

log "report"
r() { printf -- '-ratio=%s|Benchmark%s|Benchmark%s|%s\n' "$1" "$2" "$3" "$4"; }
r1() { printf -- '-ratio=%s|P1:Benchmark%s|P1:Benchmark%s|%s\n' "$1" "$2" "$3" "$4"; }
mapfile -t ratios < <(
	r "Parse: naive / fast" Parse/naive Parse/fast ns/op
	r "Build: naive / fast" Build/naive Build/fast ns/op
	r "Verify: naive / fast" VerifyVsNaive/naive VerifyVsNaive/fast ns/op
	r1 "Parse: naive / fast, GOMAXPROCS=1" Parse/naive Parse/fast ns/op
	r "Parse, 4096 distinct tokens: naive / fast" ParseVaried/naive ParseVaried/fast ns/op
	r1 "Parse, 4096 distinct tokens: naive / fast, GOMAXPROCS=1" ParseVaried/naive ParseVaried/fast ns/op
	r1 "Build: naive / fast, GOMAXPROCS=1" Build/naive Build/fast ns/op
	r1 "Verify: naive / fast, GOMAXPROCS=1" VerifyVsNaive/naive VerifyVsNaive/fast ns/op
	r "Parse: naive / fast, 64 MiB live heap" CodecLiveHeap/parse/naive CodecLiveHeap/parse/fast ns/op
	r "Build: naive / fast, 64 MiB live heap" CodecLiveHeap/build/naive CodecLiveHeap/build/fast ns/op
	r "Verify: naive / fast, 64 MiB live heap" CodecLiveHeap/verify/naive CodecLiveHeap/verify/fast ns/op
	r "memory per key, 100k: goroutine+timer / engine" ScaleMemory/timer-goroutine/keys=100000 ScaleMemory/engine/keys=100000 B/key
	r "memory per key, 1M: goroutine+timer / engine" ScaleMemory/timer-goroutine/keys=1000000 ScaleMemory/engine/keys=1000000 B/key
	r "memory per key, 100k: oauth2 ReuseTokenSource / engine" ScaleMemory/oauth2-reuse/keys=100000 ScaleMemory/engine/keys=100000 B/key
	r "memory per key, 1M: oauth2 ReuseTokenSource / engine" ScaleMemory/oauth2-reuse/keys=1000000 ScaleMemory/engine/keys=1000000 B/key
	r "reschedule, 100k: timer.Reset / engine heap" ScaleReschedule/timer-goroutine/keys=100000 ScaleReschedule/engine/keys=100000 ns/op
	r "reschedule, 1M: timer.Reset / engine heap" ScaleReschedule/timer-goroutine/keys=1000000 ScaleReschedule/engine/keys=1000000 ns/op
	r "schedule (remove + add a key), 100k: goroutine+timer / engine" ScaleSchedule/timer-goroutine/keys=100000 ScaleSchedule/engine/keys=100000 ns/op
	r "schedule (remove + add a key), 100k: oauth2 / engine" ScaleSchedule/oauth2-reuse/keys=100000 ScaleSchedule/engine/keys=100000 ns/op
	r "caller wait when due: oauth2 Token() / oauth2 Token() fresh" LazyHotPath/oauth2-due LazyHotPath/oauth2-fresh ns/op
	r "engine renew cycle: TextHandler to io.Discard / default (slog.DiscardHandler)" RenewCycleLogger/text-to-discard RenewCycleLogger/default ns/op
	r "fetch, static server: fetcher / net/http (wall)" FetchLoopback/static/fetcher FetchLoopback/static/net-http ns/op
	r "fetch, static server: fetcher / net/http (CPU)" FetchLoopback/static/fetcher FetchLoopback/static/net-http cpu-ns/op
	r "fetch, minting server: fetcher / net/http (wall)" FetchLoopback/mint/fetcher FetchLoopback/mint/net-http ns/op
	r "fetch, minting server: fetcher / net/http (CPU)" FetchLoopback/mint/fetcher FetchLoopback/mint/net-http cpu-ns/op
	r "fetch, static, cancelable ctx: fetcher / net/http (wall)" FetchLoopback/static/fetcher-cancelable-ctx FetchLoopback/static/net-http ns/op
	r "client side only (in-memory transport): fetcher / net/http" FetchOverhead/fetcher FetchOverhead/net-http ns/op
)
{
	echo '```'
	cat "$out/machine.txt"
	echo '```'
	echo
	echo "Load average (1, 5, 15 min) during the run:"
	echo
	echo '```'
	cat "$out/loadavg.log"
	echo '```'
	echo
	go run ./bench/report "${ratios[@]}" "$out"/codec.txt P1="$out"/codec1.txt "$out"/codecheap.txt "$out"/memory.txt "$out"/reschedule.txt "$out"/hotpath.txt "$out"/renewcycle.txt \
		"$out"/wakeups.txt "$out"/serverload.txt "$out"/shared.txt "$out"/fetch.txt "$out"/harness.txt "$out"/simulate.txt
} >"$out/report.md"
cat "$out/report.md"
