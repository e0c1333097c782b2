#!/usr/bin/python3
"""Writes FLAIR training, evaluation and calibration cases made from real MS brains.

The source is `shared/data/open_ms` (Lesjak et al., Neuroinformatics 2017, DOI
10.1007/s12021-017-9348-7, CC-BY: cite it wherever these cases are used or shown): three
patients' FLAIR and T1 and the consensus lesion masks of all 30 patients, on one 1 mm MNI grid.
Each case is made in four steps:

1. **A lesion-free background:** a real patient's FLAIR with its own lesions inpainted. Each
   lesion, grown by 2 voxels, is filled from the surrounding normal tissue by normalised
   convolution, and the tissue's fine texture is added back. Tissue classes come from the T1.
2. **Real lesions:** the lesions (connected components) of one or two of the 30 real masks,
   a random subset of them, at their real MNI locations, perhaps mirrored left-right and
   shifted a few voxels. Voxels that fall in the background's CSF are dropped. Each lesion gets
   a FLAIR-like hyperintensity (and stays brighter than the grey matter it may replace), a
   brighter core, a smooth texture and partial-volume edges, scaled so that the median over the
   case's label is 1.3-1.5 times the white matter, as the real patients' lesions measure. The
   label is the binary mask.
3. **Head and pose:** about a third of the cases get a synthetic scalp, skull and CSF rim
   around the brain, with noise in the air, as unstripped clinical scans have. Most cases get
   a small rotation, scaling and shift.
4. **Scanner and protocol:** bias field, Rician noise, gamma, in-plane blur, thick slices
   (3-8 mm, sometimes with gaps, mostly axial) resampled back to 1 mm, and a cropped field of
   view.

Two splits keep evaluation honest. **train** uses the brains of patient07 and patient19 and
the masks of 24 patients. **held-out** uses the brain of patient26 and the masks of patients
03, 10, 17, 23 and 29. The training model sees neither that brain, nor those masks, nor
patient26's own mask. Use held-out cases, with another seed, for the app's calibration cases.
Every case comes from its own generator seeded by (seed, index), so case i is the same
whatever N is, with any number of jobs.

Writes DIR/images/<case>.nii.gz (float32) and DIR/labels/<case>.nii.gz (uint8), both on the
1 mm grid and LAS affine of the source (a cropped case keeps its world position), and
DIR/cases.json with each case's recipe and the citation. Python module too:
`scripts/train_model.py` imports `OpenMs` and `make_case`.

Not yet: other modalities (T1, T2) as inputs; lesions placed anywhere but at their real MNI
locations; tumours; anisotropic output grids (thick-slice cases come back at 1 mm, as after
the app's resampling).
"""
import argparse
import json
import math
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(os.environ.get("CLS_OPEN_MS", ROOT.parent / "shared/data/open_ms"))
CITATION = ("Lesjak Z, Pernus F, Likar B, Spiclin Z. A Novel Public MR Image Dataset of Multiple "
            "Sclerosis Patients With Lesion Segmentations Based on Multi-rater Consensus. "
            "Neuroinformatics 2017. DOI 10.1007/s12021-017-9348-7 (CC-BY)")

ALL_PATIENTS = tuple(f"patient{i:02d}" for i in range(1, 31))
HELD_OUT_PATIENT = "patient26"
# Masks that no training case uses: the held-out patient's own and five more of varied load
# (1052, 16701, 1605, 20384 and 316 voxels), which the held-out cases use.
HELD_OUT_MASKS = ("patient03", "patient10", "patient17", "patient23", "patient29")
SPLITS = {
    "train": {"backgrounds": ("patient07", "patient19"),
              "masks": tuple(p for p in ALL_PATIENTS
                             if p not in HELD_OUT_MASKS and p != HELD_OUT_PATIENT)},
    "held-out": {"backgrounds": (HELD_OUT_PATIENT,), "masks": HELD_OUT_MASKS},
}


# How a case is acquired, after its lesions are painted.
PROTOCOLS = {
    "varied": "heads, pose, bias field, noise, gamma, thick slices and crops, for training",
    "clean": "the source's own protocol: skull-stripped, registered, bias-corrected 1 mm FLAIR "
             "with a little noise, for a calibration set the real patients belong to",
}

