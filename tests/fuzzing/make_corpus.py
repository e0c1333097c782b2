#!/usr/bin/python3
"""Writes the fuzzers' seed corpus into tests/fuzzing/corpus/<target>/ (committed; rerun it
with /usr/bin/python3, which has numpy and nibabel, after changing it).

Valid NIfTI-1 and NIfTI-2 files of every supported datatype and both byte orders, written by
nibabel, slightly damaged copies (truncated, bad magic, huge dims, NaN pixdim, qform/sform
corners), their .nii.gz versions and hostile gzip streams, and valid and damaged calibration
certificates, model manifests, small ONNX models written by the onnx package, .npy arrays
and .npz archives written by numpy as nnU-Net writes its probabilities (every float width,
both byte orders, Fortran order, format 2.0 and 3.0, truncated, bad headers, a zip bomb), and
case scores written by the independent reference writer tests/reference/case_score.py (valid,
quantised, empty, multi-channel; truncated, another version, a damaged section, an over-long
number, a voxel count past the fuzzer's limit). Small on purpose: libFuzzer grows the corpus
itself (scripts/fuzz.sh).
"""
import gzip
import io
import json
import pathlib
import shutil
import struct
import sys
import zipfile

import nibabel as nib
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
import case_score  # noqa: E402  (the reference writer of the format)


def nifti_bytes(data, cls=nib.Nifti1Image, endian="<", affine=None, qform_only=False):
    affine = np.diag([2.0, 1.5, 3.0, 1.0]) if affine is None else affine
    image = cls(data, affine)
    if endian == ">":
        image = cls(data, affine, header=image.header.as_byteswapped(">"))
    if qform_only:
        image.set_sform(None, code=0)
    buffer = io.BytesIO()
    file_map = image.make_file_map({"image": buffer, "header": buffer})
    image.to_file_map(file_map)
    return buffer.getvalue()


def patched(data, offset, fmt, *values):
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def write(target, name, data):
    folder = ROOT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def nifti_seeds():
    rng = np.random.default_rng(7)
    seeds = {
        "u8_le.nii": nifti_bytes(rng.integers(0, 255, (4, 3, 2), dtype=np.uint8)),
        "i16_be.nii": nifti_bytes(rng.integers(-99, 99, (3, 3, 2)).astype(np.int16), endian=">"),
        "f32_4d_qform.nii": nifti_bytes(rng.random((3, 2, 2, 2), dtype=np.float32),
                                        qform_only=True),
        "f64_nifti2.nii": nifti_bytes(rng.random((2, 2, 2)), cls=nib.Nifti2Image),
        "i8_2d.nii": nifti_bytes(np.arange(-6, 6, dtype=np.int8).reshape(4, 3)),
        "u16.nii": nifti_bytes(np.arange(8, dtype=np.uint16).reshape(2, 2, 2)),
    }
    base = seeds["u8_le.nii"]
    seeds["truncated.nii"] = base[:-5]
    seeds["bad_magic.nii"] = base[:344] + b"ni1\0" + base[348:]
    seeds["huge_dims.nii"] = patched(base, 42, "<hhh", 32767, 32767, 32767)
    seeds["nan_pixdim.nii"] = patched(base, 80, "<f", float("nan"))
    seeds["slope_inter.nii"] = patched(patched(base, 112, "<f", 2.5), 116, "<f", -1.0)
    seeds["no_xform.nii"] = patched(patched(base, 252, "<h", 0), 254, "<h", 0)
    return seeds


def nifti_gz_seeds(nifti):
    # The target's first byte picks the mode: 1 = gzip the rest here, 0 = the rest as it is.
    seeds = {}
    for name in ("u8_le.nii", "i16_be.nii", "f64_nifti2.nii", "huge_dims.nii"):
        seeds[name + ".gz"] = b"\0" + gzip.compress(nifti[name], mtime=0)
    for name in ("u8_le.nii", "i16_be.nii"):
        seeds["to_gzip_" + name] = b"\1" + nifti[name]
    two_members = gzip.compress(nifti["u8_le.nii"][:200], mtime=0) + gzip.compress(
        nifti["u8_le.nii"][200:], mtime=0)
    seeds["two_members.gz"] = b"\0" + two_members
    seeds["trailing_zeros.gz"] = seeds["u8_le.nii.gz"] + bytes(16)
    seeds["truncated.gz"] = seeds["u8_le.nii.gz"][:-9]
    # A header declaring little data followed by a long run of zeros: a gzip bomb.
    bomb = nifti["u8_le.nii"] + bytes(4 << 20)
    seeds["bomb.gz"] = b"\0" + gzip.compress(bomb, compresslevel=9, mtime=0)
    return seeds


