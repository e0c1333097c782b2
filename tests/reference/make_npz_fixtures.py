#!/usr/bin/python3
"""Writes nnU-Net v2 style probability files (.npz) and what nibabel sees in them.

Usage: /usr/bin/python3 make_npz_fixtures.py OUTDIR

The array is made the way nnU-Net v2 makes it (see include/cls/nnunet_probabilities.hpp for
the lines of nnU-Net's code this follows): the image is read as NibabelIO reads it,
`get_fdata().transpose((2, 1, 0))[None]`, i.e. (1, z, y, x) with x = the NIfTI i axis; class
probabilities are a float32 softmax over the class axis of that (C, z, y, x) array; the file is
written with nnU-Net's own call, `np.savez_compressed(output_file_truncated + '.npz',
probabilities=...)`. The expectation is independent of that layout knowledge only through
nibabel: each class is turned back with `.transpose((2, 1, 0))` (NibabelIO.write_seg's inverse)
and saved as its own NIfTI with the reference's affine, which the C++ reader must match voxel
for voxel.

Files (all seeded, the same on every run):
  reference.nii            5x6x7 float32 image, oblique affine: the grid and the affine
  case.npz                 3 classes, float32 (nnU-Net v2 today), C order
  case_class{0,1,2}.nii    the expected channels, written by nibabel
  case_f16.npz             the same probabilities as float16 (early nnU-Net v2 exports)
  case_fortran.npz         the same float32 array saved Fortran-ordered
  case_stored.npz          the same float32 array, np.savez (stored, not deflated)
  probabilities.npy        the member's bytes of case.npz as Python's zipfile reads them
  wrong_shape.npz          (2, x, y, z) instead of (2, z, y, x): refused with its shapes
  no_probabilities.npz     members softmax.npy and seg.npy only: refused, naming them
  bomb.npz                 a 'probabilities.npy' member of 8 MiB of zeros (a zip bomb)
  reoriented/              as nnU-Net's NibabelIOWithReorient saves them: reference.nii (an
                           oblique grid stored neither in RAS order nor direction), plans.json
                           naming the reader, case.npz on the RAS-reoriented grid, and the
                           expected case_class{0,1,2}.nii turned back as that reader's
                           write_seg turns segmentations back (nibabel's ornt_transform)
  orientations.json        nibabel's io_orientation of 200 affines (flips, permutations,
                           spacings and rotations up to about 40 degrees, seeded)
"""

import math
import os
import sys
import zipfile

import json

import nibabel as nib
import numpy as np
from nibabel.orientations import axcodes2ornt, io_orientation, ornt_transform

SHAPE = (5, 6, 7)  # (x, y, z) = NIfTI (i, j, k); odd and unequal so swapped axes fail
CLASSES = 3


def rotation(axis, angle):
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def oblique_affine():
    affine = np.eye(4)
    affine[:3, :3] = rotation([1, 2, 3], 0.4) @ np.diag([0.9, 1.1, 2.3])
    affine[:3, 3] = [12.5, -40.0, 7.25]
    return affine


def softmax(logits):
    shifted = logits - logits.max(axis=0, keepdims=True)
    e = np.exp(shifted)
    return (e / e.sum(axis=0, keepdims=True)).astype(np.float32)


