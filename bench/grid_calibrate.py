"""The peer for `cls calibrate` in bench/cli_bench.py: a numpy script that finds the threshold
the way MAPIE-style tools do, by trying a grid of 100 thresholds on every case.

Usage: /usr/bin/python3 bench/grid_calibrate.py PROBS_DIR LABELS_DIR EPSILON ALPHA

For each case (paired by file name) it loads the map and the label with nibabel and, for each
threshold t on the grid, counts the lesion voxels with p < t over the whole volume (one pass
per threshold, as `(label & (p < t)).sum()` is written); the case's critical threshold is the
largest grid point with FNR <= epsilon, and tau the k-th smallest, k = floor((n + 1) alpha).
It hashes nothing: it binds no certificate to its files. Prints tau.
"""
import math
import os
import sys

import nibabel as nib
import numpy as np


def main(probs_dir, labels_dir, epsilon, alpha):
    grid = np.linspace(0.0, 1.0, 100)
    names = sorted(os.listdir(probs_dir))
    critical = []
    for name in names:
        p = np.asarray(nib.load(os.path.join(probs_dir, name)).dataobj, dtype=np.float32)
        lesion = np.asarray(nib.load(os.path.join(labels_dir, name)).dataobj) != 0
        lesion_voxels = lesion.sum()
        if lesion_voxels == 0:
            critical.append(math.inf)
            continue
        best = 0.0
        for t in grid:
            fnr = np.logical_and(lesion, p < t).sum() / lesion_voxels
            if fnr <= epsilon:
                best = t
        critical.append(best)
    k = math.floor((len(critical) + 1) * alpha)
    print(sorted(critical)[k - 1])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
