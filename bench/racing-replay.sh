#!/usr/bin/env bash
# Replays the racing rules on the trajectory of a --racing off sweep of ROOT (see bench/racing-replay.py) at
# several margins k. old: against the worst parent; own: the last parent slot of the budget's own candidates;
# pool: of its parent pool plus the winner race of its own candidates (the sweep's rule); oracle: exactly the
# next parents. It replays the first racing stage alone (the smallest subset in the cache).
#   bench/racing-replay.sh ROOT SWEEP_ID      e.g. bench/racing-replay.sh /tmp/h16/demo off3
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$1"; dump="$root/replay-dump"
"$here/submit/hat" sql --root "$root" "INSERT OVERWRITE DIRECTORY 'file://$dump/evaluations' USING json SELECT config_hash, fidelity, sentence_nll, target_tokens FROM evaluations WHERE fidelity = 'full' OR valid_set_id IN (SELECT valid_set_id FROM evaluations WHERE fidelity = 'subset' ORDER BY size(sentence_nll), valid_set_id LIMIT 1)" > /dev/null 2>&1
"$here/submit/hat" sql --root "$root" "INSERT OVERWRITE DIRECTORY 'file://$dump/population' USING json SELECT p.sweep_id, p.budget_ms, p.generation, p.config_hash, p.predicted_latency_ms, e.val_loss AS full_loss FROM sweep_population p LEFT JOIN (SELECT config_hash, min(val_loss) AS val_loss FROM evaluations WHERE fidelity = 'full' GROUP BY config_hash) e ON p.config_hash = e.config_hash WHERE p.sweep_id = '$2'" > /dev/null 2>&1
python3 "$here/bench/racing-replay.py" "$dump" "$2"
