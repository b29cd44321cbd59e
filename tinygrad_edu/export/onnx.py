"""A model as an ONNX graph, for ONNX runtimes (onnxruntime, TensorRT, browsers, phones).

`to_onnx` walks the model's layers in order and asks each one's export rule to add its
nodes to an `OnnxGraph`: built-in layers have rules here (`Gemm` or `MatMul` + `Add`,
`Relu`, `Tanh`, `Sigmoid`, `LeakyRelu`, `Flatten`, `Softmax`, `Identity` for dropout,
which does nothing in inference, GELU as its formula in `Tanh` or `Erf`, so that
opset 17 runtimes take it, and the input features as `Gather`, `Mul`, `Sin`, `Concat`);
a layer registered with
``register_layer(name, onnx=rule)`` brings its own. The batch dimension is left dynamic
(``batch``), the weights are initializers named by their state-dict keys, the model's
metadata (spec, normalization, class names) goes into ``metadata_props``, and the result
is checked with ``onnx.checker.check_model(full_check=True)`` before it is written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import autograd, nn
from .._tensor import Tensor
from .._version import __version__
from ..errors import UserError
from ..features import InputFeatures
from ..io.atomic import atomic_write
from ..spec import registry
from .bundle import require

OPSET = 17
IR_VERSION = 8  # the IR version of opset 17, for runtimes older than the onnx package
INPUT = "input"

ExportRule = Callable[[Any, "OnnxGraph", str], str]


class OnnxGraph:
    """The nodes and initializers being built; what an export rule writes into.

    A rule gets ``(module, graph, x)``, where `x` names the layer's input, and returns the
    name of its output: ``graph.add("Relu", [x])``. `prefix` is the module's name in the
    model (``"1."``: its weights are ``1.weight``), `input_shape` the shape of one input
    sample (without the batch dimension), `dtype` the model's float type.
    """

    def __init__(self, dtype: np.dtype):
        self.dtype = np.dtype(dtype)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.prefix = ""
        self.input_shape: tuple[int, ...] = ()
        self._used: set[str] = {INPUT}

    def _fresh(self, hint: str) -> str:
        name, n = hint, 1
        while name in self._used:
            n += 1
            name = f"{hint}_{n}"
        self._used.add(name)
        return name

    def add(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        """Append one node; returns the name of its (single) output."""
        helper = require("onnx.helper")
        output = self._fresh(f"{self.prefix}{op_type}")
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attributes))
        return output

    def constant(self, array: Any, name: str, dtype: Any = None) -> str:
        """An initializer holding `array` (in the model's dtype unless `dtype` is given);
        returns its name."""
        numpy_helper = require("onnx.numpy_helper")
        name = self._fresh(name)
        values = np.ascontiguousarray(np.asarray(array, dtype=dtype or self.dtype))
        self.initializers.append(numpy_helper.from_array(values, name))
        return name


# --- the built-in layers' rules ------------------------------------------------------------


def _linear(module: nn.Linear, graph: OnnxGraph, x: str) -> str:
    weight = module.weight.numpy()
    bias = (
        None if module.bias is None else graph.constant(module.bias.numpy(), f"{graph.prefix}bias")
    )
    if len(graph.input_shape) == 1:  # (N, in): Gemm computes x W^T + b in one node
        w = graph.constant(weight, f"{graph.prefix}weight")
        return graph.add("Gemm", [x, w] + ([bias] if bias else []), transB=1)
    y = graph.add("MatMul", [x, graph.constant(weight.T, f"{graph.prefix}weight_t")])
    return graph.add("Add", [y, bias]) if bias else y


def _flatten(module: nn.Flatten, graph: OnnxGraph, x: str) -> str:
    end = module.end_dim % (len(graph.input_shape) + 1)
    if module.start_dim == 1 and end == len(graph.input_shape):
        return graph.add("Flatten", [x], axis=1)
    start = module.start_dim % (len(graph.input_shape) + 1)
    dims = [0] + list(graph.input_shape)  # 0: keep the batch dimension as it is
    merged = dims[:start] + [math.prod(dims[start : end + 1]) if start else -1] + dims[end + 1 :]
    shape = graph.constant(merged, f"{graph.prefix}shape", dtype=np.int64)
    return graph.add("Reshape", [x, shape])


def _gelu(module: nn.GELU, graph: OnnxGraph, x: str) -> str:
    half = graph.constant(0.5, f"{graph.prefix}half")
    one = graph.constant(1.0, f"{graph.prefix}one")
    if getattr(module, "approximate", "tanh") == "tanh":  # GELUs without the option: tanh
        # gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = graph.add("Mul", [x, graph.add("Mul", [x, x])])
        inner = graph.add(
            "Add", [x, graph.add("Mul", [cube, graph.constant(0.044715, f"{graph.prefix}k")])]
        )
        t = graph.add(
            "Tanh",
            [graph.add("Mul", [inner, graph.constant(math.sqrt(2 / math.pi), f"{graph.prefix}c")])],
        )
    else:
        # gelu(x) = 0.5 x (1 + erf(x / sqrt(2))), the exact form
        t = graph.add(
            "Erf", [graph.add("Div", [x, graph.constant(math.sqrt(2.0), f"{graph.prefix}sqrt2")])]
        )
    return graph.add("Mul", [graph.add("Mul", [x, half]), graph.add("Add", [t, one])])


def _features(module: InputFeatures, graph: OnnxGraph, x: str) -> str:
    """Each chosen column from x1 = x[:, 0:1] and x2 = x[:, 1:2] (Gather keeps the axis),
    joined by Concat in the module's order."""
    x1, x2 = (
        graph.add("Gather", [x, graph.constant([j], f"{graph.prefix}x{j + 1}", np.int64)], axis=1)
        for j in (0, 1)
    )
    rules = {
        "x1": lambda: x1,
        "x2": lambda: x2,
        "x1_squared": lambda: graph.add("Mul", [x1, x1]),
        "x2_squared": lambda: graph.add("Mul", [x2, x2]),
        "x1_times_x2": lambda: graph.add("Mul", [x1, x2]),
        "sin_x1": lambda: graph.add("Sin", [x1]),
        "sin_x2": lambda: graph.add("Sin", [x2]),
    }
    return graph.add("Concat", [rules[name]() for name in module.names], axis=1)


BUILTIN_RULES: dict[type, ExportRule] = {
    nn.Linear: _linear,
    nn.Flatten: _flatten,
    nn.ReLU: lambda m, g, x: g.add("Relu", [x]),
    nn.LeakyReLU: lambda m, g, x: g.add("LeakyRelu", [x], alpha=float(m.negative_slope)),
    nn.Tanh: lambda m, g, x: g.add("Tanh", [x]),
    nn.Sigmoid: lambda m, g, x: g.add("Sigmoid", [x]),
    nn.GELU: _gelu,
    nn.Identity: lambda m, g, x: g.add("Identity", [x]),
    nn.Dropout: lambda m, g, x: g.add("Identity", [x]),  # dropout does nothing in inference
    nn.Softmax: lambda m, g, x: g.add("Softmax", [x], axis=int(m.dim)),
    InputFeatures: _features,
}


def export_rule(module: Any, where: str = "") -> ExportRule:
    """The rule for `module`: a built-in one, or the ``onnx=`` of its registered layer type."""

    for cls in type(module).__mro__:
        if cls in BUILTIN_RULES:
            return BUILTIN_RULES[cls]
    for layer_type in registry.layer_types():
        if layer_type.factory is type(module) and layer_type.onnx is not None:
            return layer_type.onnx
    names = [t.name for t in registry.layer_types() if t.factory is type(module)]
    label = f"'{names[0]}' ({type(module).__name__})" if names else type(module).__name__
    name = names[0] if names else "my_layer"
    raise UserError(
        f"cannot export layer {where}{label} to ONNX: it has no export rule. Give "
        f"it one where you register it: register_layer('{name}', onnx=rule), where "
        "rule(module, graph, x) adds the layer's ONNX nodes with graph.add(op_type, inputs, "
        "**attributes) (weights with graph.constant(array, name)) and returns the output's "
        "name, e.g. lambda module, graph, x: graph.add('Mul', [x, graph.constant(module.factor, "
        "'factor')])"
    )


def _emit(
    module: Any, graph: OnnxGraph, x: str, shape: tuple[int, ...], prefix: str
) -> tuple[str, tuple[int, ...]]:
    """Add `module`'s nodes (recursing into Sequential); returns (output name, sample shape)."""
    if isinstance(module, nn.Sequential):
        for name, child in module.named_children():
            x, shape = _emit(child, graph, x, shape, f"{prefix}{name}.")
        return x, shape
    rule = export_rule(module, where=f"{prefix.rstrip('.')} " if prefix else "")
    graph.prefix, graph.input_shape = prefix, shape
    output = rule(module, graph, x)
    with autograd.no_grad():  # the output shape, from our own forward on one zero sample
        out_shape = tuple(module(Tensor.zeros(1, *shape, dtype=graph.dtype.name)).shape[1:])
    return output, out_shape


def to_onnx(
    model: Any,
    input_shape: tuple[int, ...] | list[int],
    path: str | Path,
    *,
    metadata: Mapping[str, str] | None = None,
    normalization: Mapping[str, Any] | None = None,
    include_preprocessing: bool = False,
    probabilities: bool = False,
    opset: int = OPSET,
) -> Any:
    """Write `model` (for samples of `input_shape`) as an ONNX file; returns the ModelProto.

    With `include_preprocessing` the graph starts with the input normalization
    ``(x - shift) / scale`` (from `normalization`), so raw inputs (pixels 0..255) go in;
    with `probabilities` it ends with Softmax over the classes (Sigmoid for a model with
    one output: the probability of class 1). The input is ``input``, of shape
    [batch, *input_shape]; the output ``output`` (``probabilities`` with that option).
    """
    onnx = require("onnx")
    helper = onnx.helper

    input_shape = tuple(int(n) for n in input_shape)
    params = list(model.parameters())
    dtype = np.dtype(params[0].numpy().dtype if params else np.float32)
    graph = OnnxGraph(dtype)
    x = INPUT
    if include_preprocessing:
        if normalization is None:
            raise UserError("include_preprocessing needs the model's normalization statistics")
        x = _preprocessing(graph, x, normalization, input_shape)
    was_training = model.training
    model.eval()
    try:
        x, out_shape = _emit(model, graph, x, input_shape, "")
    finally:
        model.train(was_training)
    graph.prefix = ""
    output_name = "probabilities" if probabilities else "output"
    if probabilities:
        if out_shape[-1] == 1:
            x = graph.add("Sigmoid", [x])
        else:
            x = graph.add("Softmax", [x], axis=-1)
    graph.nodes.append(helper.make_node("Identity", [x], [output_name], name=output_name))
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    onnx_graph = helper.make_graph(
        graph.nodes,
        "tinygrad_edu",
        [helper.make_tensor_value_info(INPUT, elem, ["batch", *input_shape])],
        [helper.make_tensor_value_info(output_name, elem, ["batch", *out_shape])],
        initializer=graph.initializers,
    )

    proto = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="tinygrad_edu",
        producer_version=__version__,
    )
    proto.ir_version = IR_VERSION
    if metadata:
        helper.set_model_props(proto, dict(metadata))
    onnx.checker.check_model(proto, full_check=True)
    path = Path(path)
    with atomic_write(path) as handle:
        handle.write(proto.SerializeToString())
    return proto


def _preprocessing(
    graph: OnnxGraph, x: str, normalization: Mapping[str, Any], input_shape: tuple[int, ...]
) -> str:
    """(x - shift) / scale, with per-feature statistics shaped like one sample."""
    graph.prefix = "preprocess."
    shift = np.asarray(normalization["shift"], dtype=np.float64)
    scale = np.asarray(normalization["scale"], dtype=np.float64)
    if shift.size > 1:
        shift, scale = shift.reshape(input_shape), scale.reshape(input_shape)
    x = graph.add("Sub", [x, graph.constant(shift, "preprocess.shift")])
    return graph.add("Div", [x, graph.constant(scale, "preprocess.scale")])
