"""Writes doubler.onnx, the runtime test's model: y = 2 · x for x of shape [N, 3, 4, 4]
(N dynamic), opset 17. A developer step (needs `pip install onnx==1.17.0`); the file is
committed so tests need no Python for it."""
import os

import onnx
from onnx import TensorProto, helper

x = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, 4, 4])
y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["N", 3, 4, 4])
two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
graph = helper.make_graph([helper.make_node("Mul", ["images", "two"], ["output0"])], "doubler", [x], [y], initializer=[two])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="platform-tests")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(os.path.dirname(os.path.abspath(__file__)), "doubler.onnx"))
