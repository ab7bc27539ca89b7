"""The JSON dumps the racing replays read (racing-replay.sh, racing-stages.sh write them)."""
import glob, json
from collections import defaultdict


def rows(dump, name):
    return (json.loads(l) for f in sorted(glob.glob(f"{dump}/{name}/part-*")) for l in open(f))


def trajectory(dump, sweep):
    """generation -> budget -> config hash -> full-set loss, and config hash -> predicted latency (ms)."""
    gens, ms = defaultdict(lambda: defaultdict(dict)), {}
    for r in rows(dump, "population"):
        if r["sweep_id"] == sweep:
            gens[r["generation"]][r["budget_ms"]][r["config_hash"]] = r["full_loss"]
            ms[r["config_hash"]] = r["predicted_latency_ms"]
    return gens, ms