# --- the source data --------------------------------------------------------------------------

@dataclass
class Background:
    """A real brain with its own lesions inpainted, and what placing lesions on it needs."""
    name: str
    affine: np.ndarray
    image: np.ndarray       # FLAIR, float32, lesions inpainted
    brain: np.ndarray       # bool: the skull-stripped brain (non-zero FLAIR)
    tissue: np.ndarray      # bool: brain minus CSF, where lesions may go
    white_matter: float     # median FLAIR of white matter: the unit of every intensity below
    outside_mm: np.ndarray  # float16: distance outside a smooth hull of the brain, for a skull


class OpenMs:
    """The open_ms folder: backgrounds and masks, each read (and inpainted) once per process."""

    def __init__(self, folder=DEFAULT_DATA):
        self.folder = Path(folder)
        if not (self.folder / "lesion_masks_MNI").is_dir():
            raise FileNotFoundError(
                f"{self.folder}: no open_ms data here (expected lesion_masks_MNI/ and patient "
                "folders, from shared/data/open_ms); pass --data DIR or set CLS_OPEN_MS")
        self._backgrounds = {}
        self._masks = {}

    def _patient_file(self, patient, prefix):
        matches = sorted((self.folder / patient).glob(f"{prefix}_*.nii.gz"))
        if not matches:
            raise FileNotFoundError(f"{self.folder / patient}: no {prefix}_*.nii.gz")
        return matches[0]

    def real_case(self, patient):
        """The patient's real FLAIR (float32), consensus mask (bool) and affine."""
        flair = nib.load(self._patient_file(patient, "FLAIR"))
        mask = nib.load(self._patient_file(patient, "GOLD_STANDARD"))
        image = np.asarray(flair.dataobj, dtype=np.float32)
        label = np.asarray(mask.dataobj) > 0
        if image.shape != label.shape:
            raise ValueError(f"{self.folder / patient}: FLAIR is {image.shape} but its mask "
                             f"is {label.shape}")
        return image, label, flair.affine

    def mask(self, patient):
        """A real consensus mask as connected components: (labels int32, count)."""
        if patient not in self._masks:
            path = self.folder / "lesion_masks_MNI" / f"{patient}_GOLD_STANDARD.nii.gz"
            if not path.is_file():
                raise FileNotFoundError(f"{path}: missing lesion mask")
            self._masks[patient] = ndi.label(np.asarray(nib.load(path).dataobj) > 0,
                                             structure=np.ones((3, 3, 3)))
        return self._masks[patient]

    def background(self, patient):
        if patient not in self._backgrounds:
            image, lesion, affine = self.real_case(patient)
            t1 = np.asarray(nib.load(self._patient_file(patient, "T1")).dataobj,
                            dtype=np.float32)
            if t1.shape != image.shape:
                raise ValueError(f"{self.folder / patient}: T1 is {t1.shape}, FLAIR {image.shape}")
            self._backgrounds[patient] = make_background(patient, image, t1, lesion, affine)
        return self._backgrounds[patient]


def make_background(name, flair, t1, lesion, affine):
    """Inpaints the lesions of a real FLAIR and classifies its tissue (see the docstring)."""
    brain = ndi.binary_fill_holes(flair != 0)
    normal = brain & ~lesion
    t1_normal = t1[normal]
    white = normal & (t1 > np.percentile(t1_normal, 70))
    white_matter = float(np.median(flair[white]))
    csf = normal & (t1 < np.percentile(t1_normal, 25)) & (flair < 0.8 * white_matter)

    # Fill the grown lesions (not the CSF they touch) from normal-looking tissue around them.
    fill = ndi.binary_dilation(lesion, ball(2)) & brain & ~(csf & ~lesion)
    donors = normal & ~fill & ~csf & (flair < 1.15 * white_matter)
    image = flair.copy()
    todo = fill.copy()
    for sigma in (1.5, 3, 6, 12, 24):
        weight = ndi.gaussian_filter(donors.astype(np.float32), sigma)
        value = ndi.gaussian_filter(np.where(donors, flair, 0).astype(np.float32), sigma)
        ready = todo & (weight > 0.05)
        image[ready] = value[ready] / weight[ready]
        todo &= ~ready
    image[todo] = white_matter
    # Texture: the fine-scale residual of the white matter, as smoothed noise of the same std.
    residual = (flair - ndi.gaussian_filter(flair, 1.5))[white]
    rng = np.random.default_rng(int(name[-2:]))
    if fill.any():
        texture = ndi.gaussian_filter(rng.standard_normal(flair.shape, dtype=np.float32), 0.7)
        image[fill] += texture[fill] * (residual.std() / texture[fill].std())

    hull = ndi.gaussian_filter(ndi.binary_closing(brain, ball(3), iterations=2).astype(np.float32),
                               2) > 0.5
    outside_mm = ndi.distance_transform_edt(~hull).astype(np.float16)
    return Background(name, affine, image, brain, brain & ~csf, white_matter, outside_mm)


