#!/usr/bin/env python3
"""Averages safetensors checkpoints of one architecture parameter by parameter (a weight "soup").

Float tensors are averaged in float64 and stored in their own dtype; integer tensors (BatchNorm's
num_batches_tracked) are taken from the first file, as is the metadata.

Needs Debian's python3-numpy (not part of seghub's build).

  /usr/bin/python3 scripts/analysis/average_weights.py OUT.safetensors A.safetensors B.safetensors ...
"""
import argparse
import json
import struct

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64}


def load(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    meta = header.pop("__metadata__", None)
    tensors = {}
    for name, t in header.items():
        start, end = t["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
        tensors[name] = (t["dtype"], array)
    return meta, tensors


def save(path, meta, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        dtype, array = tensors[name]
        raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    if meta:
        header["__metadata__"] = meta
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()
    loaded = [load(p) for p in a.inputs]
    meta, first = loaded[0]
    out = {}
    for name, (dtype, array) in first.items():
        if not np.issubdtype(array.dtype, np.floating):
            out[name] = (dtype, array.copy())
            continue
        mean = sum(t[name][1].astype(np.float64) for _, t in loaded) / len(loaded)
        out[name] = (dtype, mean.astype(array.dtype))
    save(a.out, meta, out)
    print(f"{a.out}: {len(out)} tensors averaged over {len(loaded)} files")


if __name__ == "__main__":
    main()
