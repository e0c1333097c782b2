"""An independent writer of case scores (docs/case_score.md), from numpy and the format's
documentation alone, never from the C++ code: tests/cli/test_scores.py compares its bytes with
what `cls score` writes, and tests/fuzzing/make_corpus.py writes the fuzzer's seeds with it.

    score = case_score_bytes(name, probabilities, label, probabilities_sha256, label_sha256,
                             tool_version)            # probabilities, label: numpy volumes

With a region of interest and a profile (format_version 2):

    p = restrict(probabilities, region)               # region: the image or a mask, or None
    score = case_score_bytes(name, p, label, ..., region_of_interest="nonzero",
                             profile=profile_of(p, region, image, zooms))
"""
import hashlib
import json
import struct

import numpy as np
import scipy.ndimage

MAGIC = b"CLSSCORE"
ENCODING = "sorted-float32-delta-varint"
SECTIONS = ("lesion_probabilities", "lesion_maxima", "background_probabilities")


def varint(value):
    """Unsigned LEB128, shortest form."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_sorted(values):
    """Ascending float32 values in [0, 1] as runs: (gap to the previous distinct value's bits,
    minus one; the first value's bits as they are) << 1 | repeats, then count - 2 if it repeats."""
    values = np.sort(np.asarray(values, dtype=np.float32) + np.float32(0))  # -0 becomes +0
    bits = values.view(np.uint32).astype(np.int64)
    distinct, counts = np.unique(bits, return_counts=True)
    out = bytearray()
    previous = None
    for b, c in zip(distinct.tolist(), counts.tolist()):
        gap = b if previous is None else b - previous - 1
        out += varint(gap << 1 | (c > 1))
        if c > 1:
            out += varint(c - 2)
        previous = b
    return bytes(out)


def sections_of(probabilities, label):
    """The three sorted sections of a case: lesion voxels' probabilities, each 26-connected
    lesion's largest probability, background voxels' probabilities."""
    p = np.asarray(probabilities, dtype=np.float32)
    lesion = np.asarray(label) != 0
    components, count = scipy.ndimage.label(lesion, structure=np.ones((3, 3, 3)))
    maxima = scipy.ndimage.maximum(p, components, index=np.arange(1, count + 1)) if count else []
    return [np.sort(p[lesion]), np.sort(np.asarray(maxima, dtype=np.float32)), np.sort(p[~lesion])]


PERCENTILES = (1, 5, 25, 50, 75, 95, 99)


def inside(region):
    """A voxel is inside a region when its value there is non-zero and not NaN."""
    region = np.asarray(region, dtype=np.float32)
    return (region != 0) & ~np.isnan(region)


def restrict(probabilities, region):
    """The map multiplied by the region: 0 outside it."""
    p = np.asarray(probabilities, dtype=np.float32)
    return p if region is None else np.where(inside(region), p, np.float32(0))


def profile_of(restricted, region, image, zooms):
    """A case's profile: voxel volume (the product of its spacing, in float64 from float32
    pixdims), region voxels, voxels at p >= 0.5 and at 0.1 <= p < 0.9 in the region, and the
    image's 'lower' percentiles over the region's non-zero image voxels."""
    p = np.asarray(restricted, dtype=np.float32)
    where = np.ones(p.shape, bool) if region is None else inside(region)
    q = p[where]
    percentiles = None
    if image is not None:
        values = np.asarray(image, dtype=np.float32)[where & inside(image)]
        if values.size:
            percentiles = [float(np.sort(values)[pc * (values.size - 1) // 100])
                           for pc in PERCENTILES]
        else:
            percentiles = [0.0] * len(PERCENTILES)
    return {"voxel_mm3": float(zooms[0]) * float(zooms[1]) * float(zooms[2]),
            "region_voxels": int(where.sum()),
            "predicted_voxels": int((q >= np.float32(0.5)).sum()),
            "uncertain_voxels": int(((q >= np.float32(0.1)) & (q < np.float32(0.9))).sum()),
            "intensity_percentiles": percentiles}


def header_json(fields):
    """Compact JSON with sorted keys, as cls writes it."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def assemble(header_fields, sections, counts):
    """A score file from header fields and encoded sections (sizes and hashes filled in)."""
    fields = dict(header_fields)
    fields["sections"] = [
        {"name": name, "encoding": ENCODING, "count": int(count), "bytes": len(data),
         "sha256": hashlib.sha256(data).hexdigest()}
        for name, data, count in zip(SECTIONS, sections, counts)]
    text = header_json(fields).encode()
    return MAGIC + struct.pack("<I", len(text)) + text + b"".join(sections)


def case_score_bytes(name, probabilities, label, probabilities_sha256, label_sha256,
                     tool_version, lesion_channels=None, lesion_labels="binary",
                     region_of_interest="none", profile=None):
    sections = sections_of(probabilities, label)
    header = {
        "format": "cls-case-score",
        "format_version": 2,
        "tool_version": tool_version,
        "name": name,
        "probabilities_sha256": probabilities_sha256,
        "label_sha256": label_sha256,
        "lesion_channels": lesion_channels,
        "lesion_labels": lesion_labels,
        "region_of_interest": region_of_interest,
        "profile": profile,
        "voxels": int(np.asarray(probabilities).size),
    }
    return assemble(header, [encode_sorted(s) for s in sections], [len(s) for s in sections])
