"""Small real ONNX models that the tests build with the onnx package's helper API."""

from __future__ import annotations

from onnx import TensorProto, helper


def mean_sigmoid_model() -> bytes:
    """[1, 3, H, W] → sigmoid(mean over channels) as [1, 1, H, W]; any H and W."""
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["input"], ["mean"], axes=[1], keepdims=1),
            helper.make_node("Sigmoid", ["mean"], ["output"]),
        ],
        "mean_sigmoid",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "height", "width"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, "height", "width"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()
