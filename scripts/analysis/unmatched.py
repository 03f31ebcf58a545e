#!/usr/bin/env python3
"""Lists the true objects that no predicted object matches at IoU >= 0.5, one line each.

PRED holds `seghub segment --format labels` output (<stem>.labels.png); LABELS and IMAGES hold
the ground-truth labels and the images (<stem>.png). For each unmatched object: its area, the
best IoU any prediction reaches, the share of it that predictions cover, its mean intensity
against the image's background median, and its centre.

Needs Debian's python3-numpy and python3-opencv (not part of seghub's build).

  seghub segment VAL/images --model nuclei --format labels --min-area 0 --out /tmp/pred
  /usr/bin/python3 scripts/analysis/unmatched.py /tmp/pred VAL/labels VAL/images
"""
import argparse
import glob
import os

import cv2
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pred")
    ap.add_argument("labels")
    ap.add_argument("images")
    a = ap.parse_args()
    total = 0
    for path in sorted(glob.glob(os.path.join(a.labels, "*.png"))):
        stem = os.path.basename(path)[:-4]
        truth = cv2.imread(path, cv2.IMREAD_UNCHANGED).astype(np.int64)
        pred = cv2.imread(os.path.join(a.pred, stem + ".labels.png"),
                          cv2.IMREAD_UNCHANGED).astype(np.int64)
        image = cv2.imread(os.path.join(a.images, stem + ".png"), cv2.IMREAD_UNCHANGED)
        n_pred = int(pred.max()) + 1
        inter = np.bincount((truth * n_pred + pred).ravel(),
                            minlength=(int(truth.max()) + 1) * n_pred).reshape(-1, n_pred)
        t_area, p_area = inter.sum(1), inter.sum(0)
        iou = inter / np.maximum(t_area[:, None] + p_area[None, :] - inter, 1)
        background = float(np.median(image[truth == 0]))
        print(f"{stem}: background {background:.0f}")
        for t in range(1, inter.shape[0]):
            if t_area[t] == 0 or iou[t, 1:].max(initial=0) >= 0.5:
                continue
            total += 1
            ys, xs = np.nonzero(truth == t)
            covered = inter[t, 1:].sum() / t_area[t]
            print(f"  object {t}: area {t_area[t]} best IoU {iou[t, 1:].max(initial=0):.2f} "
                  f"covered {covered:.2f} mean {image[ys, xs].mean():.0f} "
                  f"at ({xs.mean():.0f}, {ys.mean():.0f})")
    print(f"unmatched true objects: {total}")


if __name__ == "__main__":
    main()
