#!/usr/bin/env python3
"""Plots `seghub pd analyze` JSON as SVG: raw, filtered and probability per signal, with the
predicted PD regions shaded. Standard library only (the JSON already carries min/max-downsampled
series, so nothing needs numpy).

Usage: seghub pd analyze FILE --compact > out.json && scripts/pd_plot.py out.json plot.svg
"""
import json
import sys

W, ROW_H, PAD = 1000, 150, 40
COLOURS = {"raw": "#888888", "filtered": "#1f77b4", "probability": "#d62728"}


def polyline(series, n, lo, hi, top, height, colour):
    if not series["index"]:
        return ""
    span = (hi - lo) or 1.0
    pts = " ".join(
        f"{PAD + (W - 2 * PAD) * i / max(1, n - 1):.1f},{top + height * (1 - (v - lo) / span):.1f}"
        for i, v in zip(series["index"], series["value"]))
    return f'<polyline fill="none" stroke="{colour}" stroke-width="0.8" points="{pts}"/>'


def plot_signal(s, top):
    n = s["num_samples"]
    out = []
    x = lambda i: PAD + (W - 2 * PAD) * i / max(1, n - 1)
    for r in s["regions"]:
        out.append(f'<rect x="{x(r["start"]):.1f}" y="{top}" width="{max(1.0, x(r["end"]) - x(r["start"])):.1f}" '
                   f'height="{ROW_H - 20}" fill="#ffdd57" opacity="0.6"/>')
    raw = s["series"]["raw"]["value"] or [0.0]
    m = max(abs(v) for v in raw) or 1.0
    h = (ROW_H - 20) / 3
    out.append(polyline(s["series"]["raw"], n, -m, m, top, h, COLOURS["raw"]))
    out.append(polyline(s["series"]["filtered"], n, -1, 1, top + h, h, COLOURS["filtered"]))
    out.append(polyline(s["series"]["probability"], n, 0, 1, top + 2 * h, h, COLOURS["probability"]))
    out.append(f'<text x="{PAD}" y="{top - 4}" font-size="11">signal {s["signal_index"]}: '
               f'{len(s["regions"])} region(s); grey raw, blue filtered, red probability, '
               f'yellow predicted regions</text>')
    return "\n".join(out)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        data = json.load(f)
    signals = data["signals"] if isinstance(data, dict) else data[0]["signals"]
    height = PAD + len(signals) * (ROW_H + 10)
    body = [plot_signal(s, PAD + k * (ROW_H + 10)) for k, s in enumerate(signals)]
    with open(sys.argv[2], "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
                f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>\n')
        f.write("\n".join(body))
        f.write("\n</svg>\n")


if __name__ == "__main__":
    main()
