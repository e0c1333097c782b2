"""The catalogue of bad inputs, as the `cls` command line meets them (tests/BAD_INPUTS.md).

Usage: /usr/bin/python3 test_bad_inputs.py PATH/TO/cls WORK_DIR

Each test writes one small bad file (bytes made here, from a valid NIfTI that nibabel writes)
and checks the whole user-facing outcome: the exit code and the exact last line on stderr,
which names the file and the problem. Expected numbers (sizes, counts) are computed here from
the fixture, never copied from the tool's output.
"""
import gzip
import json
import shutil
import struct
import subprocess
import sys
import unittest
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np

import cli_run
from cli_run import run, last_line

CLS = ""
WORK = Path()

# NIfTI-1 header offsets (nifti1.h).
SIZEOF_HDR, DIM, DATATYPE, BITPIX, VOX_OFFSET, MAGIC = 0, 40, 70, 72, 108, 344
HEADER_BYTES = 352  # 348 and the 4-byte extension flag




def nifti_bytes(data, affine=None):
    return nib.Nifti1Image(data, np.eye(4) if affine is None else affine).to_bytes()


def patched(data, offset, fmt, *values):
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def sanitized(binary):
    """ASan reserves terabytes of shadow memory, so an address-space limit cannot apply."""
    return b"__asan_init" in Path(binary).read_bytes()


class BadInputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = WORK / "bad_inputs"
        shutil.rmtree(cls.dir, ignore_errors=True)
        cls.dir.mkdir(parents=True)
        cls.set = cls.dir / "set"
        run("synth", "--cases", 6, "--size", 8, "--seed", 11, "--out", cls.set, expect=0)
        cls.certificate = cls.dir / "certificate.json"
        run("calibrate", "--probs", cls.set / "probs", "--labels", cls.set / "labels",
            "--epsilon", 0.2, "--alpha", 0.5, "--out", cls.certificate, expect=0)
        # A valid 4x4x4 float32 map: 352 header bytes and 256 of data.
        cls.good = nifti_bytes(np.full((4, 4, 4), 0.25, np.float32))

    def write(self, name, data):
        path = self.dir / name
        path.write_bytes(data)
        return path

    def copy_set(self, name):
        """A fresh copy of the labelled set to spoil one file of."""
        target = self.dir / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(self.set, target)
        return target

    def assert_info_refuses(self, path, message, **kwargs):
        proc = run("info", path, expect=1, **kwargs)
        self.assertEqual(last_line(proc.stderr), f"cls info: error: {path}: {message}")
        self.assertEqual(proc.stdout, "")

    def calibrate(self, root, expect=1):
        out = self.dir / f"{root.name}.json"
        out.unlink(missing_ok=True)
        proc = run("calibrate", "--probs", root / "probs", "--labels", root / "labels",
                   "--epsilon", 0.2, "--alpha", 0.5, "--out", out, expect=expect)
        self.assertEqual(out.exists(), expect == 0, "a certificate is written if and only if "
                                                    "calibration succeeds")
        return last_line(proc.stderr)

    # ---- NIfTI files -------------------------------------------------------------------------

    def test_truncated_header(self):
        path = self.write("short_header.nii", self.good[:300])
        self.assert_info_refuses(path, "truncated: the header needs 348 bytes but the file has 300")
        path = self.write("three_bytes.nii", self.good[:3])
        self.assert_info_refuses(path, "truncated: 3 bytes, too short for a NIfTI header")

    def test_truncated_data(self):
        path = self.write("short_data.nii", self.good[:HEADER_BYTES + 100])
        self.assert_info_refuses(
            path, "truncated: header declares 4x4x4 float32 voxels (256 bytes) from offset 352 "
                  "but the file has 100 bytes of data")

    def test_truncated_data_inside_a_calibration_set(self):
        root = self.copy_set("truncated_set")
        victim = root / "probs" / "case_002.nii.gz"
        raw = gzip.decompress(victim.read_bytes())
        victim.write_bytes(gzip.compress(raw[:-10]))
        data_bytes = len(raw) - HEADER_BYTES
        self.assertEqual(self.calibrate(root),
                         f"cls calibrate: error: {victim}: truncated: header declares 8x8x8 float32 "
                         f"voxels ({data_bytes} bytes) from offset 352 but the file has "
                         f"{data_bytes - 10} bytes of data")

    def test_wrong_sizeof_hdr(self):
        path = self.write("sizeof_hdr.nii", patched(self.good, SIZEOF_HDR, "<i", 349))
        self.assert_info_refuses(
            path, "not a NIfTI file: sizeof_hdr is 349, expected 348 (NIfTI-1) or 540 (NIfTI-2)")
        path = self.write("text.nii", b"this is a text file, not an image\n" * 20)
        sizeof_hdr = struct.unpack("<i", b"this")[0]
        self.assert_info_refuses(path, f"not a NIfTI file: sizeof_hdr is {sizeof_hdr}, expected "
                                       "348 (NIfTI-1) or 540 (NIfTI-2)")

    def test_a_dicom_file(self):
        # A DICOM Part 10 file: a 128-byte preamble, then "DICM" (pydicom writes them so).
        path = self.write("slice.nii", bytes(128) + b"DICM" + bytes(400))
        self.assert_info_refuses(
            path, "is a DICOM file, not NIfTI: convert its series first, e.g. with dcm2niix -z y "
                  "-f %f_%s -o OUT DICOM_FOLDER (the app reads DICOM folders itself)")

    def test_wrong_magic(self):
        path = self.write("magic.nii", patched(self.good, MAGIC, "4s", b"xyz\0"))
        self.assert_info_refuses(path, 'not a NIfTI file: the magic string is not "n+1"')
        path = self.write("pair.nii", patched(self.good, MAGIC, "4s", b"ni1\0"))
        self.assert_info_refuses(path, "this is the header of a .hdr/.img pair; a single-file .nii "
                                       "is required (convert it, e.g. with nibabel or fslchfiletype)")

    def test_negative_or_zero_dims(self):
        for field, value, message in [
            (DIM + 2, -4, "dim[1] is -4; every dimension must be at least 1"),
            (DIM + 4, 0, "dim[2] is 0; every dimension must be at least 1"),
            (DIM, 0, "dim[0] is 0, but a NIfTI image has 1 to 7 dimensions"),
            (DIM, 8, "dim[0] is 8, but a NIfTI image has 1 to 7 dimensions"),
        ]:
            path = self.write(f"dims_{field}_{value}.nii", patched(self.good, field, "<h", value))
            self.assert_info_refuses(path, message)

    def test_absurd_dims_refused_before_any_allocation(self):
        # 10^12 float32 voxels (4 TB) declared by a 608-byte file, plain and gzipped. Refused
        # from the header: a reader that allocated first could not answer at all (here, under a
        # 1 GiB address-space limit where the binary allows one).
        huge = patched(self.good, DIM, "<4h", 3, 10000, 10000, 10000)
        declared = 10000 ** 3 * 4
        message = (f"truncated: header declares 10000x10000x10000 float32 voxels ({declared} "
                   "bytes) from offset 352 but the file has 256 bytes of data")
        limit = not sanitized(CLS)
        self.assert_info_refuses(self.write("huge.nii", huge), message, limit_memory=limit)
        self.assert_info_refuses(self.write("huge.nii.gz", gzip.compress(huge)), message,
                                 limit_memory=limit)
        # Beyond 64 bits: 32767^7 voxels of 8 bytes.
        widest = patched(patched(self.good, DIM, "<8h", 7, *[32767] * 7), DATATYPE, "<2h", 64, 64)
        self.assert_info_refuses(
            self.write("widest.nii", widest),
            "header declares " + "x".join(["32767"] * 7) + " float64 voxels, more than any file holds",
            limit_memory=limit)

    def test_unsupported_datatype(self):
        supported = "uint8, int8, int16, uint16, int32, float32, float64"
        path = self.write("complex.nii", patched(self.good, DATATYPE, "<2h", 32, 64))
        self.assert_info_refuses(path, f"unsupported datatype complex64 (code 32); supported are "
                                       f"{supported} (convert the file, e.g. with nibabel)")
        path = self.write("unknown_type.nii", patched(self.good, DATATYPE, "<2h", 1234, 8))
        self.assert_info_refuses(path, f"unsupported datatype code 1234; supported are {supported} "
                                       "(convert the file, e.g. with nibabel)")

    # ---- gzip --------------------------------------------------------------------------------

    def test_gzip_bomb(self):
        # 8 MiB of zeros after a header declaring 256 bytes of data: inflating stops at what the
        # file may hold (header, data and 1 MiB of slack), never at what the stream holds.
        bomb = gzip.compress(self.good + bytes(8 << 20))
        self.assertLess(len(bomb), 20000)
        limit = HEADER_BYTES + 256 + (1 << 20)
        path = self.write("bomb.nii.gz", bomb)
        self.assert_info_refuses(path, f"gzip stream inflates past {limit} bytes, more than this "
                                       "file may hold; refusing it", limit_memory=not sanitized(CLS))

    def test_truncated_gzip(self):
        packed = gzip.compress(self.good)
        path = self.write("cut.nii.gz", packed[: len(packed) - 12])
        self.assert_info_refuses(path, "gzip stream is truncated (it ends before its end marker)")

    def test_corrupt_gzip(self):
        packed = bytearray(gzip.compress(self.good))
        packed[-8] ^= 0xFF  # the CRC-32 of the data
        path = self.write("bad_crc.nii.gz", bytes(packed))
        self.assert_info_refuses(path, "gzip stream is corrupt (incorrect data check)")
        # A deflate block type that does not exist (BTYPE = 11) right after the 10-byte header.
        broken = bytearray(gzip.compress(self.good))
        broken[10] = 0x07
        path = self.write("bad_block.nii.gz", bytes(broken))
        self.assert_info_refuses(path, "gzip stream is corrupt (invalid block type)")

    # ---- probability maps --------------------------------------------------------------------

    def spoil_probabilities(self, root, values):
        victim = root / "probs" / "case_003.nii.gz"
        img = nib.load(victim)
        data = np.asanyarray(img.dataobj).astype(np.float32)
        data.flat[: len(values)] = values
        nib.save(nib.Nifti1Image(data, img.affine), victim)
        return victim

    def test_non_finite_probabilities(self):
        root = self.copy_set("nan_set")
        victim = self.spoil_probabilities(root, [np.nan, np.inf, -np.inf])
        message = (f"{victim}: probability map has 3 NaN or infinite values; a probability map "
                   "must hold finite values in [0, 1]")
        self.assertEqual(self.calibrate(root), f"cls calibrate: error: {message}")
        proc = run("assess", "--calibration", self.certificate, "--probs", root / "probs",
                   "--labels", root / "labels", expect=1)
        self.assertEqual(last_line(proc.stderr), f"cls assess: error: {message}")
        proc = run("evaluate", "--probs", root / "probs", "--labels", root / "labels",
                   "--epsilon", 0.2, "--alpha", 0.5, "--splits", 2, expect=1)
        self.assertEqual(last_line(proc.stderr), f"cls evaluate: error: {message}")
        proc = run("apply", "--calibration", self.certificate, "--probs", victim,
                   "--out", self.dir / "mask.nii.gz", expect=1)
        self.assertEqual(last_line(proc.stderr), f"cls apply: error: {message}")
        self.assertFalse((self.dir / "mask.nii.gz").exists())

    def test_probabilities_outside_zero_one(self):
        # Refused with the count; nothing clamps a map (there is no opt-in), since values
        # outside [0, 1] are usually logits.
        root = self.copy_set("logit_set")
        victim = self.spoil_probabilities(root, [1.5, -0.25])
        message = (f"{victim}: probability map has 2 values outside [0, 1]; is it logits, or a "
                   "map before its activation?")
        self.assertEqual(self.calibrate(root), f"cls calibrate: error: {message}")
        proc = run("apply", "--calibration", self.certificate, "--probs", victim,
                   "--out", self.dir / "mask.nii.gz", expect=1)
        self.assertEqual(last_line(proc.stderr), f"cls apply: error: {message}")

    # ---- labels and pairing ------------------------------------------------------------------

    def test_shape_mismatch(self):
        root = self.copy_set("shape_set")
        label = root / "labels" / "case_001.nii.gz"
        nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.uint8), np.eye(4)), label)
        probs = root / "probs" / "case_001.nii.gz"
        self.assertEqual(self.calibrate(root),
                         f"cls calibrate: error: {label}: is 4x4x4 but its probability map "
                         f"{probs} is 8x8x8")

    def test_affine_mismatch(self):
        root = self.copy_set("affine_set")
        label = root / "labels" / "case_001.nii.gz"
        img = nib.load(label)
        shifted = img.affine.copy()
        shifted[0, 3] += 2.0
        nib.save(nib.Nifti1Image(np.asanyarray(img.dataobj), shifted), label)
        probs = root / "probs" / "case_001.nii.gz"
        expected = (f"{label}: has a different voxel-to-world affine from its probability map "
                    f"{probs}")
        self.assertEqual(self.calibrate(root), f"cls calibrate: error: {expected}")
        proc = run("assess", "--calibration", self.certificate, "--probs", root / "probs",
                   "--labels", root / "labels", expect=1)
        self.assertEqual(last_line(proc.stderr), f"cls assess: error: {expected}")

    def test_label_that_is_not_binary(self):
        root = self.copy_set("multiclass_set")
        label = root / "labels" / "case_004.nii.gz"
        img = nib.load(label)
        lesion = np.asanyarray(img.dataobj).astype(np.uint8)  # read now: the file changes
        data = lesion.copy()
        data.flat[:3] = [1, 2, 4]  # BraTS-style classes
        nib.save(nib.Nifti1Image(data, img.affine), label)
        fix = ("say which are lesion with --lesion-labels (e.g. --lesion-labels 1,2,4, or "
               "nonzero) or the app's lesion-labels setting")
        self.assertEqual(self.calibrate(root), f"cls calibrate: error: {label}: label is not "
                                               f"binary: besides 0 it holds the values 1, 2, 4; {fix}")
        # Interpolated (resampled) labels: more distinct values than are worth listing.
        soft = lesion.astype(np.float32)
        soft[:7, 0, 0] = [0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875]  # the first voxels on disk
        nib.save(nib.Nifti1Image(soft, img.affine), label)
        self.assertEqual(self.calibrate(root),
                         f"cls calibrate: error: {label}: label is not binary: besides 0 it holds "
                         "the values 0.125, 0.25, 0.375, 0.5, 0.625 and more, not all whole "
                         "numbers; was it resampled with interpolation? Resample labels with "
                         "nearest neighbour")
        soft.flat[:2] = [np.nan, np.nan]
        nib.save(nib.Nifti1Image(soft, img.affine), label)
        proc = run("assess", "--calibration", self.certificate, "--probs", root / "probs",
                   "--labels", root / "labels", expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls assess: error: {label}: label has 2 NaN or infinite values; a "
                         "lesion label holds 0 for background and one lesion value")
        # 0/255, as some tools write masks, is binary.
        nib.save(nib.Nifti1Image(lesion * np.uint8(255), img.affine), label)
        self.calibrate(root, expect=0)

    def test_duplicate_case_names(self):
        root = self.copy_set("duplicate_set")
        probs = root / "probs"
        (probs / "case_001.nii").write_bytes(gzip.decompress((probs / "case_001.nii.gz").read_bytes()))
        self.assertEqual(self.calibrate(root),
                         f"cls calibrate: error: {probs} and {root / 'labels'}: two probability map "
                         "files belong to case 'case_001': case_001.nii and case_001.nii.gz")

    def test_unmatched_case_names(self):
        root = self.copy_set("unmatched_set")
        (root / "labels" / "case_000.nii.gz").unlink()
        (root / "probs" / "case_005.nii.gz").rename(root / "probs" / "case_5.nii.gz")
        self.assertEqual(self.calibrate(root),
                         f"cls calibrate: error: {root / 'probs'} and {root / 'labels'}: cases are "
                         "not paired by name: no label for case_000.nii.gz, case_5.nii.gz; no "
                         "probability map for case_005.nii.gz")
        empty = self.dir / "empty_probs"
        empty.mkdir(exist_ok=True)
        proc = run("calibrate", "--probs", empty, "--labels", root / "labels", "--epsilon", 0.2,
                   "--alpha", 0.5, "--out", self.dir / "never.json", expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls calibrate: error: {empty}: holds no .nii, .nii.gz or .npz file")

    # ---- certificates ------------------------------------------------------------------------

    def spoiled_certificate(self, change):
        document = json.loads(self.certificate.read_text())
        change(document)
        path = self.dir / "spoiled_certificate.json"
        path.write_text(json.dumps(document))
        return path

    def assert_certificate_refused(self, path, message):
        source = self.set / "probs" / "case_000.nii.gz"
        proc = run("apply", "--calibration", path, "--probs", source,
                   "--out", self.dir / "mask.nii.gz", expect=1)
        self.assertEqual(last_line(proc.stderr), f"cls apply: error: {path}: {message}")
        self.assertFalse((self.dir / "mask.nii.gz").exists())
        proc = run("assess", "--calibration", path, "--probs", self.set / "probs",
                   "--labels", self.set / "labels", expect=1)
        self.assertEqual(last_line(proc.stderr), f"cls assess: error: {path}: {message}")

    def test_certificate_settings_out_of_range(self):
        def setting(key, value):
            return self.spoiled_certificate(lambda d: d.__setitem__(key, value))

        self.assert_certificate_refused(setting("epsilon", 1.5), "epsilon must be in [0, 1), got 1.5")
        self.assert_certificate_refused(setting("epsilon", -0.1), "epsilon must be in [0, 1), got -0.1")
        self.assert_certificate_refused(setting("alpha", 0),
                                        "alpha must be in (0, 1) and at least 1e-9, got 0")
        self.assert_certificate_refused(setting("alpha", 1.2),
                                        "alpha must be in (0, 1) and at least 1e-9, got 1.2")
        for threshold in (1.5, -0.5):
            self.assert_certificate_refused(
                setting("threshold", threshold),
                f"field 'threshold' must be in [0, 1], or null for +inf (predict nothing), got {threshold}")
        self.assert_certificate_refused(setting("threshold", "0.5"),
                                        "field 'threshold' must be a number")

        def critical(d):
            d["cases"][2]["critical_threshold"] = 7
        name = json.loads(self.certificate.read_text())["cases"][2]["name"]
        self.assert_certificate_refused(
            self.spoiled_certificate(critical),
            f"case '{name}': field 'critical_threshold' must be in [0, 1], or null for +inf "
            "(predict nothing), got 7")

    def test_not_a_certificate(self):
        path = self.write("broken.json", b'{"format": "cls-calibration-certificate", ')
        self.assert_certificate_refused(path, "not valid JSON")
        path = self.write("manifest.json", json.dumps({"format": "cls-model/1"}).encode())
        self.assert_certificate_refused(
            path, "not a calibration certificate (field 'format' is not "
                  "'cls-calibration-certificate')")

    def test_certificate_applied_to_its_own_calibration_data(self):
        # The certificate records every calibration input's SHA-256. assess measures the
        # guarantee on new cases, so its own calibration cases are refused.
        proc = run("assess", "--calibration", self.certificate, "--probs", self.set / "probs",
                   "--labels", self.set / "labels", expect=1)
        probs = [self.set / "probs" / f"case_{i:03d}.nii.gz" for i in range(3)]
        self.assertEqual(last_line(proc.stderr),
                         f"cls assess: error: {self.certificate} was calibrated on 6 of the 6 "
                         "cases assessed (same SHA-256 for the probability map and the label): "
                         f"{probs[0]}, {probs[1]}, {probs[2]} and 3 more; assess checks the "
                         "guarantee on held-out cases only (to split one set into calibration and "
                         "test cases, use cls evaluate)")
        # A mixed set: one calibration case among held-out ones is enough.
        held_out = self.dir / "held_out"
        run("synth", "--cases", 3, "--size", 8, "--seed", 12, "--out", held_out, expect=0)
        shutil.copy(self.set / "probs" / "case_001.nii.gz", held_out / "probs" / "case_100.nii.gz")
        shutil.copy(self.set / "labels" / "case_001.nii.gz", held_out / "labels" / "case_100.nii.gz")
        proc = run("assess", "--calibration", self.certificate, "--probs", held_out / "probs",
                   "--labels", held_out / "labels", "--json", self.dir / "never.json", expect=1)
        self.assertIn(f"was calibrated on 1 of the 4 cases assessed (same SHA-256 for the "
                      f"probability map and the label): {held_out / 'probs' / 'case_100.nii.gz'};",
                      last_line(proc.stderr))
        self.assertFalse((self.dir / "never.json").exists())
        # The same label with a new probability map is a new case.
        (held_out / "probs" / "case_100.nii.gz").unlink()
        shutil.copy(held_out / "probs" / "case_000.nii.gz", held_out / "probs" / "case_100.nii.gz")
        run("assess", "--calibration", self.certificate, "--probs", held_out / "probs",
            "--labels", held_out / "labels", expect=0)

        # apply makes a calibration case's mask (worth looking at) but says the guarantee is
        # not about it.
        source = self.set / "probs" / "case_004.nii.gz"
        mask = self.dir / "calibration_case_mask.nii.gz"
        proc = run("apply", "--calibration", self.certificate, "--probs", source, "--out", mask,
                   expect=0)
        self.assertEqual(proc.stderr,
                         f"cls apply: warning: {source}: is calibration case 'case_004' of "
                         f"{self.certificate} (same SHA-256); its guarantee is for new cases, not "
                         "for those it was calibrated on\n")
        self.assertTrue(mask.exists())
        proc = run("apply", "--calibration", self.certificate, "--probs",
                   held_out / "probs" / "case_002.nii.gz", "--out", mask, expect=0)
        self.assertEqual(proc.stderr, "")


if __name__ == "__main__":
    CLS, WORK = sys.argv[1], Path(sys.argv[2])
    cli_run.CLS = CLS
    unittest.main(argv=[sys.argv[0], "-v"])
