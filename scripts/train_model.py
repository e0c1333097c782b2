#!/usr/bin/python3
"""Trains the bundled lesion-segmentation model (models/cls_unet.onnx and its manifest).

A small 3D U-Net is trained on FLAIR cases made from real MS brains by
`scripts/generate_ms_cases.py` (split `train`: the brains of patient07 and patient19, lesions
inpainted, with the real lesions of 24 other patients painted in, and scanner and protocol
augmentations; Lesjak et al. 2017, CC-BY), mixed with the project's own synthetic heads
(`cls synth --kind scans`). It is exported to ONNX with WebGPU-safe operators only: strided
convolutions to go down, trilinear Resize + convolution to go up, instance normalisation,
Relu, Concat. The graph outputs one channel of logits; the manifest says `activation:
sigmoid`, applied by the app. Then `scripts/evaluate_model.py --record` measures it through
the app's own inference path and writes the figures into the manifest.

Instance normalisation is exported as nested per-axis means (ReduceMean over W, then H, then
D) rather than ONNX's InstanceNormalization: the same function, but ONNX Runtime Web's wasm
InstanceNormalization sums a whole patch in float32 and drifts from onnxruntime-node by up to
2.6e-3 in the logits at 64^3; sums of at most one axis keep the runtimes together.
`--weights-from models/cls_unet.onnx` re-exports a trained model's weights without training.

Needs build/native/cls (scripts/build.sh native-release cls), the open_ms data
(shared/data/open_ms, or --data / CLS_OPEN_MS), and Debian's Python with torch 1.13, onnx,
numpy, scipy and nibabel: run it with /usr/bin/python3. The evaluation also needs
build/wasm/wasm/cls_infer.js and onnxruntime-node (see evaluate_model.py). Seeded and
reproducible for a given machine and torch build.

Tensor axes: the network sees [N, C, D, H, W] = [1, 1, k, j, i], where i is the NIfTI file's
first (fastest) axis; nibabel's arrays are [i, j, k], so they are transposed on the way in.
Intensities are z-scored over the whole volume (mean and population standard deviation in
float64) before any patch is cut, exactly as inference does.
"""
import os

# Sleeping, not spinning, OpenMP threads: on 2 cores shared with other work, spinning threads
# made a step 5-10x slower (1.2 s against 6-12 s a step, measured); alone, no difference.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402 (after the OpenMP setting, which torch reads when it loads)
import copy
import hashlib
import json
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from multiprocessing import Pool
from pathlib import Path

import nibabel as nib
import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

import evaluate_model
import generate_ms_cases as ms

ROOT = Path(__file__).resolve().parent.parent
PATCH = 48            # training patch edge, also the manifest's patch size
BATCH = 2             # patches per step
GENERATED_SEED = 1001  # generate_ms_cases.py train split
SYNTHETIC_SEEDS = {48: 1001, 64: 1002}  # cls synth --kind scans, as the earlier model
DIVISOR = 8           # three stride-2 down-samplings
WEBGPU_SAFE_OPS = {"Conv", "InstanceNormalization", "Relu", "Resize", "Concat", "Constant",
                   "Shape", "Gather", "Cast", "Slice", "Mul", "Div", "Unsqueeze", "Identity",
                   "ReduceMean", "Sub", "Add", "Sqrt"}
REFUSED_OPS = {"ConvTranspose", "MaxPool"}  # fail on ORT Web's WebGPU provider (toolchain.md)


# --- data -----------------------------------------------------------------------------------

