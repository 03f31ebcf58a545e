#!/usr/bin/env python3
"""How consistently a nuclei data set labels small bright spots (micronuclei, debris).

For every image of DATA/images with labels in DATA/labels: threshold at the median plus
FRACTION of the way to the 99.8th percentile, keep 8-connected components of MIN_AREA..MAX_AREA
px, and count those that a labelled object covers (> half their pixels) and those it does not.
A crude detector: it also finds noise, so read the counts as a ratio, not as a census.

Needs Debian's python3-numpy and python3-opencv (not part of seghub's build).

  /usr/bin/python3 scripts/analysis/small_spots.py ../shared/data/nuclei/u2os/train
"""
import argparse
import glob
import os

import cv2
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="folder with images/ and labels/")
    ap.add_argument("--fraction", type=float, default=0.12)
    ap.add_argument("--min-area", type=int, default=6)
    ap.add_argument("--max-area", type=int, default=80)
    a = ap.parse_args()
    labelled = unlabelled = small_labels = labels = 0
    for path in sorted(glob.glob(os.path.join(a.data, "images", "*.png"))):
        image = cv2.imread(path, cv2.IMREAD_UNCHANGED).astype(np.float32)
        truth = cv2.imread(os.path.join(a.data, "labels", os.path.basename(path)),
                           cv2.IMREAD_UNCHANGED)
        ids, areas = np.unique(truth, return_counts=True)
        labels += int((ids > 0).sum())
        small_labels += int(((ids > 0) & (areas < 100)).sum())
        low, high = np.median(image), np.percentile(image, 99.8)
        mask = (image > low + a.fraction * (high - low)).astype(np.uint8)
        n, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for i in range(1, n):
            if a.min_area <= stats[i, cv2.CC_STAT_AREA] <= a.max_area:
                if (truth[comp == i] > 0).mean() > 0.5:
                    labelled += 1
                else:
                    unlabelled += 1
    print(f"labelled objects: {labels}, of them under 100 px: {small_labels}")
    print(f"small bright spots ({a.min_area}-{a.max_area} px): {labelled} labelled, "
          f"{unlabelled} not")


if __name__ == "__main__":
    main()
