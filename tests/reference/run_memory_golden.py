#!/usr/bin/python3
"""Golden run-memory figures for torch-exported networks, from onnx's own shape inference.

Exports nnU-Net's PlainConvUNet and the MONAI-style residual UNet (make_torch_networks.py,
4 features, 4 stages, 4 channels in, 4 classes), fixes the input to [1, 4, 16, 32, 32], lets
onnx.shape_inference give every tensor its shape, and applies the definition of
cls/inference/run_memory.hpp written out here once more: a tensor lives from the node that
makes it to the last node that reads it (graph outputs to the end; initializers and Constant
outputs are weights, not activations); the peak is the most bytes alive while a node runs,
with ConvTranspose's column buffer (C_out/group * prod(kernel) * input voxels * 4 bytes) added
at that node. tests/test_run_memory_reference.cpp compares cls::inference::estimate_run_memory.

Usage: run_memory_golden.py OUT_DIR   (writes the networks and expected.json there)
"""
import importlib.util
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))
INPUT = [1, 4, 16, 32, 32]
SIZES = {onnx.TensorProto.FLOAT: 4, onnx.TensorProto.INT64: 8, onnx.TensorProto.BOOL: 1}


def golden(path):
    model = onnx.load(path)
    for dim, value in zip(model.graph.input[0].type.tensor_type.shape.dim, INPUT):
        dim.Clear()
        dim.dim_value = value
    inferred = shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {}
    for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        t = v.type.tensor_type
        dims = [d.dim_value for d in t.shape.dim]
        assert all(d > 0 for d in dims) or not dims, (v.name, dims)
        shapes[v.name] = (dims, SIZES[t.elem_type])
    nbytes = lambda name: int(np.prod(shapes[name][0], dtype=np.int64)) * shapes[name][1]
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    constants = set(weights)
    nodes = list(model.graph.node)
    last = {}
    for i, n in enumerate(nodes):
        for name in n.input:
            last[name] = i
    for o in model.graph.output:
        last[o.name] = len(nodes)
    live = nbytes(model.graph.input[0].name)
    peak, peak_node, largest, largest_name = 0, "", 0, ""
    for i, n in enumerate(nodes):
        if n.op_type == "Constant":
            constants.update(n.output)
            continue
        produced = sum(nbytes(o) for o in n.output)
        for o in n.output:
            if nbytes(o) > largest:
                largest, largest_name = nbytes(o), o
        workspace = 0
        if n.op_type == "ConvTranspose":
            w = weights[n.input[1]]
            workspace = int(np.prod(w.shape[1:])) * int(np.prod(shapes[n.input[0]][0][2:])) * 4
        if live + produced + workspace > peak:
            peak, peak_node = live + produced + workspace, n.name or n.op_type
        live += produced
        for name in set(n.input):
            if name and name not in constants and last.get(name) == i:
                live -= nbytes(name)
        for o in n.output:
            if o not in last:
                live -= nbytes(o)
    return {"input": INPUT, "weight_bytes": int(sum(w.nbytes for w in weights.values())),
            "peak_activation_bytes": int(peak), "peak_node": peak_node,
            "largest_tensor_bytes": int(largest), "largest_tensor": largest_name}


def main(out):
    spec = importlib.util.spec_from_file_location(
        "make_torch_networks", os.path.join(HERE, "make_torch_networks.py"))
    networks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(networks)
    info = networks.write_networks(out, features=4, stages=4)
    expected = {name: golden(os.path.join(out, entry["file"]))
                for name, entry in info["networks"].items()}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