def ball(radius):
    r = np.arange(-radius, radius + 1)
    return (r[:, None, None] ** 2 + r[None, :, None] ** 2 + r[None, None, :] ** 2) <= radius ** 2


# --- one case ---------------------------------------------------------------------------------

def make_case(data, split, seed, index, protocol="varied"):
    """One case of `split`: (image float32, label uint8, affine, recipe dict). Deterministic in
    (seed, index, protocol). `protocol`: "varied" (training's augmentations) or "clean" (the
    source's own acquisition: see PROTOCOLS)."""
    rng = np.random.default_rng([seed, index])
    names = SPLITS[split]
    background = data.background(names["backgrounds"][rng.integers(len(names["backgrounds"]))])
    recipe = {"background": background.name, "protocol": protocol}
    image = background.image.copy()
    brain = background.brain.astype(np.float32)

    label = place_lesions(data, background, names["masks"], rng, recipe)
    image = paint_lesions(image, label, background, rng, recipe)
    if protocol == "clean":
        image[brain < 0.5] = 0  # skull-stripped, registered, N4-corrected: as the source
        sigma = rng.uniform(0.0, 0.02) * background.white_matter
        image = np.where(brain >= 0.5, image + sigma * rng.standard_normal(image.shape,
                                                                        dtype=np.float32), 0)
        recipe["noise"] = round(float(sigma / background.white_matter), 3)
        label = label.astype(np.uint8)
        recipe["lesion_voxels"] = int(label.sum())
        return image.astype(np.float32), label, background.affine.copy(), recipe
    if rng.random() < 0.35:
        image = add_head(image, background, rng, recipe)
        recipe["stripped"] = False
    else:
        recipe["stripped"] = True
    image, label, brain = move(image, label.astype(np.float32), brain, rng, recipe)
    image, label, affine = scan(image, label, brain, background, rng, recipe)
    recipe["lesion_voxels"] = int(label.sum())
    return image, label, affine, recipe


def place_lesions(data, background, masks, rng, recipe):
    """The union of random subsets of one or two real masks' lesions, kept in tissue."""
    label = np.zeros(background.image.shape, dtype=bool)
    recipe["lesions_from"] = []
    if rng.random() < 0.08:
        return label  # a lesion-free case now and then
    for patient in rng.choice(masks, size=1 if rng.random() < 0.7 else 2, replace=False):
        components, count = data.mask(patient)
        keep = rng.uniform(0.3, 1.0)
        chosen = np.flatnonzero(rng.random(count) < keep) + 1
        if chosen.size == 0:
            chosen = np.array([rng.integers(count) + 1])
        source = np.isin(components, chosen)
        mirrored = bool(rng.random() < 0.5)
        if mirrored:
            source = source[::-1]
        shift = rng.integers(-3, 4, size=3)
        source = np.roll(source, shift, axis=(0, 1, 2))
        label |= source
        recipe["lesions_from"].append({"mask": str(patient), "lesions": int(chosen.size),
                                       "of": int(count), "mirrored": mirrored,
                                       "shift": shift.tolist()})
    return label & background.tissue


# Lesion / white matter - 1, per voxel of the label: the three real patients' consensus lesions
# measure a median of 0.39-0.41 and 10th-90th percentiles of 0.18-0.21 to 0.56-0.70. A case's
# median is drawn around that, and its spread comes from the painting (edges, cores, texture,
# lesion-to-lesion contrast). Fainter lesions, as bright as grey matter (0.07-0.16 above white
# matter here), taught an earlier model to mark bright cortex.
MEDIAN_CONTRAST = (0.3, 0.5)