def synthesise(cls, out, cases, size, seed):
    subprocess.run([str(cls), "synth", "--kind", "scans", "--cases", str(cases), "--size",
                    str(size), "--seed", str(seed), "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def zscore(volume):
    """The manifest's normalisation: z-score over all voxels, statistics in float64."""
    x = volume.astype(np.float64)
    mean, std = x.mean(), x.std()
    return ((x - mean) / max(std, 1e-8)).astype(np.float32)


def load_set(folder):
    """Normalised images and labels as [k, j, i] arrays (the network's D, H, W), by name."""
    cases = []
    for path in sorted((folder / "images").glob("*.nii.gz")):
        image = nib.load(path).get_fdata(dtype=np.float32)
        label = nib.load(folder / "labels" / path.name).get_fdata(dtype=np.float32)
        cases.append(training_case(image, label > 0.5))
    return cases


def training_case(image, label):
    """A case as training uses it, from nibabel's [i, j, k] arrays: the z-scored image and the
    label as the network's [k, j, i], the lesion voxels, and the box of non-background voxels
    (those above the normalised minimum) for foreground-centred patches."""
    image = zscore(image).transpose(2, 1, 0)
    label = label.transpose(2, 1, 0)
    foreground = image > image.min() + 1e-3
    box = ([0, 0, 0], [n - 1 for n in image.shape])
    if foreground.any():
        spans = [np.flatnonzero(foreground.any(axis=tuple(a for a in range(3) if a != axis)))
                 for axis in range(3)]
        box = ([int(x[0]) for x in spans], [int(x[-1]) for x in spans])
    return {"image": np.ascontiguousarray(image.astype(np.float16)),
            "label": np.ascontiguousarray(label), "box": box,
            "lesion_voxels": np.argwhere(label).astype(np.int16)}


_open_ms = None


def generated_case(job):
    """Case `index` of generate_ms_cases.py's train split (in a worker process)."""
    global _open_ms
    folder, seed, index = job
    if _open_ms is None:
        _open_ms = ms.OpenMs(folder)
    image, label, _, recipe = ms.make_case(_open_ms, "train", seed, index)
    return training_case(image, label > 0), recipe


def pad_to(array, edge, value):
    """Pads each axis at the end up to `edge` voxels (no-op for volumes at least that big)."""
    pad = [(0, max(0, edge - s)) for s in array.shape]
    return np.pad(array, pad, constant_values=value) if any(p for _, p in pad) else array


def sample_patch(case, rng):
    """A 48^3 patch: centred (+-8 voxels) on a lesion voxel 40% of the time (when there is
    one), on a random point of the head or brain's box 45% of the time, anywhere otherwise;
    then random flips on every axis."""
    image = pad_to(case["image"], PATCH, case["image"].min())
    label = pad_to(case["label"], PATCH, False)
    shape = np.array(image.shape)
    where = rng.random()
    if where < 0.4 and case["lesion_voxels"].shape[0] > 0:
        centre = case["lesion_voxels"][rng.integers(case["lesion_voxels"].shape[0])]
        start = centre - PATCH // 2 + rng.integers(-8, 9, size=3)
    elif where < 0.85:
        low, high = case["box"]
        start = np.array([rng.integers(a, b + 1) for a, b in zip(low, high)]) - PATCH // 2
    else:
        start = np.array([rng.integers(0, s - PATCH + 1) for s in shape])
    start = np.clip(start, 0, shape - PATCH)
    box = tuple(slice(s, s + PATCH) for s in start)
    x, y = image[box], label[box]
    for axis in range(3):
        if rng.random() < 0.5:
            x, y = np.flip(x, axis), np.flip(y, axis)
    return np.ascontiguousarray(x, dtype=np.float32), np.ascontiguousarray(y, dtype=np.float32)


# --- model ----------------------------------------------------------------------------------

def conv(cin, cout, stride=1, kernel=3):
    return nn.Sequential(
        nn.Conv3d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.InstanceNorm3d(cout, affine=True), nn.ReLU(inplace=True))


class ExportInstanceNorm(nn.Module):
    """nn.InstanceNorm3d(affine=True) with its statistics taken as nested per-axis means, for
    export: every sum in the runtime then covers one axis (<= a patch edge) of values."""

    def __init__(self, norm):
        super().__init__()
        self.weight, self.bias, self.eps = norm.weight, norm.bias, norm.eps

    @staticmethod
    def nested_mean(x):
        return x.mean(4, keepdim=True).mean(3, keepdim=True).mean(2, keepdim=True)

    def forward(self, x):
        centred = x - self.nested_mean(x)
        variance = self.nested_mean(centred * centred)  # biased, as InstanceNorm3d's
        scale = self.weight.view(1, -1, 1, 1, 1) / torch.sqrt(variance + self.eps)
        return centred * scale + self.bias.view(1, -1, 1, 1, 1)


def for_export(model):
    """A copy of `model` whose instance norms are ExportInstanceNorm."""
    exported = copy.deepcopy(model)
    for module in exported.modules():
        for name, child in module.named_children():
            if isinstance(child, nn.InstanceNorm3d):
                setattr(module, name, ExportInstanceNorm(child))
    return exported


def weights_from_onnx(model, path):
    """Loads a model's weights back from an ONNX file this script exported (its initializers
    keep the parameter names)."""
    from onnx import numpy_helper
    initializers = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    state = model.state_dict()
    missing = [name for name in state if name not in initializers]
    if missing:
        sys.exit(f"error: {path} lacks weights {missing[:3]}...: not exported by this script?")
    model.load_state_dict({name: torch.from_numpy(initializers[name].copy()) for name in state})


class Up(nn.Module):
    """Trilinear up-sampling then a 1x1x1 convolution: WebGPU-safe, unlike ConvTranspose."""

    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="trilinear", align_corners=False)
        self.conv = conv(cin, cout, kernel=1)

    def forward(self, x):
        return self.conv(self.up(x))


class UNet(nn.Module):
    """Three stride-2 down-samplings (spatial sizes must be multiples of 8), one logit out."""

    def __init__(self, base):
        super().__init__()
        c = [base, 2 * base, 4 * base, 8 * base]
        self.enc0 = nn.Sequential(conv(1, c[0]), conv(c[0], c[0]))
        self.enc1 = nn.Sequential(conv(c[0], c[1], stride=2), conv(c[1], c[1]))
        self.enc2 = nn.Sequential(conv(c[1], c[2], stride=2), conv(c[2], c[2]))
        self.enc3 = nn.Sequential(conv(c[2], c[3], stride=2), conv(c[3], c[3]))
        self.up2, self.dec2 = Up(c[3], c[2]), conv(2 * c[2], c[2])
        self.up1, self.dec1 = Up(c[2], c[1]), conv(2 * c[1], c[1])
        self.up0, self.dec0 = Up(c[1], c[0]), conv(2 * c[0], c[0])
        self.head = nn.Conv3d(c[0], 1, 1)

    def forward(self, x):
        e0 = self.enc0(x)
        e1 = self.enc1(e0)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        d2 = self.dec2(torch.cat([self.up2(e3), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        d0 = self.dec0(torch.cat([self.up0(d1), e0], 1))
        return self.head(d0)


def loss_fn(logits, target):
    """BCE plus soft Dice over the batch (smoothed, so lesion-free patches are defined)."""
    bce = F.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits)
    dice = (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)
    return bce + (1 - dice)


# --- export ---------------------------------------------------------------------------------

def export(model, path):
    model = for_export(model).eval()
    # Expected with InstanceNorm (it always uses the instance's statistics, as intended) and
    # harmless for Upsample's constant scales.
    warnings.filterwarnings("ignore", message=".*'instance_norm' is set to train=True.*")
    warnings.filterwarnings("ignore", message=".*shape inference of prim::Constant.*")
    axes = {2: "depth", 3: "height", 4: "width"}
    torch.onnx.export(model, torch.zeros(1, 1, PATCH, PATCH, PATCH), str(path), opset_version=17,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": axes, "logits": axes}, do_constant_folding=True)
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    ops = sorted({node.op_type for node in graph.graph.node})
    if REFUSED_OPS & set(ops):
        sys.exit(f"error: {path} uses {sorted(REFUSED_OPS & set(ops))}, which fail on WebGPU")
    if not set(ops) <= WEBGPU_SAFE_OPS:
        sys.exit(f"error: {path} uses unexpected op types {sorted(set(ops) - WEBGPU_SAFE_OPS)}")
    return ops


def forward_seconds(model, threads=1, repeats=5):
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    x = torch.zeros(1, 1, PATCH, PATCH, PATCH)
    model.eval()
    with torch.no_grad():
        model(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    torch.set_num_threads(previous)
    return float(np.median(times))


def train_model(model, generated, synthetic, args, rng):
    """AdamW with warm-up and cosine decay on BCE + soft Dice; returns the seconds it took.
    Each patch comes from a synthetic head with probability --synthetic-share, otherwise from
    a generated real-brain case."""
    parameters = sum(p.numel() for p in model.parameters())
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    warmup = 50
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) *
        0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    print(f"model: 3D U-Net, {parameters} parameters; {args.steps} steps of {BATCH} patches of "
          f"{PATCH}^3 on {args.threads} threads", flush=True)

    model.train()
    train_start = time.perf_counter()
    running = 0.0
    for step in range(1, args.steps + 1):
        batch = []
        for _ in range(BATCH):
            cases = synthetic if rng.random() < args.synthetic_share else generated
            batch.append(sample_patch(cases[rng.integers(len(cases))], rng))
        x = torch.from_numpy(np.stack([b[0] for b in batch])[:, None])
        y = torch.from_numpy(np.stack([b[1] for b in batch])[:, None])
        loss = loss_fn(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        running += loss.item()
        if step % 100 == 0 or step == args.steps:
            elapsed = time.perf_counter() - train_start
            since = 100 if step % 100 == 0 else step % 100
            print(f"step {step}/{args.steps}: loss {running / since:.4f}, {elapsed:.0f} s, "
                  f"{elapsed / step:.2f} s/step", flush=True)
            running = 0.0
    training_seconds = time.perf_counter() - train_start
    print(f"training took {training_seconds:.0f} s ({training_seconds / 60:.1f} min)", flush=True)
    return training_seconds


def make_data(args, work):
    """The generated real-brain cases (in --jobs processes) and the synthetic heads."""
    started = time.perf_counter()
    with Pool(args.jobs) as pool:
        made = pool.map(generated_case, [(args.data, GENERATED_SEED, i)
                                         for i in range(args.generated_cases)])
    generated = [case for case, _ in made]
    recipes = [recipe for _, recipe in made]
    synthetic = []
    for size, seed in SYNTHETIC_SEEDS.items():
        synthetic += load_set(synthesise(args.cls, work / f"synth{size}", args.synthetic_cases,
                                         size, seed))
    lesion_free = sum(1 for r in recipes if r["lesion_voxels"] == 0)
    print(f"data: {len(generated)} generated real-brain cases ({lesion_free} lesion-free, "
          f"{sum(1 for r in recipes if not r['stripped'])} with a head, "
          f"{sum(1 for r in recipes if 'thick_slices' in r)} with thick slices) and "
          f"{len(synthetic)} synthetic heads in {time.perf_counter() - started:.0f} s",
          flush=True)
    return generated, synthetic


# --- main -----------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cls", type=Path, default=ROOT / "build/native/cls",
                        help="the cls tool (default build/native/cls; build it with "
                             "scripts/build.sh native-release cls)")
    parser.add_argument("--data", type=Path, default=ms.DEFAULT_DATA,
                        help=f"the open_ms folder (default {ms.DEFAULT_DATA}, or $CLS_OPEN_MS)")
    parser.add_argument("--out", type=Path, default=ROOT / "models",
                        help="where cls_unet.onnx and cls_unet.json go (default models/)")
    parser.add_argument("--steps", type=int, default=3000, help="optimiser steps (default 3000)")
    parser.add_argument("--seed", type=int, default=2026, help="torch/numpy/python seed")
    parser.add_argument("--generated-cases", type=int, default=60,
                        help="real-brain training cases from generate_ms_cases.py (default 60)")
    parser.add_argument("--synthetic-cases", type=int, default=80,
                        help="synthetic heads per size, 48^3 and 64^3 (default 80)")
    parser.add_argument("--synthetic-share", type=float, default=0.15,
                        help="share of patches from synthetic heads (default 0.15)")
    parser.add_argument("--base", type=int, default=8,
                        help="channels at full resolution, doubled at each level (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="processes that generate the data (default 2)")
    parser.add_argument("--evaluate", default=",".join(evaluate_model.SETS),
                        help="evaluate_model.py sets to measure and record after export "
                             "(default all; '' for none)")
    parser.add_argument("--weights-from", type=Path,
                        help="skip training: take the weights of an ONNX model this script "
                             "exported (and its manifest's training record), then export")
    args = parser.parse_args()
    if not args.cls.is_file() or not os.access(args.cls, os.X_OK):
        sys.exit(f"error: {args.cls} not found: this script needs the cls tool to make its data; "
                 "build it first with scripts/build.sh native-release cls")
    try:
        ms.OpenMs(args.data)
    except FileNotFoundError as error:
        sys.exit(f"error: {error}")

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)

    work = Path(tempfile.mkdtemp(prefix="cls_train_"))
    try:
        started = time.perf_counter()
        if args.weights_from:
            args.base = json.loads(args.weights_from.with_suffix(".json").read_text())[
                "provenance"].get("base_channels", 12)
        model = UNet(base=args.base)
        parameters = sum(p.numel() for p in model.parameters())
        if args.weights_from:
            weights_from_onnx(model, args.weights_from)
            record = json.loads(args.weights_from.with_suffix(".json").read_text())["provenance"]
            training_seconds, args.steps, args.seed = (record["training_seconds"], record["steps"],
                                                       record["seed"])
            print(f"model: weights from {args.weights_from} ({record['command']}, "
                  f"{args.steps} steps, {training_seconds:.0f} s of training)", flush=True)
        else:
            generated, synthetic = make_data(args, work)
            training_seconds = train_model(model, generated, synthetic, args, rng)
            del generated, synthetic

        args.out.mkdir(parents=True, exist_ok=True)
        onnx_path = args.out / "cls_unet.onnx"
        ops = export(model, onnx_path)
        digest = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
        seconds_48 = forward_seconds(model, threads=1)
        print(f"ONNX op types: {', '.join(ops)}")
        print(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes, sha256 {digest}); "
              f"48^3 forward in torch, 1 thread: {seconds_48:.3f} s")

        data = (f"{args.generated_cases} cases of scripts/generate_ms_cases.py's train split "
                f"(seed {GENERATED_SEED}): the brains of open_ms patient07 and patient19, "
                f"lesions inpainted, with the real lesions of 24 other patients' consensus masks "
                f"painted in, and scanner and protocol augmentations; {ms.CITATION}. Mixed "
                f"({args.synthetic_share:.0%} of patches) with cls synth --kind scans: "
                f"{args.synthetic_cases} cases of 48^3 (seed {SYNTHETIC_SEEDS[48]}) and "
                f"{args.synthetic_cases} of 64^3 (seed {SYNTHETIC_SEEDS[64]}). Held out: "
                f"patient26's brain and lesions, and the masks of {', '.join(ms.HELD_OUT_MASKS)}")
        command = "/usr/bin/python3 scripts/train_model.py" + "".join(
            f" {a}" for a in sys.argv[1:])
        exported_by = command
        if args.weights_from:
            command = record["command"]  # the training run these weights come from
            data = record["data"]
        manifest = {
            "format": "cls-model/1",
            "name": "cls-ms-flair-unet",
            "description": "A small 3D U-Net that segments bright lesions in FLAIR at 1 mm, "
                           "trained on MS lesions painted into real brains (open_ms, Lesjak et "
                           "al. 2017, CC-BY) and on synthetic heads; a demo, no clinical tool.",
            "model_file": onnx_path.name,
            "sha256": digest,
            "input": {"name": "image", "channels": 1},
            "output": {"name": "logits", "channels": 1, "activation": "sigmoid"},
            "patch_size": [PATCH, PATCH, PATCH],
            "spatial_divisor": DIVISOR,
            "spacing_mm": [1.0, 1.0, 1.0],
            "normalisation": {"scheme": "zscore", "region": "all"},
            # A patch without one non-zero voxel (the air of a skull-stripped scan) is
            # answered "no lesion" unrun: no voxel inside the non-zero region changes (none lies
            # in such a patch), and a 182x218x182 MNI brain skips 77-89 of its 441 patches.
            "skip_background": "nonzero",
            "provenance": {
                "training_script": "scripts/train_model.py",
                "command": command,
                "seed": args.seed,
                "data": data,
                "citation": ms.CITATION,
                "torch": torch.__version__,
                "parameters": parameters,
                "base_channels": args.base,
                "steps": args.steps,
                "batch": BATCH,
                "training_seconds": round(training_seconds, 1),
                "exported_by": exported_by,
                "instance_norm": "exported as nested per-axis ReduceMean, not "
                                 "InstanceNormalization (see the script's docstring)",
            },
        }
        manifest_path = args.out / "cls_unet.json"
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"wrote {manifest_path}; {time.perf_counter() - started:.0f} s so far", flush=True)

        sets = [s for s in args.evaluate.split(",") if s]
        if sets:
            results = evaluate_model.evaluate(manifest_path, sets, args.data, args.cls,
                                              threads=args.threads)
            evaluate_model.record(manifest_path, results,
                                  "/usr/bin/python3 scripts/evaluate_model.py --sets "
                                  + ",".join(sets) + " --record (called by train_model.py)")
            print(f"recorded the evaluation in {manifest_path}")
        print(f"total wall time {time.perf_counter() - started:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
