#!/usr/bin/env python3
"""Writes synthetic-legacy.pt and synthetic-zip.pt: small checkpoints in torch.save's two formats
covering what HAT's real files do not (int64, bfloat16, float16 specials, CUDA half storages, strided
and offset views, a legacy storage view, nn.Parameter, an unknown class, a namespace) without torch.

torch.save is plain `pickle` with a persistent_id hook; this script does the same with stand-in
`torch` modules whose globals pickle under torch's names, and writes the byte layout torch writes
(serialization.py: _legacy_save and _save). The zip is written to an unseekable stream, so its stored
entries carry data descriptors like torch's, and with force_zip64, zip64 ones; a storage entry comes
before data.pkl and a byteorder entry is included to exercise the reader's rarer paths.
Run: python3 make_synthetic.py  (Python 3.8+, standard library only)
"""
import argparse
import collections
import io
import pickle
import struct
import sys
import types
import zipfile

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch_cuda = types.ModuleType("torch.cuda")
sys.modules.update({"torch": torch, "torch._utils": torch_utils, "torch.cuda": torch_cuda})


def storage_class(module, name, fmt, itemsize):
    cls = type(name, (), {"fmt": fmt, "itemsize": itemsize, "__module__": module.__name__})
    setattr(module, name, cls)
    return cls


FloatStorage = storage_class(torch, "FloatStorage", "f", 4)
LongStorage = storage_class(torch, "LongStorage", "q", 8)
BFloat16Storage = storage_class(torch, "BFloat16Storage", None, 2)
CudaHalfStorage = storage_class(torch_cuda, "HalfStorage", "e", 2)


def _rebuild_tensor_v2(*args):
    raise NotImplementedError


def _rebuild_parameter(*args):
    raise NotImplementedError


for f in (_rebuild_tensor_v2, _rebuild_parameter):
    f.__module__ = "torch._utils"
    setattr(torch_utils, f.__name__, f)

numpy_like = types.ModuleType("numpy.core.multiarray")
sys.modules["numpy.core.multiarray"] = numpy_like


class scalar:  # stands for numpy.core.multiarray.scalar, a class the reader does not know
    def __init__(self, tag, raw):
        self.tag, self.raw = tag, raw

    def __reduce__(self):
        return scalar, (self.tag, self.raw)


scalar.__module__ = "numpy.core.multiarray"
numpy_like.scalar = scalar


class Storage:
    def __init__(self, cls, key, values, location="cpu", raw=None):
        self.cls, self.key, self.values, self.location, self.raw = cls, key, values, location, raw

    def numel(self):
        return len(self.values)

    def data(self):
        if self.raw is not None:
            return self.raw
        return struct.pack("<%d%s" % (len(self.values), self.cls.fmt), *self.values)


class View:
    """A legacy storage view: elements [offset, offset + size) of a root storage."""

    def __init__(self, root, key, offset, size):
        self.root, self.key, self.offset, self.size = root, key, offset, size


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce_ex__(self, protocol):
        return _rebuild_tensor_v2, self.args


class Parameter:
    def __init__(self, data):
        self.data = data

    def __reduce_ex__(self, protocol):
        return _rebuild_parameter, (self.data, True, collections.OrderedDict())


def bfloat16(values):
    return b"".join(struct.pack("<f", v)[2:] for v in values)  # the upper half of each float32


grid = Storage(FloatStorage, "140001", [float(i) for i in range(12)])
ints = Storage(LongStorage, "140002", [-1, 2 ** 40, 3, 4, 5, 6])
half = Storage(CudaHalfStorage, "140003", [0.0, -2.0, 65504.0, 2.0 ** -24, float("inf")], location="cuda:0")
bf16 = Storage(BFloat16Storage, "140004", [1.0, -3.5, 0.15625], raw=bfloat16([1.0, -3.5, 0.15625]))
view = View(grid, "140005", 6, 4)  # elements 6..9 of grid

state = collections.OrderedDict()
state["z.weight"] = Tensor(grid, 0, (3, 4), (4, 1))
state["a.bias"] = Tensor(grid, 4, (4,), (1,))
state._metadata = collections.OrderedDict([("", {"version": 1})])

root = {
    "args": argparse.Namespace(encoder_embed_dim=640, choices=[3, 2, 1], betas=(0.9, 0.98), fp16=True, name=None),
    "model": state,
    "transposed": Tensor(grid, 0, (4, 3), (1, 4)),
    "ints": Tensor(ints, 0, (2, 3), (3, 1)),
    "half": Tensor(half, 0, (5,), (1,)),
    "bf16": Tensor(bf16, 0, (3,), (1,)),
    "param": Parameter(Tensor(grid, 8, (2, 2), (2, 1))),
    "unknown": scalar("<f8", b"\x00\x00\x00\x00\x00\x00\xf0?"),
}
storages = [grid, ints, half, bf16]


class Pickler(pickle.Pickler):
    def __init__(self, f, legacy):
        super().__init__(f, protocol=2)
        self.legacy = legacy

    def persistent_id(self, obj):
        if isinstance(obj, View):
            if not self.legacy:
                obj = obj.root  # the zip format has no storage views
            else:
                r = obj.root
                return ("storage", r.cls, r.key, r.location, r.numel(), (obj.key, obj.offset, obj.size))
        if isinstance(obj, Storage):
            pid = ("storage", obj.cls, obj.key, obj.location, obj.numel())
            return pid + (None,) if self.legacy else pid
        return None


def legacy():
    root["legacy_view"] = Tensor(view, 1, (3,), (1,))  # elements 7, 8, 9 of grid
    out = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001,
                   {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(header, out, protocol=2)
    Pickler(out, legacy=True).dump(root)
    order = list(reversed(storages))  # the data follows the key list, not first use in the pickle
    pickle.dump([s.key for s in order], out, protocol=2)
    for s in order:
        out.write(struct.pack("<q", s.numel()))
        out.write(s.data())
    del root["legacy_view"]
    return out.getvalue()


class Unseekable(io.RawIOBase):
    def __init__(self):
        self.buffer = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.buffer += b
        return len(b)


def zipped():
    pkl = io.BytesIO()
    Pickler(pkl, legacy=False).dump(root)
    keys = {s: str(i) for i, s in enumerate(storages)}
    for s in storages:
        s.key = keys[s]
    pkl = io.BytesIO()
    Pickler(pkl, legacy=False).dump(root)
    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as z:
        def put(name, data):
            with z.open(zipfile.ZipInfo("archive/" + name), "w", force_zip64=True) as w:
                w.write(data)
        put("data/3", storages[3].data())  # before data.pkl: the reader must hold it until then
        put("data.pkl", pkl.getvalue())
        put("byteorder", b"little")
        for s in storages[:3]:
            put("data/" + s.key, s.data())
        put("version", b"3\n")
    return bytes(sink.buffer)


if __name__ == "__main__":
    with open("synthetic-legacy.pt", "wb") as f:
        f.write(legacy())
    with open("synthetic-zip.pt", "wb") as f:
        f.write(zipped())
