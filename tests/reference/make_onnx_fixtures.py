#!/usr/bin/python3
"""Small ONNX models written by the onnx package itself (not by our reader's author's encoder),
with what onnx says about them in expected.json: graph inputs (initializers excluded), outputs,
shapes, opset and op types. tests/test_onnx_model_info_reference.cpp reads each with
cls::inference::read_onnx_model_info and compares.

Two of them are up-samplings as the frameworks write them: nnU-Net's ConvTranspose with
kernel = stride (1, 2, 2) and MONAI's with kernel 3, stride 2, padding 1, output padding 1.
For the first, expected.json also holds the 1x1x1 Conv weights and bias that
cls::inference::rewrite_for_webgpu must write, computed here by numpy from the definition
(W'[((o*s0 + a)*s1 + b)*s2 + c, i] = W[i, o, a, b, c]; the bias repeated per block).

Usage: make_onnx_fixtures.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv3d_model(name, op, dims_in, dims_out, kernel_attr=True, initializers_as_inputs=False,
                 extra_nodes=()):
    weight = numpy_helper.from_array(np.zeros((1, 1, 3, 3, 3), np.float32), "w")
    attrs = {"kernel_shape": [3, 3, 3], "pads": [1] * 6} if kernel_attr else {"pads": [1] * 6}
    nodes = [helper.make_node(op, ["image", "w"], ["hidden"], **attrs)]
    nodes += list(extra_nodes)
    last = nodes[-1].output[0]
    nodes.append(helper.make_node("Sigmoid", [last], ["probability"]))
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, dims_in)]
    if initializers_as_inputs:
        inputs.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 1, 3, 3, 3]))
    graph = helper.make_graph(
        nodes, name, inputs,
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, dims_out)],
        initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def upsample_model(name, kernel, stride, pads, output_padding, rng):
    cin, cout = 3, 2
    weight = rng.standard_normal((cin, cout) + tuple(kernel)).astype(np.float32)
    bias = rng.standard_normal(cout).astype(np.float32)
    attrs = {"kernel_shape": list(kernel), "strides": list(stride), "pads": list(pads)}
    if output_padding:
        attrs["output_padding"] = list(output_padding)
    node = helper.make_node("ConvTranspose", ["image", "w", "b"], ["probability"], name="up",
                            **attrs)
    graph = helper.make_graph(
        [node], name, [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                     [1, cin, "D", "H", "W"])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT,
                                       [1, cout, "D2", "H2", "W2"])],
        initializer=[numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    if tuple(kernel) != tuple(stride):
        return model, None
    blocks = int(np.prod(stride))
    rewrite = {
        "weight_dims": [cout * blocks, cin, 1, 1, 1],
        "weight": weight.reshape(cin, cout * blocks).T.ravel().tolist(),
        "bias": np.repeat(bias, blocks).tolist(),
    }
    return model, rewrite


def main(out):
    os.makedirs(out, exist_ok=True)
    pool = helper.make_node("MaxPool", ["hidden"], ["pooled"], kernel_shape=[2, 2, 2],
                            strides=[2, 2, 2])
    models = {
        "fixed_conv": conv3d_model("fixed", "Conv", [1, 1, 32, 32, 32], [1, 1, 32, 32, 32]),
        "dynamic_conv": conv3d_model("dynamic", "Conv", [1, 1, "D", "H", "W"],
                                     [1, 1, "D", "H", "W"], initializers_as_inputs=True),
        "transpose3d": conv3d_model("transpose", "ConvTranspose", [1, 1, 16, 16, 16],
                                    [1, 1, 16, 16, 16], kernel_attr=False),
        "maxpool3d": conv3d_model("maxpool", "Conv", [1, 1, 16, 16, 16], [1, 1, 8, 8, 8],
                                  extra_nodes=[pool]),
    }
    rng = np.random.default_rng(17)
    models["upsample_nnunet"], rewrite = upsample_model(
        "nnunet", (1, 2, 2), (1, 2, 2), [0] * 6, None, rng)
    models["upsample_monai"], _ = upsample_model(
        "monai", (3, 3, 3), (2, 2, 2), [1] * 6, (1, 1, 1), rng)
    expected = {}
    for name, model in models.items():
        path = os.path.join(out, name + ".onnx")
        onnx.save(model, path)
        initializer_names = {t.name for t in model.graph.initializer}

        def tensor(v):
            dims = [d.dim_value if d.HasField("dim_value") else -1
                    for d in v.type.tensor_type.shape.dim]
            return {"name": v.name, "element_type": v.type.tensor_type.elem_type, "dims": dims}

        expected[name] = {
            "ir_version": model.ir_version,
            "opset": model.opset_import[0].version,
            "inputs": [tensor(v) for v in model.graph.input if v.name not in initializer_names],
            "outputs": [tensor(v) for v in model.graph.output],
            "op_types": [n.op_type for n in model.graph.node],
        }
    expected["upsample_nnunet"]["rewrite"] = rewrite
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
