#!/usr/bin/python3
"""Writes the QDQ fixtures of `fames import` (tests/fixtures/onnx/qdq_*): small networks quantized
the ONNX way, with QuantizeLinear/DequantizeLinear nodes written by hand (onnx.helper), and the
outputs their QDQ arithmetic gives, computed here in float32 as the ONNX specification defines it
(round half to even, saturate), with PyTorch's conv2d/linear for the float operators.

Usage: /usr/bin/python3 scripts/qdq_fixtures.py OUT_DIR

qdq_cnn.onnx        conv (int8 input, Clip to +-127 codes; 4-bit per-channel weights)
                    -> Relu -> conv (uint8 input, Clip to 4-bit codes; 6-bit per-tensor weights,
                    stride 2) -> Relu -> GlobalAveragePool -> Flatten -> Gemm (uint8 input, no Clip;
                    8-bit per-channel weights) -> QuantizeLinear -> DequantizeLinear (int8 output)
qdq_cnn.input.npy / qdq_cnn.output.npy   a batch of 4 and the graph's output for it
qdq_torch.onnx      a network fake-quantized in PyTorch (torch.fake_quantize_per_channel_affine for
                    weights, _per_tensor_affine for activations: int8, uint8 0..127, uint8) and
                    exported by torch.onnx (QDQ pairs, a Clip of the codes for quant_max 127)
qdq_torch.input.npy / qdq_torch.output.npy  a batch of 4 and PyTorch's own output for it
qdq_uint8_weight.onnx                    weights as uint8 with zero point 128 (an unsigned-weight layer)
qdq_error_channel_act.onnx               per-channel activation scales (refused by name)
qdq_error_mixed.onnx                     a QDQ conv followed by a float one (refused by name)
Needs Debian's python3-onnx, python3-numpy and python3-torch.
"""
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(7)


def quantize(x, scale, zp, lo, hi):
    return np.clip(np.round(x / scale) + zp, lo, hi)


def dequantize(q, scale, zp):
    return ((q.astype(np.float32) - zp) * scale).astype(np.float32)


class Builder:
    def __init__(self):
        self.nodes, self.inits = [], []

    def const(self, name, value):
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op, inputs, output, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def act_qdq(self, x, name, scale, signed, clip_codes):
        """x -> [Clip] -> Q -> DQ with zero point 0; returns (value name, numpy function)."""
        zp = np.array(0, np.int8 if signed else np.uint8)
        s = self.const(name + ".s", np.array(scale, np.float32))
        z = self.const(name + ".zp", zp)
        if clip_codes is not None:
            lo, hi = clip_codes
            x = self.node("Clip", [x, self.const(name + ".lo", np.array(lo * scale, np.float32)),
                                   self.const(name + ".hi", np.array(hi * scale, np.float32))], name + ".clip")
        q = self.node("QuantizeLinear", [x, s, z], name + ".q")
        out = self.node("DequantizeLinear", [q, s, z], name + ".dq")
        tlo, thi = (-128, 127) if signed else (0, 255)

        def ref(v):
            if clip_codes is not None:
                v = np.clip(v, np.float32(clip_codes[0] * scale), np.float32(clip_codes[1] * scale))
            return dequantize(quantize(v, np.float32(scale), 0, tlo, thi), np.float32(scale), 0)
        return out, ref

    def weight_dq(self, name, codes, scale, axis=0, dtype=np.int8, zero_point=0):
        q = self.const(name + ".weight_q", codes.astype(dtype))
        s = self.const(name + ".weight_s", np.asarray(scale, np.float32))
        z = self.const(name + ".weight_zp", np.full(np.shape(scale), zero_point, dtype))
        out = self.node("DequantizeLinear", [q, s, z], name + ".weight", axis=axis)
        shape = [1] * codes.ndim
        if np.ndim(scale):
            shape[axis] = -1
        return out, (codes.astype(np.float32) - zero_point) * np.asarray(scale, np.float32).reshape(shape)

    def save(self, path, x_shape, output, y_shape):
        graph = helper.make_graph(self.nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                                  [helper.make_tensor_value_info(output, TensorProto.FLOAT, y_shape)], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="qdq_fixtures.py")
        onnx.checker.check_model(model)
        onnx.save(model, path)


def codes(shape, max_code):
    return RNG.integers(-max_code, max_code + 1, size=shape)


