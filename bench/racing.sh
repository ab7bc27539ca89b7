#!/usr/bin/env bash
# Racing vs HAT-style full evaluation on the demo (issue 16). Runs, in one run root holding a trained demo
# supernet (corpus/, supernet/, latency/ of `submit/hat demo`), the same-seed sweeps
#   off3/on3   --budget-percentiles 20,50,90 with --racing off / on
#   off10/on10 --budgets auto:10             with --racing off / on
#   sep<i>on   (SEPARATE=1) each of the 10 budgets of on10 as its own sweep, racing on
# with the demo's sweep settings, then prints per budget the best full-set loss on vs off and, per sweep,
# the configs and target tokens it evaluated counted from its population table (below): the evaluation
# cache the sweeps share saves wall time but never changes a sweep's population, so these counts are the
# ones of a sweep run alone. Racing sweeps of versions before racing stages (no stage_tokens) are not counted right. Extra options (e.g. --racing-k 3) go to the racing-on sweeps only.
#   bench/racing.sh ROOT [GENERATIONS [racing options ...]]
#   e.g. bench/racing.sh /tmp/h16/demo 3
# A sweep id already present in ROOT is skipped (delete sweeps/<id> to rerun it); TAG=x suffixes the racing-on ids.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$1"; gens="${2:-5}"; shift $(( $# >= 2 ? 2 : 1 ))
tag="${TAG:-}"
common=(--root "$root" --population 16 --parents 4 --mutations 6 --crossovers 6 --generations "$gens" --valid-sentences 160)
sweep() { # id options...
  local id="$1"; shift
  if [ -d "$root/sweeps/$id/best" ]; then echo "== $id: already there"; return; fi
  local s=$(date +%s)
  "$here/submit/hat" sweep --sweep-id "$id" "${common[@]}" "$@" > "$root/$id.log" 2>&1 || { echo "$id failed, see $root/$id.log" >&2; exit 1; }
  echo "== $id: $(( $(date +%s) - s )) s wall, load $(cut -d' ' -f1-3 /proc/loadavg)"
}
sweep off3 --budget-percentiles 20,50,90 --racing off
sweep "on3$tag" --budget-percentiles 20,50,90 "$@"
sweep off10 --budgets auto:10 --racing off
sweep "on10$tag" --budgets auto:10 "$@"
if [ "${SEPARATE:-0}" = 1 ]; then
  budgets=$("$here/submit/hat" sql --root "$root" "SELECT concat_ws(',', collect_list(CAST(budget_ms AS STRING))) AS b FROM (SELECT budget_ms FROM sweep_best WHERE sweep_id = 'on10$tag' ORDER BY budget_ms)" 2>/dev/null | grep -Eo '[0-9.]+(,[0-9.]+){9}' | head -n 1)
  i=0
  for b in ${budgets//,/ }; do i=$((i + 1)); sweep "sep${i}on$tag" --budgets "$b" "$@"; done
fi

# Per sweep and config what it cost the sweep, whatever the shared cache held: the whole set's target tokens for a
# config evaluated in full (racing's stages and the rest add up to the whole set once), else the tokens of the deepest
# racing stage it reached (stage_tokens). ft: target tokens of the sweeps' full-set evaluations (eval-subnet's in the
# same cache may use another set).
ft="(SELECT max(target_tokens) AS ft FROM evaluations WHERE fidelity = 'full' AND evaluated_by LIKE 'sweep %')"
cost="SELECT p.sweep_id, count(*) AS configs, count(CASE WHEN p.full THEN 1 END) AS full_configs, count(CASE WHEN p.raced THEN 1 END) AS raced_configs, sum(CASE WHEN p.full THEN t.ft ELSE p.stage_tokens END) AS tokens, count(CASE WHEN p.full THEN 1 END) * t.ft AS off_equivalent FROM (SELECT sweep_id, config_hash, max(val_loss IS NOT NULL) AS full, max(subset_loss IS NOT NULL) AS raced, max(stage_tokens) AS stage_tokens FROM sweep_population GROUP BY sweep_id, config_hash) p CROSS JOIN $ft t GROUP BY p.sweep_id, t.ft"
"$here/submit/hat" sql --root "$root" "SELECT o.budget_ms, round(o.val_loss, 4) AS off3_best, round(n.val_loss, 4) AS on3_best, round(n.val_loss - o.val_loss, 4) AS diff FROM sweep_best o JOIN sweep_best n ON o.budget_ms = n.budget_ms AND o.sweep_id = 'off3' AND n.sweep_id = 'on3$tag' ORDER BY 1" 2>/dev/null | grep '^[|+]'
"$here/submit/hat" sql --root "$root" "SELECT o.budget_ms, round(o.val_loss, 4) AS off10_best, round(n.val_loss, 4) AS on10_best, round(n.val_loss - o.val_loss, 4) AS diff FROM sweep_best o JOIN sweep_best n ON o.budget_ms = n.budget_ms AND o.sweep_id = 'off10' AND n.sweep_id = 'on10$tag' ORDER BY 1" 2>/dev/null | grep '^[|+]'
# tokens_vs_off: against the --racing off sweep of the same budgets
"$here/submit/hat" sql --root "$root" "SELECT c.sweep_id, c.full_configs, c.raced_configs, c.tokens AS target_tokens, round(c.tokens / o.tokens, 3) AS tokens_vs_off FROM ($cost) c LEFT JOIN ($cost) o ON o.sweep_id = CASE WHEN c.sweep_id LIKE 'on3%' THEN 'off3' WHEN c.sweep_id LIKE 'on10%' THEN 'off10' END ORDER BY c.sweep_id" 2>/dev/null | grep '^[|+]'
if [ "${SEPARATE:-0}" = 1 ]; then
  # the 10-budget lockstep sweep against the 10 separate sweeps of its budgets, same racing options
  "$here/submit/hat" sql --root "$root" "SELECT round(sum(CASE WHEN sweep_id = 'on10$tag' THEN configs END) / sum(CASE WHEN sweep_id LIKE 'sep%on$tag' THEN configs END), 3) AS configs_vs_separate, round(sum(CASE WHEN sweep_id = 'on10$tag' THEN tokens END) / sum(CASE WHEN sweep_id LIKE 'sep%on$tag' THEN tokens END), 3) AS tokens_vs_separate FROM ($cost) c" 2>/dev/null | grep '^[|+]'
fi
