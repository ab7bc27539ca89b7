#!/usr/bin/env bash
# Replays multi-stage racing rules on the trajectory of a --racing off sweep of ROOT (see bench/racing-stages.py).
# First races that trajectory with one stage holding all of the --valid-sentences and k = 1000 (which promotes what
# the off sweep's parents need; from rule 2 on the finite-population SE of the whole set is 0, so it races exactly:
# the same trajectory; full-set losses come from the off sweep's cache), which caches every config's NLL per
# sentence, then dumps those and the population. SEEDS=N replays N subset draws per row (default 10).
#   bench/racing-stages.sh ROOT OFF_SWEEP_ID SWEEP_OPTIONS...
#   e.g. bench/racing-stages.sh /tmp/r3/demo off3 --budget-percentiles 20,50,90 --population 16 --parents 4 \
#          --mutations 6 --crossovers 6 --generations 5 --valid-sentences 160
# (the off sweep's own options, without --racing off).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$1"; off="$2"; shift 2
id="all-$off"; dump="$root/stages-dump"
if [ ! -d "$root/sweeps/$id/best" ]; then
  "$here/submit/hat" sweep --root "$root" --sweep-id "$id" "$@" --racing-fraction 1.0 --racing-k 1000 > "$root/$id.log" 2>&1
fi
"$here/submit/hat" sql --root "$root" "INSERT OVERWRITE DIRECTORY 'file://$dump/evaluations' USING json SELECT config_hash, sentence_nll FROM evaluations WHERE fidelity = 'subset' AND size(sentence_nll) = (SELECT max(size(sentence_nll)) FROM evaluations)" > /dev/null 2>&1
"$here/submit/hat" sql --root "$root" "INSERT OVERWRITE DIRECTORY 'file://$dump/population' USING json SELECT p.sweep_id, p.budget_ms, p.generation, p.config_hash, p.predicted_latency_ms, p.parent_hashes, e.val_loss AS full_loss FROM sweep_population p LEFT JOIN (SELECT config_hash, min(val_loss) AS val_loss FROM evaluations WHERE fidelity = 'full' GROUP BY config_hash) e ON p.config_hash = e.config_hash WHERE p.sweep_id = '$off'" > /dev/null 2>&1
python3 "$here/bench/racing-stages.py" "$dump" "$off" 4 "${SEEDS:-10}"