def qdq_cnn(out_dir):
    b = Builder()
    x_in, ref1 = b.act_qdq("x", "conv1.in", 0.02, True, (-127, 127))
    w1, w1f = b.weight_dq("conv1", codes((8, 3, 3, 3), 7), RNG.uniform(0.02, 0.05, 8))
    bias1 = RNG.normal(0, 0.1, 8).astype(np.float32)
    h = b.node("Conv", [x_in, w1, b.const("conv1.bias", bias1)], "conv1", pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    h = b.node("Relu", [h], "relu1")
    h_in, ref2 = b.act_qdq(h, "conv2.in", 0.05, False, (0, 15))
    w2, w2f = b.weight_dq("conv2", codes((16, 8, 3, 3), 31), np.array(0.01, np.float32))
    h = b.node("Conv", [h_in, w2], "conv2", pads=[1, 1, 1, 1], strides=[2, 2], kernel_shape=[3, 3])
    h = b.node("Flatten", [b.node("GlobalAveragePool", [b.node("Relu", [h], "relu2")], "pool")], "flat", axis=1)
    h_in, ref3 = b.act_qdq(h, "fc.in", 0.004, False, None)
    w3, w3f = b.weight_dq("fc", codes((10, 16), 127), RNG.uniform(0.002, 0.004, 10))
    bias3 = RNG.normal(0, 0.1, 10).astype(np.float32)
    h = b.node("Gemm", [h_in, w3, b.const("fc.bias", bias3)], "fc", transB=1)
    out, ref4 = b.act_qdq(h, "out", 0.01, True, None)
    b.save(os.path.join(out_dir, "qdq_cnn.onnx"), [None, 3, 8, 8], out, [None, 10])

    x = RNG.normal(0, 1.2, (4, 3, 8, 8)).astype(np.float32)
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    y = torch.relu(torch.nn.functional.conv2d(t(ref1(x)), t(w1f), t(bias1), padding=1)).numpy()
    y = torch.relu(torch.nn.functional.conv2d(t(ref2(y)), t(w2f), None, stride=2, padding=1)).numpy()
    y = y.mean(axis=(2, 3), dtype=np.float32)
    y = torch.nn.functional.linear(t(ref3(y)), t(w3f), t(bias3)).numpy()
    np.save(os.path.join(out_dir, "qdq_cnn.input.npy"), x)
    np.save(os.path.join(out_dir, "qdq_cnn.output.npy"), ref4(y).astype(np.float32))


class TorchQdqNet(torch.nn.Module):
    """Fake quantization as PyTorch's QAT inserts it, ending in an int8-quantized output."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(16, 10)
        # Symmetric per channel, scale max|w| / 127 (so no code reaches -128), kept as buffers as
        # PyTorch's observers keep them.
        for name in ("conv1", "conv2", "fc"):
            w = getattr(self, name).weight.detach()
            self.register_buffer(name + "_scale", w.abs().amax(dim=tuple(range(1, w.dim()))) / 127)

    def weight(self, name):
        w, scale = getattr(self, name).weight, getattr(self, name + "_scale")
        return torch.fake_quantize_per_channel_affine(w, scale, torch.zeros(w.shape[0], dtype=torch.int32), 0, -128, 127)

    def forward(self, x):
        fq = torch.fake_quantize_per_tensor_affine
        x = fq(x, 0.02, 0, -128, 127)
        x = torch.relu(torch.nn.functional.conv2d(x, self.weight("conv1"), self.conv1.bias, padding=1))
        x = fq(x, 0.05, 0, 0, 127)
        x = torch.relu(torch.nn.functional.conv2d(x, self.weight("conv2"), self.conv2.bias, stride=2, padding=1))
        x = fq(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1), 0.01, 0, 0, 255)
        return fq(torch.nn.functional.linear(x, self.weight("fc"), self.fc.bias), 0.02, 0, -128, 127)


def torch_qdq(out_dir):
    torch.manual_seed(11)
    net = TorchQdqNet().eval()
    x = torch.randn(4, 3, 8, 8) * 1.2
    path = os.path.join(out_dir, "qdq_torch.onnx")
    torch.onnx.export(net, x, path, opset_version=13, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))
    with torch.no_grad():
        np.save(os.path.join(out_dir, "qdq_torch.input.npy"), x.numpy())
        np.save(os.path.join(out_dir, "qdq_torch.output.npy"), net(x).numpy())


def error_models(out_dir):
    b = Builder()
    x_in, _ = b.act_qdq("x", "conv.in", 0.02, False, None)
    w, _ = b.weight_dq("conv", RNG.integers(0, 256, (4, 3, 3, 3)), np.array(0.01, np.float32), dtype=np.uint8,
                       zero_point=128)
    b.save(os.path.join(out_dir, "qdq_uint8_weight.onnx"), [None, 3, 8, 8], b.node("Conv", [x_in, w], "conv"), [None, 4, 6, 6])
    b = Builder()
    s = b.const("conv.in.s", np.full(3, 0.02, np.float32))
    z = b.const("conv.in.zp", np.zeros(3, np.uint8))
    q = b.node("QuantizeLinear", ["x", s, z], "conv.in.q", axis=1)
    dq = b.node("DequantizeLinear", [q, s, z], "conv.in.dq", axis=1)
    w, _ = b.weight_dq("conv", codes((4, 3, 3, 3), 127), np.array(0.01, np.float32))
    b.save(os.path.join(out_dir, "qdq_error_channel_act.onnx"), [None, 3, 8, 8], b.node("Conv", [dq, w], "conv"), [None, 4, 6, 6])
    b = Builder()
    x_in, _ = b.act_qdq("x", "conv.in", 0.02, True, None)
    w, _ = b.weight_dq("conv", codes((4, 3, 3, 3), 127), np.array(0.01, np.float32))
    h = b.node("Conv", [x_in, w], "conv")
    w2 = b.const("float_conv.weight", RNG.normal(0, 0.1, (4, 4, 1, 1)).astype(np.float32))
    b.save(os.path.join(out_dir, "qdq_error_mixed.onnx"), [None, 3, 8, 8], b.node("Conv", [h, w2], "float_conv"),
           [None, 4, 6, 6])


if __name__ == "__main__":
    qdq_cnn(sys.argv[1])
    torch_qdq(sys.argv[1])
    error_models(sys.argv[1])
