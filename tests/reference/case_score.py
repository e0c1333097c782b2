"""An independent writer of case scores (docs/case_score.md), from numpy and the format's
documentation alone, never from the C++ code: tests/cli/test_scores.py compares its bytes with
what `cls score` writes, and tests/fuzzing/make_corpus.py writes the fuzzer's seeds with it.

    score = case_score_bytes(name, probabilities, label, probabilities_sha256, label_sha256,
                             tool_version)            # probabilities, label: numpy volumes
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
                     tool_version, lesion_channels=None, lesion_labels="binary"):
    sections = sections_of(probabilities, label)
    header = {
        "format": "cls-case-score",
        "format_version": 1,
        "tool_version": tool_version,
        "name": name,
        "probabilities_sha256": probabilities_sha256,
        "label_sha256": label_sha256,
        "lesion_channels": lesion_channels,
        "lesion_labels": lesion_labels,
        "voxels": int(np.asarray(probabilities).size),
    }
    return assemble(header, [encode_sorted(s) for s in sections], [len(s) for s in sections])
