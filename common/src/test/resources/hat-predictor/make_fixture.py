#!/usr/bin/env python3
"""Writes the small synthetic HAT-style latency predictors the import-hat-predictor tests read.

Run offline, once, with torch installed (made with torch 1.13): python3 make_fixture.py
Never run in CI; the outputs are committed. The network is HAT's predictor shape (first_layer,
layers.0..2, predict; ReLU after all but the last) with hidden width 8 instead of 400, random
weights from a fixed seed, saved as a state_dict in the legacy (pre-1.6) torch.save format of HAT's
published files. expected.json holds what torch computes for a few HAT-10 feature rows, with the
feature and latency norms given, in float32 as HAT does.
"""
import collections
import json

import torch

torch.manual_seed(14)
HIDDEN = 8
FEATURE_NORM = [640, 6, 2048, 6, 640, 6, 2048, 6, 6, 2]
LAT_NORM = 300.0


def linear(i, o):
    return torch.randn(o, i) * 2 * (1.0 / i) ** 0.5, torch.randn(o) * 0.1


sd = collections.OrderedDict()
sd["first_layer.weight"], sd["first_layer.bias"] = linear(10, HIDDEN)
for k in range(3):
    sd[f"layers.{k}.weight"], sd[f"layers.{k}.bias"] = linear(HIDDEN, HIDDEN)
sd["predict.weight"], sd["predict.bias"] = linear(HIDDEN, 1)
sd["predict.bias"] += 1.0  # keeps every output positive, as a latency is
torch.save(sd, "predictor-legacy.pt", _use_new_zipfile_serialization=False)

# wrong shape: predict.weight [2, HIDDEN]
bad = collections.OrderedDict(sd)
bad["predict.weight"] = torch.randn(2, HIDDEN)
torch.save(bad, "predictor-bad-shape.pt", _use_new_zipfile_serialization=False)

# HAT-10 features of a few configs (the last column in our 1..3 = HAT's features' scale)
rows = [
    [640, 6, 3072, 8, 640, 6, 3072, 8, 8, 3],
    [512, 6, 1024, 4, 512, 1, 1024, 4, 4, 1],
    [640, 6, 2048, 6, 512, 3, 2048, 6, 4, 2],
    [512, 6, 1194.6666666666667, 4.666666666666667, 640, 3, 1877.3333333333333, 4.0, 5.333333333333333, 2.0],
]


def forward(x):
    h = torch.relu(torch.nn.functional.linear(x, sd["first_layer.weight"], sd["first_layer.bias"]))
    for k in range(3):
        h = torch.relu(torch.nn.functional.linear(h, sd[f"layers.{k}.weight"], sd[f"layers.{k}.bias"]))
    return torch.nn.functional.linear(h, sd["predict.weight"], sd["predict.bias"])


with torch.no_grad():
    x = torch.tensor([[v / n for v, n in zip(r, FEATURE_NORM)] for r in rows], dtype=torch.float32)
    ms = (forward(x).squeeze(1) * LAT_NORM).tolist()
with open("expected.json", "w") as f:
    json.dump({"feature_norm": FEATURE_NORM, "lat_norm": LAT_NORM, "hidden": HIDDEN, "features": rows,
               "predicted_ms": ms}, f, indent=1)
print(ms)