def certificate_seeds():
    case = {"name": "case01", "lesion_voxels": 12, "critical_threshold": 0.42,
            "excluded": False, "probabilities_sha256": "ab" * 32, "label_sha256": "cd" * 32}
    cls = {"format": "cls-calibration-certificate", "format_version": 1,
           "tool_version": "0.1.0", "method": "cls", "epsilon": 0.1, "alpha": 0.05, "n": 2,
           "k": 1, "threshold": 0.42, "empty_mask_policy": "satisfied", "empty_masks": 0,
           "cases": [case, dict(case, name="case02", critical_threshold=None, excluded=True)]}
    crc = dict(cls, method="crc", empty_mask_policy="exclude", threshold=None)
    del crc["k"]
    fixed = dict(cls, method="fixed", fixed_threshold=0.5, k=None)
    seeds = {
        "cls.json": json.dumps(cls, indent=2),
        "crc.json": json.dumps(crc),
        "fixed.json": json.dumps(fixed),
        "bad_alpha.json": json.dumps(dict(cls, alpha=1e-12)),
        "bad_case.json": json.dumps(dict(cls, n=-1, cases=[1, {"name": 3}])),
        "truncated.json": json.dumps(cls)[:120],
        "deep.json": "[" * 64 + "]" * 64,
        "unicode.json": json.dumps(dict(cls, tool_version="\u00e9\U0001f600"), ensure_ascii=False),
    }
    return {name: text.encode() for name, text in seeds.items()}


def manifest_seeds():
    manifest = {
        "format": "cls-model/1", "name": "m", "description": "", "model_file": "m.onnx",
        "sha256": "ab" * 32, "input": {"name": "image", "channels": 1},
        "output": {"name": "logits", "channels": 1, "activation": "sigmoid"},
        "patch_size": [48, 48, 48], "spatial_divisor": 8, "spacing_mm": [1.0, 1.0, 1.0],
        "normalisation": {"scheme": "zscore", "region": "all"}, "provenance": {"seed": 1}}
    softmax = dict(manifest, output={"name": "o", "channels": 3, "activation": "softmax",
                                     "lesion_class": 2},
                   normalisation={"scheme": "ct", "window": [-100, 200]})
    percentile = dict(manifest, normalisation={"scheme": "percentile",
                                               "percentiles": [0.5, 99.5]})
    seeds = {
        "sigmoid.json": json.dumps(manifest, indent=2),
        "softmax_ct.json": json.dumps(softmax),
        "percentile.json": json.dumps(percentile),
        "bad_patch.json": json.dumps(dict(manifest, patch_size=[48, 0, 1e9])),
        "bad_types.json": json.dumps(dict(manifest, input=[1], output={"channels": "1"})),
        "truncated.json": json.dumps(manifest)[:150],
    }
    return {name: text.encode() for name, text in seeds.items()}


def onnx_seeds():
    """Small models written by the onnx package (tests/reference/make_onnx_fixtures.py)."""
    import importlib.util
    import tempfile
    path = ROOT.parent.parent / "reference" / "make_onnx_fixtures.py"
    spec = importlib.util.spec_from_file_location("make_onnx_fixtures", path)
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    with tempfile.TemporaryDirectory() as folder:
        fixtures.main(folder)
        seeds = {p.name: p.read_bytes() for p in pathlib.Path(folder).glob("*.onnx")}
    seeds["truncated.onnx"] = seeds["fixed_conv.onnx"][:-40]
    return seeds


def npy_bytes(array, version=None):
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array)
    else:
        np.lib.format.write_array(buffer, array, version=version)
    return buffer.getvalue()


def npy_seeds():
    """Arrays shaped (C, z, y, x) = (C, 4, 3, 2), the fuzz target's reference grid, and others."""
    rng = np.random.default_rng(11)
    probabilities = rng.random((2, 4, 3, 2), dtype=np.float32)
    seeds = {
        "f4_nnunet.npy": npy_bytes(probabilities),
        "f2_nnunet.npy": npy_bytes(probabilities.astype(np.float16)),
        "f8.npy": npy_bytes(probabilities.astype(np.float64)),
        "f4_big_endian.npy": npy_bytes(probabilities.astype(">f4")),
        "f2_big_endian.npy": npy_bytes(probabilities.astype(">f2")),
        "f4_fortran.npy": npy_bytes(np.asfortranarray(probabilities)),
        "u1.npy": npy_bytes((probabilities * 255).astype(np.uint8)),
        "v2.npy": npy_bytes(probabilities, version=(2, 0)),
        "v3.npy": npy_bytes(probabilities, version=(3, 0)),
        "scalar.npy": npy_bytes(np.float32(0.5)),
        "wrong_grid.npy": npy_bytes(rng.random((2, 2, 3, 4), dtype=np.float32)),
        "i4.npy": npy_bytes(np.arange(6, dtype=np.int32)),
    }
    base = seeds["f4_nnunet.npy"]
    seeds["truncated_data.npy"] = base[:-3]
    seeds["truncated_header.npy"] = base[:40]
    seeds["bad_magic.npy"] = b"\x93NUMPX" + base[6:]
    seeds["bad_version.npy"] = base[:6] + b"\x04\x00" + base[8:]
    seeds["bad_dict.npy"] = base.replace(b"'fortran_order': False", b"'fortran_order': 0    ")
    seeds["extra_key.npy"] = base.replace(b"'shape'", b"'shapy'")
    seeds["huge_shape.npy"] = base.replace(b"(2, 4, 3, 2)", b"(9999999999, 99999)")
    return seeds