def paint_lesions(image, label, background, rng, recipe):
    """FLAIR-like hyperintensity on `label`: per-lesion contrast, brighter cores, smooth
    texture, partial-volume edges that reach a voxel or two beyond the label. The whole is
    scaled so that the median contrast over the label is the case's drawn one: edges and
    texture otherwise pull it to about half the per-lesion gain (measured), which made the
    painted lesions much fainter than real ones."""
    if not label.any():
        return image
    box = bounding_box(label, margin=5, shape=label.shape)
    inside = label[box]
    components, count = ndi.label(inside, structure=np.ones((3, 3, 3)))
    median_contrast = rng.uniform(*MEDIAN_CONTRAST)
    relative = rng.uniform(0.6, 1.4, count + 1)
    relative[0] = 0
    # Each voxel near a lesion takes its nearest lesion's contrast.
    nearest = ndi.distance_transform_edt(components == 0, return_distances=False,
                                         return_indices=True)
    per_voxel = relative[components[tuple(nearest)]]
    core = np.minimum(ndi.distance_transform_edt(inside) / 3, 1)
    core_gain = rng.uniform(0, 0.4)
    texture = smooth_noise(inside.shape, 1.5, rng) * rng.uniform(0.03, 0.2)
    white = background.white_matter
    shape = per_voxel * (1 - core_gain + core_gain * core) * (1 + texture)
    region = image[box]
    smooth_region = ndi.gaussian_filter(region, 2)

    sigma = rng.uniform(0.5, 1.4)
    floor = rng.uniform(0.45, 0.8)
    occupancy = ndi.gaussian_filter(inside.astype(np.float32), sigma)
    occupancy = np.where(inside, np.maximum(occupancy, floor), occupancy * rng.uniform(0.5, 1.0))
    noise = ndi.gaussian_filter(rng.standard_normal(inside.shape, dtype=np.float32), 0.6)
    noise *= 0.04 * white / max(float(noise.std()), 1e-6)

    def painted(scale, where=Ellipsis):
        gain = scale * shape[where]
        # Never darker than the tissue it replaces: a lesion in grey matter, brighter than
        # white matter, stays brighter than that grey matter.
        lesion = np.maximum(white * (1 + gain), smooth_region[where] * (1 + 0.5 * gain))
        return region[where] + occupancy[where] * (lesion - region[where] + noise[where])

    # The label's median contrast grows with the scale: bisect for the drawn one.
    low, high = 0.0, 8.0
    for _ in range(40):
        scale = (low + high) / 2
        if np.median(painted(scale, inside)) / white - 1 < median_contrast:
            low = scale
        else:
            high = scale
    image[box] = painted((low + high) / 2)
    recipe["contrast"] = round(float(median_contrast), 3)
    recipe["edge_sigma"] = round(float(sigma), 2)
    return image


def add_head(image, background, rng, recipe):
    """A synthetic CSF rim, skull (dark bone with some marrow) and scalp around the brain."""
    white = background.white_matter
    d = background.outside_mm.astype(np.float32)
    rim, bone, scalp = rng.uniform(1, 3), rng.uniform(3, 7), rng.uniform(3, 8)
    levels = {"rim": rng.uniform(0.1, 0.5), "bone": rng.uniform(0.02, 0.15),
              "marrow": rng.uniform(0.2, 0.9), "scalp": rng.uniform(0.7, 1.6)}

    def step(x):  # a one-voxel-wide smooth step at x
        return np.clip(d - x + 0.5, 0, 1)

    marrow = np.clip(smooth_noise(d.shape, 3.0, rng), 0, None)
    head = (levels["rim"] * (step(0) - step(rim))
            + (levels["bone"] + levels["marrow"] * marrow) * (step(rim) - step(rim + bone))
            + levels["scalp"] * (1 + 0.15 * smooth_noise(d.shape, 2.0, rng))
            * (step(rim + bone) - step(rim + bone + scalp)))
    outside = ~background.brain
    image[outside] = white * head[outside]
    recipe["head"] = {"rim_mm": round(rim, 1), "bone_mm": round(bone, 1),
                      "scalp_mm": round(scalp, 1),
                      **{k: round(float(v), 2) for k, v in levels.items()}}
    return image


