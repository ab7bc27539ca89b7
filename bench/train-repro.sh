#!/usr/bin/env bash
# Fresh-process reproducibility and divergence of train-supernet (issue 18): RUNS runs from scratch of each
# setting (demo corpus en→es, the same corpus reversed es→en, seeds 2 and 3), each in its own JVM; prints per
# setting how many runs diverged and whether the runs' final checkpoints (weights, Adam state) and training
# curves (state.json metrics without tokens/s) are bit-identical.
#   bench/train-repro.sh [RUNS [WORK]] [train-supernet options ...]
#   e.g. bench/train-repro.sh 10 /tmp/repro                          # the demo recipe: 300 updates
#        bench/train-repro.sh 2 /tmp/repro --steps 6 --valid-sentences 40 --max-tokens 1024   # a quick check
# Corpora are prepared once under WORK (kept between calls); each run gets a fresh copy of its corpus.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-10}"
work="${2:-/tmp/hat-train-repro}"
shift $(( $# >= 2 ? 2 : $# ))
# the demo's train-supernet recipe; an option given on the command line replaces its default
declare -A demo=([--space]=demo [--steps]=300 [--warmup]=75 [--valid-every]=75 [--checkpoint-every]=75)
for a in "$@"; do unset "demo[${a%%=*}]"; done
recipe=()
for k in "${!demo[@]}"; do recipe+=("$k" "${demo[$k]}"); done
recipe+=("$@")
mkdir -p "$work"

corpus() { # name input
  if [ ! -f "$work/corpus-$1/corpus/_corpus.json" ]; then
    "$here/submit/hat" prepare-corpus --root "$work/corpus-$1" --input "$2" > "$work/corpus-$1.log" 2>&1
  fi
}
corpus en-es builtin:bible
if [ ! -f "$work/bible.es-en.tsv.gz" ]; then
  # same ref column, source and target swapped
  gzip -dc "$here/data/bible-kjv-rv1909.en-es.tsv.gz" | awk -F'\t' 'BEGIN{OFS="\t"} NR==1{print;next}{print $1,$3,$2}' \
    | gzip > "$work/bible.es-en.tsv.gz"
fi
corpus es-en "$work/bible.es-en.tsv.gz"

# setting name, corpus, extra options
settings=("demo en-es --seed 1" "reversed es-en --seed 1" "seed2 en-es --seed 2" "seed3 en-es --seed 3")
printf '%-9s %5s %9s %s\n' setting runs diverged "bit-identical (weights+Adam / curve)"
for s in "${settings[@]}"; do
  read -r name corp seedopt seed <<< "$s"
  # HAT_REPRO_SETTINGS="reversed seed2" runs only those (e.g. one call per setting, side by side)
  [[ -z "${HAT_REPRO_SETTINGS:-}" || " $HAT_REPRO_SETTINGS " == *" $name "* ]] || continue
  diverged=0
  : > "$work/$name.digests"
  for i in $(seq 1 "$runs"); do
    root="$work/runs/$name-$i"
    rm -rf "$root" && mkdir -p "$root" && cp -r "$work/corpus-$corp/corpus" "$root/"
    start=$(date +%s)
    if ! "$here/submit/hat" train-supernet --root "$root" "${recipe[@]}" "$seedopt" "$seed" > "$root.log" 2>&1; then
      grep -q "diverged" "$root.log" && diverged=$((diverged + 1))
      grep -q "diverged" "$root.log" || { echo "$name run $i failed (see $root.log)" >&2; }
    fi
    ckpt=$(ls -d "$root"/supernet/checkpoints/step-* 2>/dev/null | sort | tail -n 1)
    if [ -n "$ckpt" ]; then
      w=$(cat "$ckpt/model.ndlist" "$ckpt/optimizer.ndlist" | sha256sum | cut -c1-16)
      c=$(jq -c '[.metrics[] | del(.tokensPerS)]' "$ckpt/state.json" | sha256sum | cut -c1-16)
      echo "$(basename "$ckpt") $w $c" >> "$work/$name.digests"
    else
      echo "none - -" >> "$work/$name.digests"
    fi
    echo "$name run $i: $(tail -n 1 "$work/$name.digests") in $(( $(date +%s) - start )) s" >&2
  done
  distinct=$(sort -u "$work/$name.digests" | wc -l)
  printf '%-9s %5d %9d %s\n' "$name" "$runs" "$diverged" "$([ "$distinct" = 1 ] && echo yes || echo "no ($distinct distinct)")"
done