def npz_bytes(compress=True, **arrays):
    buffer = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def npz_seeds(npy):
    rng = np.random.default_rng(12)
    probabilities = rng.random((2, 4, 3, 2), dtype=np.float32)
    seeds = {
        # nnU-Net v2's own call: np.savez_compressed(..., probabilities=...).
        "nnunet_f4.npz": npz_bytes(probabilities=probabilities),
        "nnunet_f2.npz": npz_bytes(probabilities=probabilities.astype(np.float16)),
        "stored.npz": npz_bytes(False, probabilities=probabilities),
        "other_members.npz": npz_bytes(softmax=probabilities, seg=np.zeros(3, np.uint8)),
        "bad_npy_member.npz": npz_bytes(probabilities=probabilities),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("probabilities.npy", npy["bad_dict.npy"])
    seeds["bad_npy_member.npz"] = buffer.getvalue()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("probabilities.npy", bytes(2 << 20))  # past the target's 1 MiB limit
    seeds["bomb.npz"] = buffer.getvalue()
    seeds["truncated.npz"] = seeds["nnunet_f4.npz"][:-30]
    return seeds


def case_score_seeds():
    rng = np.random.default_rng(11)
    probabilities = rng.random((6, 5, 4), dtype=np.float32)
    label = np.zeros((6, 5, 4), np.uint8)
    label[1:3, 1:3, 1] = 1
    label[5, 4, 3] = 1
    sha_a, sha_b = "a" * 64, "b" * 64
    valid = case_score.case_score_bytes("case_001", probabilities, label, sha_a, sha_b, "0.1.0")
    quantised = np.round(probabilities * 4) / 4
    seeds = {
        "valid.score": valid,
        "quantised.score": case_score.case_score_bytes("case_002", quantised, label, sha_a,
                                                       sha_b, "0.1.0"),
        "empty_mask.score": case_score.case_score_bytes("case_003", probabilities, 0 * label,
                                                        sha_a, sha_b, "0.1.0"),
        "channels.score": case_score.case_score_bytes(
            "case_004", probabilities, label, sha_a, sha_b, "0.1.0",
            lesion_channels={"channels": [1, 2], "combine": "max"}, lesion_labels=[1, 4]),
        "truncated.score": valid[:-7],
        "truncated_header.score": valid[:40],
        "bad_magic.score": b"CLSSCORX" + valid[8:],
    }
    header_length = struct.unpack_from("<I", valid, 8)[0]
    header = json.loads(valid[12:12 + header_length])
    sections = valid[12 + header_length:]
    version_2 = dict(header, format_version=2)
    text = json.dumps(version_2).encode()
    seeds["version_2.score"] = b"CLSSCORE" + struct.pack("<I", len(text)) + text + sections
    damaged = bytearray(valid)
    damaged[-1] ^= 1
    seeds["damaged_section.score"] = bytes(damaged)
    plain = {k: v for k, v in header.items() if k != "sections"}
    counts = [s["count"] for s in header["sections"]]
    first, second = (s["bytes"] for s in header["sections"][:2])
    overlong = bytes([0xFE, 0xFF, 0xFF, 0xEF, 0x87, 0x00])  # 0.5 with a needless zero byte
    seeds["overlong_number.score"] = case_score.assemble(
        plain, [overlong, sections[first:first + second], sections[first + second:]], counts)
    huge = dict(plain, voxels=1 << 40)
    run = case_score.varint(1) + case_score.varint((1 << 40) - 2)  # zeros, one run
    seeds["huge_run.score"] = case_score.assemble(huge, [b"", b"", run], [0, 0, 1 << 40])
    return seeds


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    nifti = nifti_seeds()
    for name, data in nifti.items():
        write("fuzz_nifti", name, data)
    for name, data in nifti_gz_seeds(nifti).items():
        write("fuzz_nifti_gz", name, data)
    for name, data in certificate_seeds().items():
        write("fuzz_certificate", name, data)
    for name, data in manifest_seeds().items():
        write("fuzz_model_manifest", name, data)
    for name, data in onnx_seeds().items():
        write("fuzz_onnx_model", name, data)
    npy = npy_seeds()
    for name, data in npy.items():
        write("fuzz_npy", name, data)
    for name, data in npz_seeds(npy).items():
        write("fuzz_npz", name, data)
    for name, data in case_score_seeds().items():
        write("fuzz_case_score", name, data)
    files = list(ROOT.rglob("*"))
    total = sum(f.stat().st_size for f in files if f.is_file())
    print(f"make_corpus: {sum(f.is_file() for f in files)} files, {total} bytes in {ROOT}")


if __name__ == "__main__":
    main()
