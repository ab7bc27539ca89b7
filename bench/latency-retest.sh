#!/usr/bin/env bash
# Retest error of latency labels (issue 15): two independent measure-latency runs of the same seeded configs,
# each in a fresh root and JVM, the second root given the first's latency/runs/ so both share its reference
# anchor; prints the relative RMSE between the runs for the label (latency_ms), the same statistic unnormalized and HAT's
# trimmed mean, and each run's own in-run retest error and reference drift.
#   bench/latency-retest.sh WORK [measure-latency options ...]
#   e.g. bench/latency-retest.sh /tmp/retest                      # idle machine
#        BUSY=1 bench/latency-retest.sh /tmp/retest-busy          # a second process keeps one core busy
#        BUSY=2 bench/latency-retest.sh /tmp/retest-busy2 --clock wall   # both cores busy besides the timing
# Defaults: --space demo --samples 80 --seed 11 --parallel 1 --warmup 2 --chunk 80 (an option given replaces it).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:?usage: bench/latency-retest.sh WORK [measure-latency options]}"
shift
declare -A opts=([--space]=demo [--samples]=80 [--seed]=11 [--parallel]=1 [--warmup]=2 [--chunk]=80)
for a in "$@"; do unset "opts[${a%%=*}]"; done
args=()
for k in "${!opts[@]}"; do args+=("$k" "${opts[$k]}"); done
args+=("$@")
rm -rf "$work" && mkdir -p "$work"

busy=()
for _ in $(seq 1 "${BUSY:-0}"); do
  # a core spinning for the whole benchmark, as a neighbour task on a shared executor would
  ( while :; do :; done ) & busy+=($!)
done
trap 'kill "${busy[@]}" 2>/dev/null || true' EXIT

for r in a b; do
  if [ "$r" = b ]; then
    mkdir -p "$work/b/latency" && cp -r "$work/a/latency/runs" "$work/b/latency/runs"
  fi
  start=$(date +%s)
  "$here/submit/hat" measure-latency --root "$work/$r" "${args[@]}" > "$work/$r.log" 2>&1
  echo "run $r: $(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
done

rel() { # column: relative RMSE between the runs' rows of the same config, over the mean of both
  echo "sqrt(avg(pow(a.$1 - b.$1, 2))) / avg((a.$1 + b.$1) / 2)"
}
m="latency/measurements"
"$here/submit/hat" sql --root "$work/a" "
  SELECT count(*) AS configs,
         round(100 * $(rel latency_ms), 2) AS label_pct,
         round(100 * $(rel raw_latency_ms), 2) AS raw_statistic_pct,
         round(100 * $(rel trimmed_mean_ms), 2) AS trimmed_mean_pct,
         round(avg(a.latency_ms), 1) AS mean_ms
  FROM parquet.\`$work/a/$m\` a JOIN parquet.\`$work/b/$m\` b USING (config_hash)" 2>/dev/null
for r in a b; do
  "$here/submit/hat" sql --root "$work/$r" "
    SELECT '$r' AS run, round(100 * retest_error, 2) AS in_run_retest_pct,
           round(100 * retest_error_trimmed_mean, 2) AS trimmed_mean_pct, round(100 * retest_error_p25, 2) AS p25_pct,
           round(100 * reference_drift, 2) AS drift_pct, round(reference_ms, 2) AS reference_ms,
           round(load_avg, 2) AS load, round(cpu_steal, 4) AS steal
    FROM latency_runs" 2>/dev/null
done
