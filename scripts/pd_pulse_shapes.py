#!/usr/bin/env python3
"""Measures the shape of the PD pulses that `seghub pd analyze` found in a raw .npy recording:
height over the local trend, rise time and decay constant, in samples. These are the figures the
synthetic generator's pulse ranges (src/signals/synthetic.h) are fitted to. Standard library only.

Usage:
  seghub pd analyze FILE.npy --models models --compact | tail -1 > out.json
  scripts/pd_pulse_shapes.py FILE.npy out.json

Per region: the trend is the line through the 5 samples ending 3 before the region's start; the
pulse's peak is the largest deviation from it in [start - 3, start + 15); rise = samples from the
first one deviating by >= 10 % of the peak to the peak; tau = -1 / ln(d[k+1] / d[k]) over the
successive differences d after the peak (an exponential relaxing to any level has a constant
ratio), reported as the median of the first three.
"""
import json
import math
import struct
import sys


def read_npy(path):
    data = open(path, "rb").read()
    if data[:6] != b"\x93NUMPY":
        sys.exit(f"{path}: not a .npy file")
    header_len = struct.unpack("<H", data[8:10])[0]
    header = eval(data[10:10 + header_len].decode("latin1"), {}, {})  # a Python dict literal
    if header["descr"] not in ("<f8", "<f4") or header["fortran_order"]:
        sys.exit(f"{path}: expected little-endian float32/float64 in C order")
    shape = header["shape"] if len(header["shape"]) == 2 else (1, header["shape"][0])
    fmt, size = ("d", 8) if header["descr"] == "<f8" else ("f", 4)
    body = data[10 + header_len:]
    return [struct.unpack_from(f"<{shape[1]}{fmt}", body, size * shape[1] * r)
            for r in range(shape[0])]


def measure(x, start):
    if start < 8 or start + 21 >= len(x):
        return None
    slope = (x[start - 3] - x[start - 8]) / 5.0
    dev = [x[i] - (x[start - 3] + slope * (i - start + 3)) for i in range(start - 3, start + 15)]
    k = max(range(len(dev)), key=lambda i: abs(dev[i]))
    height = dev[k]
    first = next(i for i in range(len(dev)) if abs(dev[i]) >= 0.1 * abs(height))
    peak = start - 3 + k
    d = [x[peak + i] - x[peak + i + 1] for i in range(0, 5)]
    taus = [-1.0 / math.log(d[i + 1] / d[i]) for i in range(3)
            if d[i] != 0 and 0 < d[i + 1] / d[i] < 1]
    tau = sorted(taus)[len(taus) // 2] if taus else float("nan")
    return height, k - first, tau


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    rows = read_npy(sys.argv[1])
    result = json.load(open(sys.argv[2]))
    print("signal start   height  rise  tau")
    rises, taus = [], []
    for s in result["signals"]:
        for r in s["regions"]:
            m = measure(rows[s["signal_index"]], r["start"])
            if m is None:
                continue
            print(f"{s['signal_index']:6d} {r['start']:5d} {m[0]:8.0f} {m[1]:5d} {m[2]:5.1f}")
            rises.append(m[1])
            if not math.isnan(m[2]):
                taus.append(m[2])
    if rises:
        rises.sort()
        taus.sort()
        print(f"{len(rises)} pulses: rise median {rises[len(rises) // 2]} (range {rises[0]}-"
              f"{rises[-1]}), tau median {taus[len(taus) // 2]:.1f} (range {taus[0]:.1f}-"
              f"{taus[-1]:.1f})")


if __name__ == "__main__":
    main()