def move(image, label, brain, rng, recipe):
    """A small rotation (up to 8 degrees an axis), scaling (0.9-1.1) and shift (5 voxels)."""
    if rng.random() < 0.25:
        return image, label, brain
    angles = np.radians(rng.uniform(-8, 8, size=3))
    matrix = np.diag(rng.uniform(0.9, 1.1, size=3))
    for axis, angle in enumerate(angles):
        a, b = [i for i in range(3) if i != axis]
        rotation = np.eye(3)
        rotation[a, a] = rotation[b, b] = math.cos(angle)
        rotation[a, b], rotation[b, a] = -math.sin(angle), math.sin(angle)
        matrix = rotation @ matrix
    centre = (np.array(image.shape) - 1) / 2
    offset = centre - matrix @ centre + rng.uniform(-5, 5, size=3)
    recipe["moved"] = {"degrees": np.degrees(angles).round(1).tolist()}

    def warp(volume):
        return ndi.affine_transform(volume, matrix, offset, order=1, mode="constant", cval=0.0)

    return warp(image), warp(label), warp(brain)


def scan(image, label, brain, background, rng, recipe):
    """Scanner and protocol: the acquisition's effects on the image; the label stays binary."""
    white = background.white_matter
    label = (label >= 0.5).astype(np.uint8)
    if rng.random() < 0.8:
        image *= bias_field(image.shape, rng.uniform(0.05, 0.35), rng)
    sigma = rng.uniform(0.0, 0.07) * white
    image = np.sqrt((image + sigma * rng.standard_normal(image.shape, dtype=np.float32)) ** 2
                    + (sigma * rng.standard_normal(image.shape, dtype=np.float32)) ** 2)
    recipe["noise"] = round(float(sigma / white), 3)
    if rng.random() < 0.2:
        blur = rng.uniform(0.3, 0.8)
        image = ndi.gaussian_filter(image, (blur, blur, 0))
        recipe["in_plane_blur"] = round(blur, 2)
    if rng.random() < 0.4:
        axis = int(rng.choice(3, p=[0.15, 0.15, 0.7]))
        thickness = int(rng.integers(3, 9))
        gap = int(rng.integers(0, 3)) if rng.random() < 0.3 else 0
        image = thick_slices(image, axis, thickness, gap, rng)
        recipe["thick_slices"] = {"axis": "ijk"[axis], "mm": thickness, "gap_mm": gap}
    if recipe["stripped"] and rng.random() < 0.85:
        image[brain < 0.5] = 0  # skull-stripped: exact zeros outside the brain
    if rng.random() < 0.7:
        gamma = math.exp(rng.uniform(-0.35, 0.35))
        top = max(float(np.percentile(image[brain >= 0.5], 99.5)), 1e-6)
        image = top * np.power(np.clip(image / top, 0, None), gamma)
        recipe["gamma"] = round(gamma, 3)
    affine = background.affine.copy()
    if rng.random() < 0.3:
        keep = [slice(int(s), int(s + e)) for s, e in
                ((rng.integers(0, n - int(f * n) + 1), int(f * n)) for n, f in
                 zip(image.shape, rng.uniform(0.75, 1.0, size=3)))]
        image, label = image[tuple(keep)], label[tuple(keep)]
        affine[:3, 3] += affine[:3, :3] @ np.array([k.start for k in keep])
        recipe["cropped_to"] = list(image.shape)
    return np.ascontiguousarray(image, dtype=np.float32), np.ascontiguousarray(label), affine


def thick_slices(image, axis, thickness, gap, rng):
    """Slabs `thickness` voxels thick every thickness + gap voxels along `axis`, then linear
    interpolation back to every voxel, as a thick-slice scan resampled to 1 mm looks."""
    slabs = ndi.uniform_filter1d(image, thickness, axis=axis, mode="nearest")
    n = image.shape[axis]
    step = thickness + gap
    centres = np.arange(rng.uniform(0, step), n, step)
    sampled = linear_take(slabs, axis, centres)
    # Each output voxel's position in units of slabs, clamped to the first and last slab.
    return linear_take(sampled, axis, np.clip((np.arange(n) - centres[0]) / step, 0,
                                              len(centres) - 1))


