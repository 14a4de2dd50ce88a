#!/usr/bin/env bash
# End-to-end benchmark of the real pipeline on generated Purview exports.
#
#   bash benches/bench.sh                 # 100k and 1M records
#   SIZES="100000" bash benches/bench.sh  # one size
#
# For each size it reports wall time, MB/s, records/s, peak RSS and peak anonymous memory of
# `mailscope inspect` and `mailscope scope`, next to `wc -l` (the read floor), the SHA-256 of the
# file (`openssl dgst -sha256`, the hash floor: every report carries each input's hash) and
# benches/polars_scope.py (the same job in polars-python; `pip install polars`), with the ratios;
# scope on 1 thread (RAYON_NUM_THREADS=1) vs all cores; and `scope` from a saved case
# (`export --output case.parquet`) vs from the CSV.
# Files are generated into $WORK (default /tmp/mailscope-bench) and never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${SIZES:-100000 1000000}"
WORK="${WORK:-/tmp/mailscope-bench}"
IP=203.0.113.66
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mailscope-target}"
mkdir -p "$WORK"
cargo build --release --quiet --bin mailscope --example synth
BIN="$CARGO_TARGET_DIR/release/mailscope"
SYNTH="$CARGO_TARGET_DIR/release/examples/synth"
have_polars=$(python3 -c 'import polars' 2>/dev/null && echo yes || echo no)

# run LABEL CMD... → prints "LABEL wall_s maxrss_kb"; best wall of $RUNS (default 3) runs, caches warm.
run() {
  local label=$1; shift
  local best="" rss=0
  for _ in $(seq "${RUNS:-3}"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > /dev/null 2> "$WORK/stderr.txt" || { cat "$WORK/stderr.txt" >&2; exit 1; }
    read -r wall kb < "$WORK/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; rss=$kb; fi
  done
  echo "$label $best $rss"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
for n in $SIZES; do
  f="$WORK/purview_$n.csv"
  [ -s "$f" ] || "$SYNTH" --records "$n" --out "$f"
  bytes=$(stat -c %s "$f")
  cat "$f" > /dev/null  # warm the page cache
  echo
  echo "== $n records, $((bytes / 1000000)) MB: $f"
  results=()
  results+=("$(run wc-l wc -l "$f")")
  if command -v openssl > /dev/null; then
    results+=("$(run sha256 openssl dgst -sha256 "$f")")
  else
    results+=("$(run sha256 sha256sum "$f")")
  fi
  results+=("$(run inspect "$BIN" inspect --quiet "$f")")
  results+=("$(run scope "$BIN" scope --quiet --format json --attacker-ip $IP "$f")")
  results+=("$(RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1 run scope-1-thread "$BIN" scope --quiet --format json --attacker-ip $IP "$f")")
  case="$WORK/case_$n.parquet"
  results+=("$(run export-case "$BIN" export --quiet --force --output "$case" "$f")")
  results+=("$(run scope-case "$BIN" scope --quiet --format json --attacker-ip $IP "$case")")
  if [ "$have_polars" = yes ]; then
    results+=("$(run polars-python python3 benches/polars_scope.py "$f" $IP)")
  fi
  # Peak RSS above counts the memory-mapped input pages too; the peak of anonymous memory (what
  # mailscope itself allocates) is sampled by the binary with MAILSCOPE_MEMSTATS.
  anon_kb() { MAILSCOPE_MEMSTATS=1 "$BIN" "$@" 2>&1 > /dev/null | awk '/^peak RssAnon/{print $(NF-1)}'; }
  inspect_anon=$(anon_kb inspect --quiet "$f")
  scope_anon=$(anon_kb scope --quiet --format json --attacker-ip $IP "$f")
  printf '%-16s %9s %9s %12s %11s\n' step wall_s MB/s records/s peak_rss_MB
  declare -A wall=()
  for r in "${results[@]}"; do
    read -r label w kb <<< "$r"
    wall[$label]=$w
    awk -v l="$label" -v w="$w" -v kb="$kb" -v b="$bytes" -v n="$n" \
      'BEGIN{printf "%-16s %9.2f %9.0f %12.0f %11.0f\n", l, w, (w>0? b/1e6/w : 0), (w>0? n/w : 0), kb/1024}'
  done
  echo "peak anonymous memory: inspect $((inspect_anon * 1024 / 1000000)) MB, scope $((scope_anon * 1024 / 1000000)) MB ($(awk -v a="$scope_anon" -v b="$bytes" 'BEGIN{printf "%.2f", a*1024/b}')x the file; goal <= 0.5)"
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a" }'; }
  echo "case file: $(($(stat -c %s "$case") / 1000000)) MB ($(awk -v a="$(stat -c %s "$case")" -v b="$bytes" 'BEGIN{printf "%.2f", a/b}')x the CSV)"
  echo "scope / wc -l:             $(ratio "${wall[scope]}" "${wall[wc-l]}")x"
  echo "scope / sha256:            $(ratio "${wall[scope]}" "${wall[sha256]}")x  (goal <= 1.5)"
  echo "inspect / sha256:          $(ratio "${wall[inspect]}" "${wall[sha256]}")x  (goal <= 1.2)"
  echo "scope CSV / scope case:    $(ratio "${wall[scope]}" "${wall[scope-case]}")x  (goal >= 10)"
  echo "scope 1 thread / 2 threads: $(ratio "${wall[scope-1-thread]}" "${wall[scope]}")x"
  if [ "$have_polars" = yes ]; then
    echo "polars-python / scope:     $(ratio "${wall[polars-python]}" "${wall[scope]}")x  (goal >= 3)"
  else
    echo "polars-python: not installed (pip install polars)"
  fi
  unset wall
done
