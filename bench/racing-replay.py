#!/usr/bin/env python3
"""Replays the racing rules on a --racing off sweep's trajectory (issue 16): which configs each rule would
promote to the full set, and whether every budget's next parents (best --parents of Lockstep.parentPool by
full-set loss) would all have been promoted; if so the racing sweep follows the same trajectory and ends
with the same best losses, so its token ratio is exact. Needs subset results (a racing sweep on the same
root raced them) for every config of the trajectory. Input: the JSON dumps written by racing-replay.sh.
  racing-replay.py DUMPDIR SWEEP_ID [PARENTS]"""
import math, sys
import replay_dump

dump, sweep = sys.argv[1], sys.argv[2]
P = int(sys.argv[3]) if len(sys.argv) > 3 else 4
rows = lambda name: replay_dump.rows(dump, name)
sub, tokens = {}, {}
for r in rows("evaluations"):
    tokens[r["fidelity"]] = r["target_tokens"]
    if r["fidelity"] == "subset":
        sub[r["config_hash"]] = (r["sentence_nll"], r["target_tokens"])
gens, ms = replay_dump.trajectory(dump, sweep)  # generation -> budget -> hash -> full-set loss; hash -> ms

def pool(gen, b):  # Lockstep.parentPool: the budget's candidates plus the other budgets' that fit it
    m = dict(gen[b])
    for mem in gen.values():
        for h, v in mem.items():
            if ms[h] <= b:
                m.setdefault(h, v)
    return m

def subset_loss(h):
    return sum(sub[h][0]) / sub[h][1]

def diff(a, b):  # Racing.difference: paired mean and SE, sentences as the sampling unit
    d = [p - q for p, q in zip(sub[a][0], sub[b][0])]
    m, mu = len(d), sum(d) / len(d)
    return sum(d) / sub[a][1], math.sqrt(m * sum((v - mu) ** 2 for v in d) / (m - 1)) / sub[a][1]

def replay(rule, k):
    full, raced, diverged = set(), set(), 0
    for g in sorted(gens):
        gen, promoted, parents = gens[g], set(), []
        for b in gen:
            mem = pool(gen, b) if rule in ("pool", "oracle") else gen[b]
            hs = sorted(mem)
            new = [h for h in hs if h not in full]
            raced |= set(new)
            pm = pool(gen, b)
            parents.append(set(sorted(pm, key=lambda h: (pm[h], h))[:P]))
            if rule == "oracle":  # promotes exactly the next parents: the floor of any rule
                promoted |= parents[-1] - full
                continue
            done = [h for h in hs if h in full]
            if rule == "old" and len(done) >= P:  # the worst parent by full-set loss
                ref = sorted(done, key=lambda h: (mem[h], h))[P - 1]
            elif rule == "old":
                ref = sorted(new, key=lambda h: (subset_loss(h), h))[min(P - len(done), len(new)) - 1]
            else:  # the last parent slot by subset loss
                ref = sorted(hs, key=lambda h: (subset_loss(h), h))[min(P, len(hs)) - 1]
            win = lambda h: False
            if rule == "pool":  # the winner race: the budget's own candidates against their best by subset loss
                best = min(gen[b], key=lambda h: (subset_loss(h), h))
                win = lambda h: h in gen[b] and diff(h, best)[0] - k * diff(h, best)[1] <= 0
            promoted |= {h for h in new if diff(h, ref)[0] - k * diff(h, ref)[1] <= 0 or win(h)}
        diverged += sum(1 for p in parents if not p <= full | promoted)
        full |= promoted
    ratio = (len(full) * tokens["full"] + len(raced) * tokens["subset"]) / (len(raced) * tokens["full"])
    return len(full), len(raced), ratio, diverged

missing = {h for gen in gens.values() for mem in gen.values() for h in mem if h not in sub}
if missing:
    sys.exit(f"{len(missing)} configs of {sweep} have no subset result: race them first (a racing sweep on this root)")
print(f"{'rule':7} {'k':>4} {'full':>5} {'raced':>6} {'tokens/off':>10} {'budget-generations whose parents were dropped':>46}")
for rule, ks in (("old", (2, 1)), ("own", (2, 1)), ("pool", (3, 2, 1.5, 1, 0.5)), ("oracle", (0,))):
    for k in ks:
        f, r, ratio, d = replay(rule, k)
        print(f"{rule:7} {k:>4} {f:>5} {r:>6} {ratio:>10.3f} {d:>46}")
