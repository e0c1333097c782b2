#!/usr/bin/python3
"""Trains the bundled lesion-segmentation model (models/cls_unet.onnx and its manifest).

A small 3D U-Net is trained on FLAIR-like synthetic scans made by the project's own generator
(`cls synth --kind scans`), evaluated on held-out synthetic cases and on the app's demo set
(seed 7), and exported to ONNX with WebGPU-safe operators only: strided convolutions to go
down, trilinear Resize + convolution to go up, instance normalisation, Relu, Concat. The graph
outputs one channel of logits; the manifest says `activation: sigmoid`, applied by the app.

Instance normalisation is exported as nested per-axis means (ReduceMean over W, then H, then
D) rather than ONNX's InstanceNormalization: the same function, but ONNX Runtime Web's wasm
InstanceNormalization sums a whole patch in float32 and drifts from onnxruntime-node by up to
2.6e-3 in the logits at 64^3; sums of at most one axis keep the runtimes together.
`--weights-from models/cls_unet.onnx` re-exports (and re-evaluates) a trained model's weights
without training again.

Needs build/native/cls (build it with `scripts/build.sh native-release cls`) and Debian's
Python with torch 1.13, onnx, numpy and nibabel: run it with /usr/bin/python3. Seeded and
reproducible for a given machine and torch build; about 16 minutes of training on 2 idle
cores (0.37-0.39 s per step), several times longer while the cores are shared.

Tensor axes: the network sees [N, C, D, H, W] = [1, 1, k, j, i], where i is the NIfTI file's
first (fastest) axis; nibabel's arrays are [i, j, k], so they are transposed on the way in.
Intensities are z-scored over the whole volume (mean and population standard deviation in
float64) before any patch is cut, exactly as inference does.
"""
import argparse
import copy
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
PATCH = 48            # training patch edge, also the manifest's patch size
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
        image = nib.load(path).get_fdata(dtype=np.float32).transpose(2, 1, 0)
        label = nib.load(folder / "labels" / path.name).get_fdata(dtype=np.float32)
        cases.append({"name": path.name, "image": np.ascontiguousarray(zscore(image)),
                      "label": np.ascontiguousarray(label.transpose(2, 1, 0) > 0.5)})
    return cases


def pad_to(array, edge, value):
    """Pads each axis at the end up to `edge` voxels (no-op for volumes at least that big)."""
    pad = [(0, max(0, edge - s)) for s in array.shape]
    return np.pad(array, pad, constant_values=value) if any(p for _, p in pad) else array


def sample_patch(case, rng, lesion_centred):
    image = pad_to(case["image"], PATCH, case["image"].min())
    label = pad_to(case["label"], PATCH, False)
    shape = np.array(image.shape)
    if lesion_centred and case["lesion_voxels"].shape[0] > 0:
        centre = case["lesion_voxels"][rng.integers(case["lesion_voxels"].shape[0])]
        start = centre - PATCH // 2 + rng.integers(-8, 9, size=3)
    else:
        start = np.array([rng.integers(0, s - PATCH + 1) for s in shape])
    start = np.clip(start, 0, shape - PATCH)
    box = tuple(slice(s, s + PATCH) for s in start)
    x, y = image[box], label[box]
    for axis in range(3):
        if rng.random() < 0.5:
            x, y = np.flip(x, axis), np.flip(y, axis)
    return np.ascontiguousarray(x), np.ascontiguousarray(y, dtype=np.float32)


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

    def __init__(self, base=12):
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


# --- evaluation -----------------------------------------------------------------------------

def probabilities(model, image):
    """Whole-volume inference (no sliding window): sizes here are multiples of 8."""
    assert all(s % DIVISOR == 0 for s in image.shape), image.shape
    with torch.no_grad():
        return torch.sigmoid(model(torch.from_numpy(image)[None, None]))[0, 0].numpy()


def score(model, cases):
    """Per case at p >= 0.5: edge, true-positive, predicted and lesion voxel counts."""
    model.eval()
    scores = []
    for case in cases:
        pred = probabilities(model, case["image"]) >= 0.5
        label = case["label"]
        scores.append((case["image"].shape[0], int((pred & label).sum()), int(pred.sum()),
                       int(label.sum())))
    return scores


