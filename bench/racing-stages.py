#!/usr/bin/env python3
"""Replays multi-stage racing (Racing.decide at every stage, nested subsets) on a --racing off sweep's
trajectory, for choosing the rule, the stages and the margin (issue 16). Needs every config's NLL on every
validation sentence: racing-stages.sh races the trajectory with one stage holding the whole set and k = 1000
(which promotes what the off sweep's parents need, so it follows the off trajectory exactly) and dumps the results. Stage subsets here
are seeded Python samples, not the sweep's own, and each row replays SEEDS of them (any uniform nested sample is
the same experiment, and one draw tells little about how often a rule drops a parent); the cost counts sentences,
not tokens (a uniform sample holds the same share of both on average). A replay is exact while no true parent is
dropped, since the trajectory then stays the off sweep's; the last columns count the budget-generations whose
true parents a replay dropped, summed over the seeds, and in how many seeds that happened. The three racing rules
(Racing.decide): rule 1, paired differences to the reference on the stage's sentences, pool ranked by subset
loss; rule 2, differences estimated through fully evaluated anchors chosen for the smallest SE, finite-population
SE, the winner race against the budget's best fully evaluated row, only that race in the last generation; rule 3,
rule 2 with each side anchored on the mean of its fully evaluated parents and the pool ranked on the whole set's
scale.
  racing-stages.py DUMPDIR SWEEP_ID [PARENTS [SEEDS]]"""
import math, random, sys
import replay_dump

dump, sweep = sys.argv[1], sys.argv[2]
P = int(sys.argv[3]) if len(sys.argv) > 3 else 4
SEEDS = int(sys.argv[4]) if len(sys.argv) > 4 else 10
rows = lambda name: replay_dump.rows(dump, name)
nll = {r["config_hash"]: r["sentence_nll"] for r in rows("evaluations")}
n = len(next(iter(nll.values())))
mean_all = {h: sum(v) / n for h, v in nll.items()}  # per-sentence mean over the whole set: the full-set scale
gens, ms = replay_dump.trajectory(dump, sweep)  # generation -> budget -> hash -> full-set loss; hash -> ms
# a config's parents per generation, as Racing.decide takes them from the generation's candidates (a carried-over
# parent's row names itself; it is fully evaluated, its own anchor)
parents_gen = {}
for r in rows("population"):
    if r["sweep_id"] == sweep:
        ps = parents_gen.setdefault(r["generation"], {}).setdefault(r["config_hash"], [])
        ps += [x for x in r.get("parent_hashes") or [] if x != r["config_hash"] and x not in ps]
missing = {h for gen in gens.values() for mem in gen.values() for h in mem if h not in nll}
if missing:
    sys.exit(f"{len(missing)} configs of {sweep} have no per-sentence result on all {n} sentences")


def pool(gen, b, alive):  # Lockstep.parentPool, of the configs still in the race
    m = {h: v for h, v in gen[b].items() if h in alive}
    for mem in gen.values():
        for h, v in mem.items():
            if ms[h] <= b and h in alive:
                m.setdefault(h, v)
    return m


def mean_se(d, fpc):  # mean per sentence and its SE (finite-population factor from rule 2 on)
    m, mu = len(d), sum(d) / len(d)
    return mu, math.sqrt(sum((v - mu) ** 2 for v in d) / (m - 1) / m * ((1 - m / n) if fpc else 1))


