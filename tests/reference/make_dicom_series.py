#!/usr/bin/python3
"""Writes DICOM series (MR Image Storage, one file per slice) from NIfTI volumes of known
geometry, for the DICOM tests (tests/web/dicom.test.mjs): written by pydicom and nibabel,
independently of dcm2niix and of the app.

Usage:
  make_dicom_series.py synthetic OUT        two series in OUT/case_dicom/ (an oblique 20x24x16
                                            one and a second, different one for the picker), and
                                            OUT/source_<n>.nii with OUT/expected.json
  make_dicom_series.py from-nifti IN OUT    one series in OUT/<name>/ from the .nii(.gz) IN, and
                                            OUT/source_1.nii with OUT/expected.json

Each source_<n>.nii holds exactly the values the series encodes (stored int16 times
RescaleSlope plus RescaleIntercept; the slope is a power of two, so float32 holds them exactly)
on the source grid; expected.json gives, per series number, the description, the dims, and the
voxel-to-world (RAS) affine as nibabel reads it. The affine must be a rotation times a scaling
(no shear: DICOM cannot say it). NIfTI is RAS, DICOM LPS: x and y change sign.
"""
import json
import os
import sys

import nibabel as nib
import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def ds_text(value):
    """A decimal string of at most 16 characters (DICOM's DS limit), as precise as fits."""
    for decimals in range(12, -1, -1):
        text = f"{value:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if text in ("-0", ""):
            text = "0"
        if len(text) <= 16:
            return text
    raise ValueError(f"{value} does not fit a DICOM decimal string")


def quantise(values):
    """int16 stored values, slope and intercept: slope a power of two so that the decoded
    values are exact in float32."""
    low, high = float(values.min()), float(values.max())
    intercept = float(np.floor(low))
    span = max(high - intercept, 1e-6)
    slope = 2.0 ** np.floor(np.log2(32000.0 / span))
    slope = 1.0 / slope
    stored = np.round((values.astype(np.float64) - intercept) / slope)
    stored = np.clip(stored, -32768, 32767).astype(np.int16)
    return stored, slope, intercept


def write_series(volume, affine, folder, *, series_number, description, study, frame, patient,
                 prefix, extension=".dcm"):
    """One file per slice k of `volume` (x, y, z as NIfTI stores them). Columns follow NIfTI's
    i, rows its j: pixel (column c, row r) of slice k is voxel (c, r, k)."""
    os.makedirs(folder, exist_ok=True)
    stored, slope, intercept = quantise(volume)
    lps = LPS @ affine
    col_step, row_step, slice_step = lps[:3, 0], lps[:3, 1], lps[:3, 2]
    col_spacing, row_spacing = np.linalg.norm(col_step), np.linalg.norm(row_step)
    thickness = np.linalg.norm(slice_step)
    orientation = list(col_step / col_spacing) + list(row_step / row_spacing)
    series_uid = generate_uid()
    nx, ny, nz = volume.shape
    for k in range(nz):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MR_IMAGE_STORAGE
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = generate_uid()
        path = os.path.join(folder, f"{prefix}{k + 1:04d}{extension}")
        ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.is_little_endian = True
        ds.is_implicit_VR = False
        ds.SOPClassUID = MR_IMAGE_STORAGE
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series_uid
        ds.FrameOfReferenceUID = frame
        ds.Modality = "MR"
        ds.Manufacturer = "CLS Studio test fixture"
        ds.PatientName = patient
        ds.PatientID = patient
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20260101"
        ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
        ds.AcquisitionTime = f"1200{k % 60:02d}"
        ds.StudyID = "1"
        ds.SeriesNumber = series_number
        ds.AcquisitionNumber = 1
        ds.InstanceNumber = k + 1
        ds.SeriesDescription = description
        ds.ProtocolName = description
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
        ds.ScanningSequence = "SE"
        ds.SequenceVariant = "NONE"
        ds.MRAcquisitionType = "2D"
        ds.EchoTime = "90"
        ds.RepetitionTime = "9000"
        ds.MagneticFieldStrength = "3"
        ds.ImagePositionPatient = [ds_text(v) for v in (lps @ [0, 0, k, 1])[:3]]
        ds.ImageOrientationPatient = [ds_text(v) for v in orientation]
        ds.PixelSpacing = [ds_text(row_spacing), ds_text(col_spacing)]
        ds.SliceThickness = ds_text(thickness)
        ds.SpacingBetweenSlices = ds_text(thickness)
        ds.SliceLocation = ds_text(float(np.dot(lps[:3, :3] @ [0, 0, k] + lps[:3, 3],
                                                np.cross(orientation[:3], orientation[3:]))))
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = ny, nx
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleSlope = ds_text(slope)
        ds.RescaleIntercept = ds_text(intercept)
        ds.RescaleType = "US"
        ds.PixelData = np.ascontiguousarray(stored[:, :, k].T).tobytes()  # rows of columns
        ds.save_as(path, write_like_original=False)
    decoded = (stored.astype(np.float64) * slope + intercept).astype(np.float32)
    return decoded