def summarise(scores):
    """Mean per-case Dice, global Dice and per-case FNR quantiles (lesion cases only). A case
    with an empty label and an empty prediction has Dice 1; with an empty label and any
    predicted voxel, Dice 0."""
    dices = [1.0 if p + l == 0 else 2 * tp / (p + l) for _, tp, p, l in scores]
    fnrs = [1 - tp / l for _, tp, _, l in scores if l > 0]
    tp, p, l = (sum(s[i] for s in scores) for i in (1, 2, 3))
    q = np.quantile(fnrs, [0, 0.25, 0.5, 0.75, 1]) if fnrs else [math.nan] * 5
    return {"cases": len(scores), "lesion_cases": len(fnrs), "mean_dice": float(np.mean(dices)),
            "global_dice": 2 * tp / max(p + l, 1),
            "fnr": dict(zip(["min", "q1", "median", "q3", "max"], map(float, q))),
            "dices": dices, "fnrs": fnrs}


def describe(title, m):
    f = m["fnr"]
    return (f"{title}: {m['cases']} cases ({m['lesion_cases']} with lesions): mean Dice@0.5 "
            f"{m['mean_dice']:.3f}, global Dice@0.5 {m['global_dice']:.3f}, per-case FNR@0.5 "
            f"min {f['min']:.3f} q1 {f['q1']:.3f} median {f['median']:.3f} q3 {f['q3']:.3f} "
            f"max {f['max']:.3f}")


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


def train_model(model, train, args, rng):
    """AdamW with warm-up and cosine decay on BCE + soft Dice; returns the seconds it took."""
    parameters = sum(p.numel() for p in model.parameters())
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    warmup = 50
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) *
        0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    print(f"model: 3D U-Net, {parameters} parameters; {args.steps} steps of 2 patches of "
          f"{PATCH}^3 on {args.threads} threads", flush=True)

    model.train()
    train_start = time.perf_counter()
    running = 0.0
    for step in range(1, args.steps + 1):
        batch = [sample_patch(train[rng.integers(len(train))], rng, rng.random() < 0.5)
                 for _ in range(2)]
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