def linear_take(volume, axis, positions):
    low = np.floor(positions).astype(int)
    high = np.minimum(low + 1, volume.shape[axis] - 1)
    shape = [1, 1, 1]
    shape[axis] = len(positions)
    w = (positions - low).astype(np.float32).reshape(shape)
    return np.take(volume, low, axis=axis) * (1 - w) + np.take(volume, high, axis=axis) * w


def bias_field(shape, strength, rng):
    """exp of a random polynomial of degree <= 3 in the normalised coordinates, so that the
    field's log spans about +-strength across the volume."""
    axes = [np.linspace(-1, 1, n, dtype=np.float32) for n in shape]
    log_field = np.zeros(shape, dtype=np.float32)
    for i in range(4):
        for j in range(4 - i):
            for k in range(4 - i - j):
                if i + j + k == 0:
                    continue
                c = rng.normal() / (i + j + k)
                log_field += c * (axes[0][:, None, None] ** i * axes[1][None, :, None] ** j
                                  * axes[2][None, None, :] ** k)
    span = float(np.abs(log_field).max())
    return np.exp(log_field * (strength / max(span, 1e-6)))


def smooth_noise(shape, sigma, rng):
    """Gaussian-smoothed white noise of unit standard deviation, made at half resolution."""
    coarse = [max(2, n // 2) for n in shape]
    field = ndi.gaussian_filter(rng.standard_normal(coarse, dtype=np.float32), sigma / 2)
    field = ndi.zoom(field, [n / c for n, c in zip(shape, coarse)], order=1)[
        tuple(slice(0, n) for n in shape)]
    return field / max(float(field.std()), 1e-6)


def bounding_box(mask, margin, shape):
    where = np.argwhere(mask)
    low = np.maximum(where.min(0) - margin, 0)
    high = np.minimum(where.max(0) + margin + 1, shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(low, high))


# --- command line -----------------------------------------------------------------------------

_worker_data = None


def _write_case(job):
    global _worker_data
    folder, data_folder, split, seed, protocol, index = job
    if _worker_data is None:
        _worker_data = OpenMs(data_folder)
    image, label, affine, recipe = make_case(_worker_data, split, seed, index, protocol)
    name = f"case_{index + 1:03d}"
    for sub, volume in (("images", image), ("labels", label)):
        out = nib.Nifti1Image(volume, affine)
        out.header.set_xyzt_units("mm")
        nib.save(out, folder / sub / f"{name}.nii.gz")
    return name, recipe


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder to write (created)")
    parser.add_argument("--cases", type=int, required=True, help="number of cases")
    parser.add_argument("--split", choices=sorted(SPLITS), default="held-out",
                        help="held-out (default: a brain and masks no training case uses) or "
                             "train")
    parser.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"the open_ms folder (default {DEFAULT_DATA}, or $CLS_OPEN_MS)")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="varied",
                        help="varied (default: " + PROTOCOLS["varied"] + ") or clean ("
                             + PROTOCOLS["clean"] + ")")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args()
    if args.cases < 1 or args.jobs < 1:
        sys.exit("error: --cases and --jobs must be at least 1")
    try:
        OpenMs(args.data)
    except FileNotFoundError as error:
        sys.exit(f"error: {error}")
    for sub in ("images", "labels"):
        (args.out / sub).mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    jobs = [(args.out, args.data, args.split, args.seed, args.protocol, i) for i in range(args.cases)]
    recipes = {}
    with multiprocessing.Pool(args.jobs) as pool:
        for name, recipe in pool.imap(_write_case, jobs):
            recipes[name] = recipe
            print(f"{name}: {recipe['background']}, {recipe['lesion_voxels']} lesion voxels",
                  flush=True)
    (args.out / "cases.json").write_text(json.dumps({
        "generator": "scripts/generate_ms_cases.py",
        "command": " ".join(["/usr/bin/python3", "scripts/generate_ms_cases.py", *sys.argv[1:]]),
        "split": args.split, "seed": args.seed, "protocol": args.protocol, "data": CITATION, "cases": recipes}, indent=1)
        + "\n")
    print(f"wrote {args.cases} cases to {args.out} in {time.perf_counter() - started:.0f} s "
          f"(data: {CITATION})")


if __name__ == "__main__":
    main()