def save_source(decoded, affine, out, number):
    path = os.path.join(out, f"source_{number}.nii")
    image = nib.Nifti1Image(decoded, affine)
    image.header.set_sform(affine, 1)
    image.header.set_qform(affine, 1)
    nib.save(image, path)
    return nib.load(path).affine  # nibabel's reading of it: the reference


def rotation(axis, degrees):
    axis = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    t = np.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)


def geometry(rot, spacing, origin):
    affine = np.eye(4)
    affine[:3, :3] = rot @ np.diag(spacing)
    affine[:3, 3] = origin
    return affine


def synthetic(out):
    folder = os.path.join(out, "case_dicom")
    study, frame = generate_uid(), generate_uid()
    expected = {}
    # Series 1: oblique (20 degrees about a tilted axis), anisotropic, values that differ along
    # every axis so a flip or a swap shows.
    shape1 = (20, 24, 16)
    i, j, k = np.meshgrid(*[np.arange(n) for n in shape1], indexing="ij")
    values1 = (3.0 * i + 70.0 * j + 1700.0 * k + 25.0 * np.sin(i * j * 0.1)).astype(np.float32)
    affine1 = geometry(rotation([0.3, 1.0, 0.2], 20.0), [0.9, 1.1, 2.5], [-40.5, 12.25, -30.0])
    # Series 2, for the picker: another grid, orientation and content.
    shape2 = (16, 12, 10)
    i, j, k = np.meshgrid(*[np.arange(n) for n in shape2], indexing="ij")
    values2 = (500.0 - 11.0 * i + 5.0 * j * k).astype(np.float32)
    affine2 = geometry(rotation([1.0, 0.0, 0.0], -90.0) @ rotation([0, 0, 1], 15.0),
                       [1.5, 1.5, 3.0], [20.0, -60.0, 45.0])
    for number, values, affine, description, prefix, ext in (
            (1, values1, affine1, "FLAIR oblique", "IM_", ""),  # no extension: found by 'DICM'
            (2, values2, affine2, "T1 coronal", "t1_", ".dcm")):
        decoded = write_series(values, affine, folder, series_number=number,
                               description=description, study=study, frame=frame,
                               patient="SYNTHETIC", prefix=prefix, extension=ext)
        reference = save_source(decoded, affine, out, number)
        expected[str(number)] = {"description": description, "dims": list(values.shape),
                                 "affine": reference.tolist(), "source": f"source_{number}.nii"}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"folder": "case_dicom", "series": expected}, f, indent=1)


def from_nifti(source, out):
    image = nib.load(source)
    values = np.asanyarray(image.dataobj).astype(np.float32)
    if values.ndim != 3:
        raise SystemExit(f"{source}: a 3D volume is needed")
    name = "case_real"
    folder = os.path.join(out, name)
    decoded = write_series(values, image.affine, folder, series_number=1, description="FLAIR",
                           study=generate_uid(), frame=generate_uid(), patient="OPEN_MS",
                           prefix="IM_")
    reference = save_source(decoded, image.affine, out, 1)
    expected = {"1": {"description": "FLAIR", "dims": list(values.shape),
                      "affine": reference.tolist(), "source": "source_1.nii"}}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"folder": name, "series": expected}, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "synthetic":
        synthetic(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "from-nifti":
        from_nifti(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)
