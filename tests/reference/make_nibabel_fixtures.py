#!/usr/bin/python3
"""Writes small NIfTI files with nibabel and, in expected.json, what nibabel reads from them.

Usage: /usr/bin/python3 make_nibabel_fixtures.py OUTDIR

nibabel is the reference: the C++ reader must agree with it on shape, datatype, affine
(nibabel's own choice among sform, qform and the pixdim fallback), zooms and the scaled
values (get_fdata). Sizes are odd and unequal (7x5x3) so that swapped axes cannot pass.
Statistics and samples cover the first volume only, the part the C++ reader keeps.
Everything is seeded, so the files are the same on every run.
"""

import gzip
import json
import math
import os
import sys

import nibabel as nib
import numpy as np

SHAPE = (7, 5, 3)
SAMPLES = [(0, 0, 0), (6, 4, 2), (1, 2, 0), (3, 1, 2), (5, 0, 1)]
DTYPES = ["uint8", "int8", "int16", "uint16", "int32", "float32", "float64"]
CLASSES = {1: nib.Nifti1Image, 2: nib.Nifti2Image}
HEADERS = {1: nib.Nifti1Header, 2: nib.Nifti2Header}


def rotation(axis, angle):
    """Rodrigues' formula: a rotation of `angle` radians about `axis`."""
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def affine_from(rot, zooms, translation):
    affine = np.eye(4)
    affine[:3, :3] = rot @ np.diag(zooms)
    affine[:3, 3] = translation
    return affine


PLAIN = affine_from(np.eye(3), [1.5, 2.0, 2.5], [-10.0, 20.0, 5.5])
OBLIQUE = affine_from(rotation([1, 2, 3], 0.4), [0.9, 1.1, 2.3], [12.5, -40.0, 7.25])
FLIPPED = affine_from(np.eye(3), [-1.5, 2.0, -2.5], [30.0, -20.0, 15.0])
# A reflection (negative determinant) with a rotation: the qform must carry qfac -1.
REFLECTED = affine_from(rotation([0, 1, 1], -0.7), [-1.2, 0.8, 1.6], [3.0, 4.0, -5.0])


def random_data(rng, dtype, shape=SHAPE):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return (rng.standard_normal(shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def make_image(version, data, affine, endianness=None):
    header = HEADERS[version](endianness=endianness) if endianness else None
    return CLASSES[version](data, affine, header=header, dtype=data.dtype)


def save(img, outdir, name):
    """Saves .nii directly; .nii.gz by gzipping the .nii bytes (mtime 0: reproducible)."""
    path = os.path.join(outdir, name)
    if name.endswith(".gz"):
        raw = img.to_bytes()
        with open(path, "wb") as f:
            f.write(gzip.compress(raw, mtime=0))
    else:
        nib.save(img, path)
    return path


def rewrite_header(path, edit):
    """Lets `edit` change fields of the header as stored, then writes it back in place.

    The header is read from the file itself: the one nib.load() returns has vox_offset and
    the scale factors reset, and writing that back would move the data.
    """
    header_class = type(nib.load(path).header)
    with open(path, "r+b") as f:
        header = header_class.from_fileobj(f)
        edit(header)
        f.seek(0)
        f.write(header.binaryblock)


def expectation(path, name):
    img = nib.load(path)
    header = img.header
    data = np.asarray(img.get_fdata(), dtype=np.float64)
    shape = data.shape
    first = data.reshape(shape[:3] + (-1,), order="F")[..., 0] if data.ndim > 3 else data
    return {
        "name": name,
        "version": 2 if isinstance(header, nib.Nifti2Header) else 1,
        "big_endian": header.endianness == ">",
        "shape": [int(s) for s in shape],
        "datatype": str(header.get_data_dtype().newbyteorder("=")),
        "affine": img.affine.tolist(),
        "zooms": [float(z) for z in header.get_zooms()],
        "volumes": int(np.prod(shape[3:])) if data.ndim > 3 else 1,
        "min": float(first.min()),
        "max": float(first.max()),
        "mean": float(first.mean()),
        "sum": float(first.sum()),
        "samples": [{"index": list(i), "value": float(first[i])} for i in SAMPLES],
    }


def fixtures(rng):
    """Yields (name, image, header edit or None)."""
    for version in (1, 2):
        for dtype in DTYPES:
            data = random_data(rng, dtype)
            for ext in ("nii", "nii.gz"):
                yield f"n{version}_{dtype}.{ext}", make_image(version, data, PLAIN), None

        for dtype in ("int16", "float32"):
            data = random_data(rng, dtype)
            img = make_image(version, data, OBLIQUE, endianness=">")
            yield f"n{version}_big_endian_{dtype}.nii", img, None

        def scale(header):
            header.set_slope_inter(0.5, -3.0)

        data = random_data(rng, "int16")
        yield f"n{version}_scaled_int16.nii", make_image(version, data, PLAIN), scale

        data = random_data(rng, "float32")
        yield f"n{version}_oblique.nii", make_image(version, data, OBLIQUE), None
        yield f"n{version}_flipped.nii", make_image(version, data, FLIPPED), None

        img = make_image(version, data, REFLECTED)
        img.set_sform(None, code=0)
        img.set_qform(REFLECTED, code=1)
        yield f"n{version}_qform_only.nii", img, None

        img = make_image(version, data, PLAIN)
        img.set_sform(None, code=0)
        img.set_qform(None, code=0)
        yield f"n{version}_no_transform.nii", img, None

        data4 = random_data(rng, "float32", SHAPE + (4,))
        yield f"n{version}_4d.nii.gz", make_image(version, data4, OBLIQUE), None


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_nibabel_fixtures.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(20240611)
    expected = []
    for name, img, edit in fixtures(rng):
        path = save(img, outdir, name)
        if edit:
            rewrite_header(path, edit)
        expected.append(expectation(path, name))
    with open(os.path.join(outdir, "expected.json"), "w") as f:
        json.dump({"nibabel": nib.__version__, "files": expected}, f, indent=1)
    print(f"wrote {len(expected)} files and expected.json to {outdir}")


if __name__ == "__main__":
    main()
