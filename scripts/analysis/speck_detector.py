#!/usr/bin/env python3
"""Would a brightness rule find the small labelled specks a nuclei model misses?

For every image of IMAGES with labels in LABELS and a prediction in PRED (`seghub segment
--format labels` output, <stem>.labels.png): map the image to [0,1] by its 1st..99.8th
percentiles, threshold at the median plus F of the way to 1, and keep the 8-connected
components of MIN_AREA..MAX_AREA px that come no closer than 2 px to a predicted object.
A component is a hit when it matches (IoU >= 0.5) a labelled object that no prediction matches,
else a false hit. `--extent half` grows each component to the connected region above half its
peak height first.

Needs Debian's python3-numpy and python3-opencv (not part of seghub's build).

  seghub segment TRAIN/images --model nuclei --format labels --out /tmp/pred
  /usr/bin/python3 scripts/analysis/speck_detector.py TRAIN/images TRAIN/labels /tmp/pred
"""
import argparse
import glob
import os

import cv2
import numpy as np


def matched_ids(truth, pred):
    """Labelled ids that the prediction they overlap most matches at IoU >= 0.5."""
    out = set()
    for i in np.unique(truth)[1:]:
        mask = truth == i
        hit = pred[mask]
        hit = hit[hit > 0]
        if len(hit) == 0:
            continue
        other = pred == np.bincount(hit).argmax()
        if (mask & other).sum() / (mask | other).sum() >= 0.5:
            out.add(i)
    return out


def half_height_region(unit, comp, background, near):
    """The connected region above half the component's peak height, or the component itself."""
    x, y, w, h = cv2.boundingRect(comp.astype(np.uint8))
    box = (slice(max(0, y - 4), y + h + 4), slice(max(0, x - 4), x + w + 4))
    sub = unit[box]
    peak = sub[comp[box]].max()
    _, parts = cv2.connectedComponents((sub > background + 0.5 * (peak - background)).astype(np.uint8))
    ids = parts[comp[box]]
    ids = ids[ids > 0]
    if len(ids) == 0:
        return comp
    region = np.zeros_like(comp)
    region[box] = parts == np.bincount(ids).argmax()
    return comp if (region & near).any() else region


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images")
    ap.add_argument("labels")
    ap.add_argument("pred")
    ap.add_argument("--fractions", default="0.1,0.15,0.2,0.3,0.4")
    ap.add_argument("--min-area", type=int, default=10)
    ap.add_argument("--max-area", type=int, default=150)
    ap.add_argument("--extent", choices=["level", "half"], default="level")
    a = ap.parse_args()
    fractions = [float(f) for f in a.fractions.split(",")]
    hits = {f: [0, 0] for f in fractions}
    labelled = unmatched_total = 0
    for path in sorted(glob.glob(os.path.join(a.images, "*.png"))):
        stem = os.path.basename(path)[:-4]
        image = cv2.imread(path, cv2.IMREAD_UNCHANGED).astype(np.float64)
        truth = cv2.imread(os.path.join(a.labels, stem + ".png"), cv2.IMREAD_UNCHANGED).astype(np.int32)
        pred = cv2.imread(os.path.join(a.pred, stem + ".labels.png"), cv2.IMREAD_UNCHANGED).astype(np.int32)
        low, high = np.percentile(image, [1, 99.8])
        unit = np.clip((image - low) / (high - low), 0, 1)
        background = np.median(unit)
        unmatched = set(np.unique(truth)[1:]) - matched_ids(truth, pred)
        labelled += len(np.unique(truth)) - 1
        unmatched_total += len(unmatched)
        near = cv2.dilate((pred > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        for f in fractions:
            mask = (unit > background + f * (1 - background)).astype(np.uint8)
            n, comps, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
            for k in range(1, n):
                if not a.min_area <= stats[k, cv2.CC_STAT_AREA] <= a.max_area:
                    continue
                comp = comps == k
                if (comp & near).any():
                    continue
                if a.extent == "half":
                    comp = half_height_region(unit, comp, background, near)
                ids = truth[comp]
                ids = ids[ids > 0]
                hit = False
                if len(ids):
                    g = np.bincount(ids).argmax()
                    other = truth == g
                    hit = g in unmatched and (other & comp).sum() / (other | comp).sum() >= 0.5
                hits[f][0 if hit else 1] += 1
    print(f"labelled objects {labelled}, unmatched by the prediction {unmatched_total}")
    for f in fractions:
        print(f"F {f:.2f}: hits {hits[f][0]}, false hits {hits[f][1]}")


if __name__ == "__main__":
    main()
