#!/usr/bin/env python3
"""Replays multi-stage racing (Racing.decide at every stage, nested subsets) on a --racing off sweep's
trajectory, for choosing the stages and the margin (issue 16). Needs every config's NLL on every validation
sentence: racing-stages.sh races the trajectory with one stage holding the whole set and k = 1000 (which
promotes everything, so it follows the off trajectory exactly) and dumps the results. Stage subsets here are
seeded Python samples, not the sweep's own (any uniform nested sample is the same experiment); the cost counts
sentences, not tokens (a uniform sample holds the same share of both on average). A rule is exact while no
true parent is dropped (the last column), since the trajectory then stays the off sweep's. Both racing rules
(Racing.decide): rule 1, paired differences to the reference on the stage's sentences; rule 2, differences
estimated through fully evaluated anchors (a child's parents) with finite-population SE, the winner race
against the budget's best fully evaluated row, and only that race in the last generation.
  racing-stages.py DUMPDIR SWEEP_ID [PARENTS [TOKENS_PER_SENTENCE]]"""
import math, random, sys
import replay_dump

dump, sweep = sys.argv[1], sys.argv[2]
P = int(sys.argv[3]) if len(sys.argv) > 3 else 4
rows = lambda name: replay_dump.rows(dump, name)
nll = {r["config_hash"]: r["sentence_nll"] for r in rows("evaluations")}
n = len(next(iter(nll.values())))
mean_all = {h: sum(v) / n for h, v in nll.items()}  # per-sentence mean over the whole set: the full-set scale
gens, ms = replay_dump.trajectory(dump, sweep)  # generation -> budget -> hash -> full-set loss; hash -> ms
parents_of = {r["config_hash"]: r.get("parent_hashes") or [] for r in rows("population") if r["sweep_id"] == sweep}
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


def mean_se(d, fpc):  # mean per sentence and its SE (finite-population factor for rule 2)
    m, mu = len(d), sum(d) / len(d)
    return mu, math.sqrt(sum((v - mu) ** 2 for v in d) / (m - 1) / m * ((1 - m / n) if fpc else 1))


def diff(a, b, idx, full=(), rule=1):  # a - b per sentence over the whole set, estimated on the sentences idx
    best = mean_se([nll[a][i] - nll[b][i] for i in idx], rule == 2)
    if rule == 2:  # through anchors: the config itself when fully evaluated, else its fully evaluated parents
        anchors = lambda h: [h] if h in full else [x for x in parents_of.get(h, []) if x in full]
        for x in anchors(a):
            for y in anchors(b):
                mu, se = mean_se([(nll[a][i] - nll[x][i]) - (nll[b][i] - nll[y][i]) for i in idx], True)
                if se < best[1]:
                    best = (mean_all[x] - mean_all[y] + mu, se)
    return best


TPS = float(sys.argv[4]) if len(sys.argv) > 4 else 5828 / 160  # target tokens per sentence (delta is per token)


def replay(fractions, k, delta=0.0, seed=1, rule=1):
    perm = list(range(n))
    random.Random(seed).shuffle(perm)
    sizes = [max(16, round(fractions[0] * n))] + [round(f * n) for f in fractions[1:]]
    stages = [sorted(perm[:m]) for m in sizes]
    full, deepest, diverged = set(), {}, 0
    loss = lambda h, idx: sum(nll[h][i] for i in idx)
    last = max(gens)
    for g in sorted(gens):
        gen = gens[g]
        alive = {h for mem in gen.values() for h in mem}
        promoted = set()
        for s, idx in enumerate(stages):
            promoted = set()
            for b in gen:
                pm = pool(gen, b, alive)
                if not pm:
                    continue
                ranked = sorted(pm, key=lambda h: (loss(h, idx), h))
                ref = ranked[min(P, len(ranked)) - 1]
                own = [h for h in gen[b] if h in alive]
                # the winner race's reference: rule 2 the budget's best fully evaluated row, else (always promoted)
                # its best candidate by subset loss
                done = [h for h in own if h in full] if rule == 2 else []
                best = min(done, key=lambda h: (mean_all[h], h)) if done else min(own, key=lambda h: (loss(h, idx), h), default=None)
                slot_race = not (rule == 2 and g == last)
                for h in pm:
                    if h in full:
                        continue
                    ok = not done and h == best
                    if slot_race:
                        dm, se = diff(h, ref, idx, full, rule)
                        ok = ok or h in ranked[:P] or (dm - k * se) / TPS + delta <= 0
                    if not ok and h in gen[b] and best is not None:
                        wm, wse = diff(h, best, idx, full, rule)
                        ok = (wm - k * wse) / TPS + delta <= 0
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


print(f"{'stages':16} {'rule':>4} {'k':>4} {'delta':>6} {'full':>5} {'raced':>6} {'cost/off':>9} {'budget-generations whose parents were dropped':>46}")
for fractions in ([0.1], [0.1, 0.3], [0.1, 0.2, 0.4], [0.1, 0.3, 0.6], [0.1, 0.2, 0.4, 0.7], [0.1, 0.2, 0.3, 0.5, 0.7]):
    for rule in (1, 2):
        for k, delta in ((2, 0), (1.5, 0), (1, 0), (2, 0.005), (2, 0.01)):
            f, r, ratio, d = replay(fractions, k, delta, rule=rule)
            print(f"{','.join(map(str, fractions)):16} {rule:>4} {k:>4} {delta:>6} {f:>5} {r:>6} {ratio:>9.3f} {d:>46}")