def save_npz_as_nnunet(output_file_truncated, probabilities):
    # nnunetv2/inference/export_prediction.py, export_prediction_from_logits:
    np.savez_compressed(output_file_truncated + '.npz', probabilities=probabilities)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_npz_fixtures.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(20261202)
    affine = oblique_affine()

    image = (rng.standard_normal(SHAPE) * 50 + 100).astype(np.float32)
    nib.save(nib.Nifti1Image(image, affine), os.path.join(outdir, "reference.nii"))
    reference = nib.load(os.path.join(outdir, "reference.nii"))

    # As NibabelIO.read_images: (1, z, y, x).
    data = reference.get_fdata().transpose((2, 1, 0))[None].astype(np.float32)
    assert data.shape == (1, SHAPE[2], SHAPE[1], SHAPE[0])
    # Logits depend on the intensity and on position, so every voxel of every class differs.
    z, y, x = np.meshgrid(*[np.arange(n) for n in data.shape[1:]], indexing="ij")
    logits = np.stack([
        np.zeros_like(data[0]),
        (data[0] - 100) / 25 + 0.3 * x - 0.2 * y,
        0.5 * z - 0.4 * x + rng.standard_normal(data.shape[1:]),
    ]).astype(np.float32)
    probabilities = np.ascontiguousarray(softmax(logits))
    assert probabilities.shape == (CLASSES, SHAPE[2], SHAPE[1], SHAPE[0])

    save_npz_as_nnunet(os.path.join(outdir, "case"), probabilities)
    for c in range(CLASSES):
        channel = np.ascontiguousarray(probabilities[c].transpose((2, 1, 0)))
        nib.save(nib.Nifti1Image(channel, affine, dtype=np.float32),
                 os.path.join(outdir, f"case_class{c}.nii"))
    save_npz_as_nnunet(os.path.join(outdir, "case_f16"), probabilities.astype(np.float16))
    save_npz_as_nnunet(os.path.join(outdir, "case_fortran"), np.asfortranarray(probabilities))
    np.savez(os.path.join(outdir, "case_stored.npz"), probabilities=probabilities)
    with zipfile.ZipFile(os.path.join(outdir, "case.npz")) as archive:
        member = archive.read("probabilities.npy")
    with open(os.path.join(outdir, "probabilities.npy"), "wb") as f:
        f.write(member)
    assert np.array_equal(np.load(os.path.join(outdir, "probabilities.npy")), probabilities)
    with np.load(os.path.join(outdir, "case_fortran.npz")) as fortran:
        assert fortran["probabilities"].flags.f_contiguous

    # The classic mistake: nibabel's (x, y, z) order saved without nnU-Net's transpose.
    wrong = probabilities[:2].transpose((0, 3, 2, 1)).copy()
    save_npz_as_nnunet(os.path.join(outdir, "wrong_shape"), wrong)
    np.savez_compressed(os.path.join(outdir, "no_probabilities.npz"), softmax=probabilities,
                        seg=probabilities.argmax(0).astype(np.uint8))
    with zipfile.ZipFile(os.path.join(outdir, "bomb.npz"), "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("probabilities.npy", bytes(8 << 20))
    write_reoriented(os.path.join(outdir, "reoriented"), rng)
    write_orientations(os.path.join(outdir, "orientations.json"), rng)
    print(f"make_npz_fixtures: wrote the fixtures to {outdir}")


def flipped_permuted_affine():
    """The oblique affine with its voxel axes permuted and two of them flipped: i runs along
    the old k backwards, j along the old i, k along the old j backwards."""
    turn = np.zeros((4, 4))
    turn[3, 3] = 1
    turn[2, 0], turn[0, 1], turn[1, 2] = -1, 1, -1
    return oblique_affine() @ turn


def write_reoriented(outdir, rng):
    """nnunetv2/imageio/nibabel_reader_writer.py, NibabelIOWithReorient: read_images reorients
    with as_reoriented(io_orientation(affine)) before the transpose; write_seg turns back with
    ornt_transform(axcodes2ornt('RAS'), io_orientation(original_affine))."""
    os.makedirs(outdir, exist_ok=True)
    affine = flipped_permuted_affine()
    image = (rng.standard_normal(SHAPE) * 50 + 100).astype(np.float32)
    nib.save(nib.Nifti1Image(image, affine), os.path.join(outdir, "reference.nii"))
    original = nib.load(os.path.join(outdir, "reference.nii"))
    reoriented = original.as_reoriented(io_orientation(original.affine))
    assert not np.allclose(reoriented.affine, original.affine)  # the case the test is about
    data = reoriented.get_fdata().transpose((2, 1, 0))[None].astype(np.float32)
    z, y, x = np.meshgrid(*[np.arange(n) for n in data.shape[1:]], indexing="ij")
    logits = np.stack([np.zeros_like(data[0]), (data[0] - 100) / 25 + 0.3 * x - 0.2 * y,
                       0.5 * z - 0.4 * x + rng.standard_normal(data.shape[1:])]).astype(np.float32)
    probabilities = np.ascontiguousarray(softmax(logits))
    save_npz_as_nnunet(os.path.join(outdir, "case"), probabilities)
    with open(os.path.join(outdir, "plans.json"), "w") as f:
        json.dump({"dataset_name": "Dataset001_Fixture", "plans_name": "nnUNetPlans",
                   "image_reader_writer": "NibabelIOWithReorient"}, f, indent=4)
    from_canonical = ornt_transform(axcodes2ornt("RAS"), io_orientation(original.affine))
    for c in range(CLASSES):
        channel = np.ascontiguousarray(probabilities[c].transpose((2, 1, 0)))
        back = nib.Nifti1Image(channel, reoriented.affine).as_reoriented(from_canonical)
        assert np.allclose(back.affine, original.affine) and back.shape == SHAPE
        nib.save(nib.Nifti1Image(np.asarray(back.dataobj, dtype=np.float32), original.affine),
                 os.path.join(outdir, f"case_class{c}.nii"))


def write_orientations(path, rng):
    cases = []
    for _ in range(200):
        turn = np.eye(3)[rng.permutation(3)] * rng.choice([-1.0, 1.0], 3)
        zooms = np.diag(rng.uniform(0.4, 5.0, 3))
        angle = rng.uniform(0, 0.7)
        rotated = rotation(rng.standard_normal(3), angle) @ turn @ zooms
        affine = np.eye(4)
        affine[:3, :3] = rotated
        affine[:3, 3] = rng.uniform(-100, 100, 3)
        ornt = io_orientation(affine)
        cases.append({"affine": affine.tolist(),
                      "ornt": [[int(a), int(f)] for a, f in ornt]})
    with open(path, "w") as f:
        json.dump(cases, f)


if __name__ == "__main__":
    main()
