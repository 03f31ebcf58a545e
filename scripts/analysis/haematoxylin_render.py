#!/usr/bin/env python3
"""Writes each colour image of IN as the grey image it would be if stained with haematoxylin only.

Colour deconvolution (Ruifrok & Johnston 2001, H&E-DAB vectors): optical density per channel
against the glass (each channel's 99th percentile), unmixed; the haematoxylin share is rendered
back to transmitted light and averaged over the channels. `seghub eval OUT LABELS` then scores a
model on these images as if the pipeline had done the conversion.

Needs Debian's python3-numpy and python3-opencv (not part of seghub's build).

  /usr/bin/python3 scripts/analysis/haematoxylin_render.py COLOUR_IMAGES OUT
"""
import argparse
import glob
import os

import cv2
import numpy as np

STAINS = np.array([[0.650, 0.704, 0.286],   # haematoxylin
                   [0.072, 0.990, 0.105],   # eosin
                   [0.268, 0.570, 0.776]])  # DAB
STAINS /= np.linalg.norm(STAINS, axis=1, keepdims=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images")
    ap.add_argument("out")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    unmix = np.linalg.inv(STAINS)
    for path in sorted(glob.glob(os.path.join(a.images, "*.png"))):
        rgb = cv2.imread(path, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float64)
        glass = np.maximum(np.percentile(rgb.reshape(-1, 3), 99, axis=0), 1)
        density = -np.log(np.clip(rgb / glass, 1 / glass, 1))
        h = (density.reshape(-1, 3) @ unmix)[:, 0].reshape(rgb.shape[:2]).clip(0)
        grey = np.exp(-h[..., None] * STAINS[0][None, None, :]).mean(-1)
        cv2.imwrite(os.path.join(a.out, os.path.basename(path)), (grey * 255).astype(np.uint8))


if __name__ == "__main__":
    main()
