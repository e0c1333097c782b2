#!/usr/bin/python3
"""Compares a volume converted from DICOM with the NIfTI the series was made from, in world
space: dcm2niix may reorder or flip the voxel axes, so each converted voxel is mapped through
the two affines to its source voxel. Independent of the app: nibabel and numpy only.

Usage: compare_dicom_volume.py CANDIDATE.nii SOURCE.nii [AFFINE_JSON]
  AFFINE_JSON, when given, is the candidate's voxel-to-world affine (a 4x4 list) at full
  precision, used instead of the one in CANDIDATE.nii's header (float32).
Prints JSON: dims, the voxel mapping, affine_error_mm (largest entry of
candidate affine - source affine @ mapping), voxels compared, mismatched and max_abs_diff.
"""
import json
import sys

import nibabel as nib
import numpy as np


def compare(candidate, source, candidate_affine=None):
    a_cand = np.asarray(candidate_affine if candidate_affine is not None else candidate.affine,
                        dtype=np.float64)
    a_src = source.affine.astype(np.float64)
    mapping = np.linalg.inv(a_src) @ a_cand  # candidate voxel -> source voxel
    rounded = np.round(mapping)
    report = {
        "dims": list(candidate.shape[:3]),
        "source_dims": list(source.shape[:3]),
        "mapping": rounded.tolist(),
        "mapping_error_voxels": float(np.abs(mapping - rounded).max()),
        "affine_error_mm": float(np.abs(a_cand - a_src @ rounded).max()),
    }
    linear = rounded[:3, :3]
    is_signed_permutation = (np.abs(linear).sum(axis=0) == 1).all() and \
        (np.abs(linear).sum(axis=1) == 1).all()
    report["signed_permutation"] = bool(is_signed_permutation)
    if not is_signed_permutation or report["mapping_error_voxels"] > 1e-3:
        return report
    cand = np.asanyarray(candidate.dataobj, dtype=np.float64)
    if cand.ndim > 3:
        cand = cand[..., 0]
    cand = cand.astype(np.float32)
    src = np.asanyarray(source.dataobj).astype(np.float32)
    index = np.indices(cand.shape).reshape(3, -1)
    mapped = (linear @ index + rounded[:3, 3:4]).astype(np.int64)
    inside = np.all((mapped >= 0) & (mapped < np.array(src.shape)[:, None]), axis=0)
    report["outside_source"] = int((~inside).sum())
    values = cand.reshape(-1, order="C")[np.ravel_multi_index(index, cand.shape)]
    expected = src[tuple(mapped[:, inside])]
    diff = np.abs(values[inside].astype(np.float64) - expected.astype(np.float64))
    report["voxels"] = int(inside.sum())
    report["mismatched"] = int((diff > 0).sum())
    report["max_abs_diff"] = float(diff.max()) if diff.size else 0.0
    # Every source voxel reached exactly once.
    report["covers_source"] = bool(report["voxels"] == src.size and
                                   len(np.unique(np.ravel_multi_index(mapped[:, inside],
                                                                      src.shape))) == src.size)
    return report


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    affine = json.loads(sys.argv[3]) if len(sys.argv) == 4 else None
    print(json.dumps(compare(nib.load(sys.argv[1]), nib.load(sys.argv[2]), affine)))
