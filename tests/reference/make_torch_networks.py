#!/usr/bin/python3
"""Two 3D segmentation networks in the form users bring them, exported to ONNX (opset 17) by
torch.onnx.export as the frameworks do: random weights, since this is about compatibility.

- nnunet_plain: nnU-Net v2's default 3D PlainConvUNet (dynamic_network_architectures'
  PlainConvUNet with nnU-Net's 3d_fullres defaults): per stage two of Conv3d 3x3x3 (bias) ->
  InstanceNorm3d(eps 1e-5, affine) -> LeakyReLU(0.01), the first conv of a stage strided to go
  down; up by ConvTranspose3d with kernel = stride (bias), concatenated with the skip, two
  convs, and a 1x1x1 segmentation head; no deep supervision at export. Features double per
  stage up to 320. The second stage's stride is (1, 2, 2), as nnU-Net plans for anisotropic
  data, so the rewrite's anisotropic case is exercised too.
- monai_residual: MONAI's UNet with num_res_units=2 (monai.networks.nets.UNet, its defaults:
  instance norm, PReLU, kernel 3): residual units down (two strided subunits and a strided
  residual conv), up by ConvTranspose3d with kernel 3, stride 2, padding 1, output padding 1
  (the shape ONNX Runtime Web's WebGPU provider cannot run, and no 1x1x1 rewrite covers), then
  instance norm and PReLU, then one residual subunit; the top one ends in a plain conv.

Both take 4 channels and give 4 classes of logits (--in-channels, --classes change that: the
app's single-channel manifests need 1 and 1); spatial axes (and the batch) are dynamic.
Writes OUT/nnunet_plain.onnx, OUT/monai_residual.onnx and OUT/networks.json (input and
output names, channels, parameter counts, the divisor the spatial size must be a multiple of).

Usage: make_torch_networks.py OUT [--features F] [--stages S] [--in-channels C] [--classes K]
                               [--seed N]
Needs Debian's torch (python3-torch 1.13): run with /usr/bin/python3.
"""
import argparse
import json
import os
import warnings

import torch
import torch.nn as nn

IN_CHANNELS = 4  # set from the command line before any network is built
CLASSES = 4


def conv_norm_act(cin, cout, stride):
    return nn.Sequential(
        nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=True),
        nn.InstanceNorm3d(cout, eps=1e-5, affine=True),
        nn.LeakyReLU(0.01, inplace=True))


def stage_strides(stages):
    # nnU-Net's plans for anisotropic data: the first down-step keeps the slice axis.
    return [(1, 1, 1), (1, 2, 2)] + [(2, 2, 2)] * (stages - 2)


class PlainConvUNet(nn.Module):
    def __init__(self, features, stages):
        super().__init__()
        widths = [min(features * 2 ** s, 320) for s in range(stages)]
        strides = stage_strides(stages)
        self.encoder = nn.ModuleList()
        cin = IN_CHANNELS
        for width, stride in zip(widths, strides):
            self.encoder.append(nn.Sequential(conv_norm_act(cin, width, stride),
                                              conv_norm_act(width, width, 1)))
            cin = width
        self.up = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for s in range(stages - 1, 0, -1):
            self.up.append(nn.ConvTranspose3d(widths[s], widths[s - 1], strides[s],
                                              stride=strides[s], bias=True))
            self.decoder.append(nn.Sequential(conv_norm_act(2 * widths[s - 1], widths[s - 1], 1),
                                              conv_norm_act(widths[s - 1], widths[s - 1], 1)))
        self.head = nn.Conv3d(widths[0], CLASSES, 1, bias=True)

    def forward(self, x):
        skips = []
        for stage in self.encoder:
            x = stage(x)
            skips.append(x)
        x = skips.pop()
        for up, decode in zip(self.up, self.decoder):
            x = decode(torch.cat([up(x), skips.pop()], dim=1))
        return self.head(x)