# --- main -----------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cls", type=Path, default=ROOT / "build/native/cls",
                        help="the cls tool (default build/native/cls; build it with "
                             "scripts/build.sh native-release cls)")
    parser.add_argument("--out", type=Path, default=ROOT / "models",
                        help="where cls_unet.onnx and cls_unet.json go (default models/)")
    parser.add_argument("--steps", type=int, default=2400, help="optimiser steps (default 2400)")
    parser.add_argument("--seed", type=int, default=2026, help="torch/numpy/python seed")
    parser.add_argument("--train-cases", type=int, default=160,
                        help="training cases per volume size (48^3 and 64^3; default 160)")
    parser.add_argument("--held-out-cases", type=int, default=24,
                        help="held-out cases per volume size (default 24)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--weights-from", type=Path,
                        help="skip training: take the weights of an ONNX model this script "
                             "exported (and its manifest's training record), evaluate, export")
    args = parser.parse_args()
    if not args.cls.is_file() or not os.access(args.cls, os.X_OK):
        sys.exit(f"error: {args.cls} not found: this script needs the cls tool to make its data; "
                 "build it first with scripts/build.sh native-release cls")

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)

    # Seeds of the synthetic sets; seed 7 is the app's demo set, used only for reporting.
    train_seeds = {48: 1001, 64: 1002}
    held_out_seeds = {48: 2001, 64: 2002}
    demo = {"seed": 7, "cases": 24, "size": 48}
    work = Path(tempfile.mkdtemp(prefix="cls_train_"))
    try:
        started = time.perf_counter()
        train, held_out = [], []
        for size in (48, 64):
            if not args.weights_from:
                train += load_set(synthesise(args.cls, work / f"train{size}", args.train_cases,
                                             size, train_seeds[size]))
            held_out += load_set(synthesise(args.cls, work / f"held{size}", args.held_out_cases,
                                            size, held_out_seeds[size]))
        demo_set = load_set(synthesise(args.cls, work / "demo", demo["cases"], demo["size"],
                                       demo["seed"]))
        for case in train:
            case["lesion_voxels"] = np.argwhere(case["label"])
        print(f"data: {len(train)} training, {len(held_out)} held-out, {len(demo_set)} demo cases "
              f"in {time.perf_counter() - started:.0f} s", flush=True)

        model = UNet(base=12)
        parameters = sum(p.numel() for p in model.parameters())
        if args.weights_from:
            weights_from_onnx(model, args.weights_from)
            record = json.loads(args.weights_from.with_suffix(".json").read_text())["provenance"]
            training_seconds, args.steps, args.seed = (record["training_seconds"], record["steps"],
                                                       record["seed"])
            print(f"model: weights from {args.weights_from} ({record['command']}, "
                  f"{args.steps} steps, {training_seconds:.0f} s of training)", flush=True)
        else:
            training_seconds = train_model(model, train, args, rng)

        held_out_scores = score(model, held_out)
        metrics = summarise(held_out_scores)
        demo_metrics = summarise(score(model, demo_set))
        by_size = {size: summarise([s for s in held_out_scores if s[0] == size])
                   for size in (48, 64)}
        print(describe("held-out", metrics))
        for size, m in by_size.items():
            print(describe(f"  held-out {size}^3", m))
        print(describe("demo set (seed 7, 48^3)", demo_metrics))
        print("demo per-case Dice:", " ".join(f"{d:.2f}" for d in demo_metrics["dices"]))
        print("demo per-case FNR:", " ".join(f"{f:.2f}" for f in demo_metrics["fnrs"]))

        args.out.mkdir(parents=True, exist_ok=True)
        onnx_path = args.out / "cls_unet.onnx"
        ops = export(model, onnx_path)
        digest = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
        seconds_48 = forward_seconds(model, threads=1)
        print(f"ONNX op types: {', '.join(ops)}")
        print(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes, sha256 {digest}); "
              f"48^3 forward in torch, 1 thread: {seconds_48:.3f} s")

        data = (f"cls synth --kind scans: {args.train_cases} cases of 48^3 (seed "
                f"{train_seeds[48]}) and {args.train_cases} of 64^3 (seed {train_seeds[64]}) "
                f"for training; held out: {args.held_out_cases} of 48^3 (seed "
                f"{held_out_seeds[48]}) and {args.held_out_cases} of 64^3 (seed "
                f"{held_out_seeds[64]})")
        command = "/usr/bin/python3 scripts/train_model.py" + "".join(
            f" {a}" for a in sys.argv[1:])
        exported_by = command
        if args.weights_from:
            command = record["command"]  # the training run these weights come from
        manifest = {
            "format": "cls-model/1",
            "name": "cls-synthetic-unet",
            "description": "A small 3D U-Net that segments bright lesions in FLAIR-like "
                           "synthetic scans; a demo, trained on synthetic data only and no "
                           "clinical tool.",
            "model_file": onnx_path.name,
            "sha256": digest,
            "input": {"name": "image", "channels": 1},
            "output": {"name": "logits", "channels": 1, "activation": "sigmoid"},
            "patch_size": [PATCH, PATCH, PATCH],
            "spatial_divisor": DIVISOR,
            "spacing_mm": [1.0, 1.0, 1.0],
            "normalisation": {"scheme": "zscore", "region": "all"},
            "provenance": {
                "training_script": "scripts/train_model.py",
                "command": command,
                "seed": args.seed,
                "data": data,
                "torch": torch.__version__,
                "parameters": parameters,
                "steps": args.steps,
                "training_seconds": round(training_seconds, 1),
                "exported_by": exported_by,
                "instance_norm": "exported as nested per-axis ReduceMean, not "
                                 "InstanceNormalization (see the script's docstring)",
                "held_out": {
                    "cases": metrics["cases"],
                    "mean_dice_at_0.5": round(metrics["mean_dice"], 4),
                    "global_dice_at_0.5": round(metrics["global_dice"], 4),
                    "fnr_at_0.5": {k: round(metrics["fnr"][k], 4)
                                   for k in ("min", "median", "max")},
                },
            },
        }
        manifest_path = args.out / "cls_unet.json"
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"wrote {manifest_path}")
        print(f"total wall time {time.perf_counter() - started:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