def replay(fractions, k, rule, seed):
    perm = list(range(n))
    random.Random(seed).shuffle(perm)
    sizes = [max(16, round(fractions[0] * n))] + [round(f * n) for f in fractions[1:]]
    stages = [sorted(perm[:m]) for m in sizes]
    full, deepest, diverged = set(), {}, 0
    last = max(gens)
    subset_loss = lambda h, idx: sum(nll[h][i] for i in idx)
    for g in sorted(gens):
        gen, par = gens[g], parents_gen.get(g, {})
        anchors = lambda h: [h] if h in full else [x for x in par.get(h, []) if x in full]
        mean_of = lambda xs: ([sum(nll[x][i] for x in xs) / len(xs) for i in range(n)], sum(mean_all[x] for x in xs) / len(xs))

        def diff(a, b, idx):  # a - b per sentence over the whole set, estimated on the sentences idx
            best = mean_se([nll[a][i] - nll[b][i] for i in idx], rule > 1)
            if rule == 2:  # the anchors giving the smallest SE
                for x in anchors(a):
                    for y in anchors(b):
                        mu, se = mean_se([(nll[a][i] - nll[x][i]) - (nll[b][i] - nll[y][i]) for i in idx], True)
                        if se < best[1]:
                            best = (mean_all[x] - mean_all[y] + mu, se)
            elif rule == 3 and anchors(a) and anchors(b):  # each side on the mean of its anchors
                (va, la), (vb, lb) = mean_of(anchors(a)), mean_of(anchors(b))
                mu, se = mean_se([(nll[a][i] - va[i]) - (nll[b][i] - vb[i]) for i in idx], True)
                best = (la - lb + mu, se)
            return best

        def rank_key(h, idx, pm):  # rule 3: the whole set's scale once the pool holds a fully evaluated config
            if h in full:
                return mean_all[h]
            v, l = mean_of(anchors(h) or [x for x in pm if x in full])
            return l + sum(nll[h][i] - v[i] for i in idx) / len(idx)

        alive = {h for mem in gen.values() for h in mem}
        promoted = set()
        for s, idx in enumerate(stages):
            promoted = set()
            for b in gen:
                pm = pool(gen, b, alive)
                if not pm:
                    continue
                if rule == 3 and full & set(pm):
                    key = {h: rank_key(h, idx, pm) for h in pm}
                    ranked = sorted(pm, key=lambda h: (key[h], h))
                else:
                    ranked = sorted(pm, key=lambda h: (subset_loss(h, idx), h))
                ref = ranked[min(P, len(ranked)) - 1]
                own = [h for h in gen[b] if h in alive]
                # the winner race's reference: from rule 2 on the budget's best fully evaluated row, else (always
                # promoted) its best candidate by subset loss
                done = [h for h in own if h in full] if rule > 1 else []
                best = min(done, key=lambda h: (mean_all[h], h)) if done else min(own, key=lambda h: (subset_loss(h, idx), h), default=None)
                slot_race = not (rule > 1 and g == last)
                for h in pm:
                    if h in full:
                        continue
                    ok = not done and h == best
                    if slot_race:
                        dm, se = diff(h, ref, idx)
                        ok = ok or h in ranked[:P] or dm - k * se <= 0
                    if not ok and h in gen[b] and best is not None:
                        wm, wse = diff(h, best, idx)
                        ok = wm - k * wse <= 0
                    if ok:
                        promoted.add(h)
            for h in alive - full:
                deepest[h] = max(deepest.get(h, 0), s + 1)
            alive = promoted | (alive & full)
        if g < last or rule == 1:
            parents = [set(sorted(pool(gen, b, set(ms)), key=lambda h: (pool(gen, b, set(ms))[h], h))[:P]) for b in gen]
            diverged += sum(1 for p in parents if not p <= full | promoted)
        full |= promoted
    cost = sum(1.0 if h in full else sizes[deepest[h] - 1] / n for h in deepest)
    return len(full), len(deepest), cost / len(deepest), diverged


print(f"{SEEDS} subset seeds per row: mean (min-max) of configs in full and cost vs off; true parents dropped")
print(f"{'stages':16} {'rule':>4} {'k':>4} {'full':>6} {'raced':>6} {'cost/off':>20} {'dropped':>8} {'in seeds':>9}")
for fractions in ([0.1, 0.3], [0.1, 0.25, 0.5], [0.1, 0.2, 0.3, 0.5], [0.1, 0.2, 0.3, 0.5, 0.7]):
    for rule in (1, 2, 3):
        for k in (2, 1.5):
            res = [replay(fractions, k, rule, seed) for seed in range(1, SEEDS + 1)]
            costs = [r[2] for r in res]
            print(f"{','.join(map(str, fractions)):16} {rule:>4} {k:>4} {sum(r[0] for r in res) / SEEDS:>6.1f} {res[0][1]:>6} "
                  f"{sum(costs) / SEEDS:>8.3f} ({min(costs):.3f}-{max(costs):.3f}) {sum(r[3] for r in res):>8} {sum(1 for r in res if r[3]):>9}",
                  flush=True)