class ResidualUnit(nn.Module):
    """MONAI's ResidualUnit: subunits of conv -> instance norm -> PReLU, the first strided,
    plus a residual path (a strided 3x3x3 conv when the stride is not 1, 1x1x1 when only the
    channels change); the last subunit of the top up-layer is a plain conv (MONAI's
    last_conv_only)."""

    def __init__(self, cin, cout, stride, subunits, last_conv_only=False):
        super().__init__()
        layers = []
        for i in range(subunits):
            conv = nn.Conv3d(cin if i == 0 else cout, cout, 3, stride=stride if i == 0 else 1,
                             padding=1)
            if last_conv_only and i == subunits - 1:
                layers.append(conv)
            else:
                layers += [conv, nn.InstanceNorm3d(cout), nn.PReLU()]
        self.conv = nn.Sequential(*layers)
        if stride != 1:
            self.residual = nn.Conv3d(cin, cout, 3, stride=stride, padding=1)
        elif cin != cout:
            self.residual = nn.Conv3d(cin, cout, 1)
        else:
            self.residual = nn.Identity()

    def forward(self, x):
        return self.conv(x) + self.residual(x)


class MonaiUNet(nn.Module):
    """monai.networks.nets.UNet(spatial_dims=3, channels=(f, 2f, ...), strides=(2, ...),
    num_res_units=2), built the same way: down, a skip connection around the inner block
    (concatenated on channels), up."""

    def __init__(self, features, stages):
        super().__init__()
        channels = [features * 2 ** s for s in range(stages)]
        self.block = self._block(IN_CHANNELS, CLASSES, channels, top=True)

    def _block(self, cin, cout, channels, top):
        c = channels[0]
        if len(channels) == 2:  # the bottom: one more residual unit, stride 1
            inner, inner_out = ResidualUnit(c, channels[1], 1, 2), channels[1]
        else:
            inner, inner_out = self._block(c, c, channels[1:], top=False), c
        down = ResidualUnit(cin, c, 2, 2)
        up = nn.Sequential(
            nn.ConvTranspose3d(c + inner_out, cout, 3, stride=2, padding=1, output_padding=1),
            nn.InstanceNorm3d(cout), nn.PReLU(),
            ResidualUnit(cout, cout, 1, 1, last_conv_only=top))
        return _Down(down, inner, up)

    def forward(self, x):
        return self.block(x)


class _Down(nn.Module):
    def __init__(self, down, inner, up):
        super().__init__()
        self.down, self.inner, self.up = down, inner, up

    def forward(self, x):
        x = self.down(x)
        return self.up(torch.cat([x, self.inner(x)], dim=1))


def export(network, path, divisor):
    network.eval()
    example = torch.randn(1, IN_CHANNELS, *[2 * divisor] * 3)  # > 1 voxel at the bottom
    axes = {0: "batch", 2: "D", 3: "H", 4: "W"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(network, example, path, opset_version=17, input_names=["image"],
                          output_names=["logits"], dynamic_axes={"image": axes, "logits": axes},
                          do_constant_folding=True)
    return sum(p.numel() for p in network.parameters())


def write_networks(out, features=4, stages=3, in_channels=4, classes=4, seed=0):
    """Exports both networks into `out` and returns what networks.json records."""
    global IN_CHANNELS, CLASSES
    IN_CHANNELS, CLASSES = in_channels, classes
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    divisor = 2 ** (stages - 1)  # stride-2 steps on H and W (nnU-Net's D has one fewer)
    info = {"input": {"name": "image", "channels": IN_CHANNELS},
            "output": {"name": "logits", "channels": CLASSES},
            "features": features, "stages": stages, "networks": {}}
    for name, network in (("nnunet_plain", PlainConvUNet(features, stages)),
                          ("monai_residual", MonaiUNet(features, stages))):
        parameters = export(network, os.path.join(out, name + ".onnx"), divisor)
        info["networks"][name] = {"file": name + ".onnx", "parameters": parameters,
                                  "spatial_divisor": divisor}
    with open(os.path.join(out, "networks.json"), "w") as f:
        json.dump(info, f, indent=1)
    return info


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--features", type=int, default=4, help="base features (nnU-Net: 32)")
    parser.add_argument("--stages", type=int, default=3, help="resolution stages (>= 2)")
    parser.add_argument("--in-channels", type=int, default=4)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.stages < 2:
        parser.error("--stages must be at least 2")
    write_networks(args.out, args.features, args.stages, args.in_channels, args.classes, args.seed)


if __name__ == "__main__":
    main()
