#!/usr/bin/python3
"""Reference values for lamina's Conv2DTranspose, UpSampling2D, ZeroPadding2D,
GlobalAveragePooling2D and GlobalMaxPooling2D, computed by PyTorch in float64.

Run with Debian's PyTorch:  /usr/bin/python3 tests/layers/reference/gen_conv_transpose_reference.py
It rewrites conv_transpose.txt beside this script; tests/layers/conv_transpose_test.cpp reads it.

Format (tests/support/reference.py writes it, tests/support/reference.hpp reads it): one tensor
per line, `name rank d0 ... v0 v1 ...`, values row-major. Tensors are in lamina's (Keras's)
layouts: images NHWC, Conv2DTranspose kernels [kh, kw, filters, in_channels]. Each case stores
its configuration as a rank-1 tensor `<case>.options`, so the C++ test holds no second copy:
  ct:   [filters, kh, kw, stride_h, stride_w, same, use_bias, activation]
  up:   [size_h, size_w]
  zp:   [top, bottom, left, right]
  gap/gmp: [keepdims]
with activation an index into ACTIVATIONS (tests/support/layer_check.hpp keeps the same list).
The gradients (dx, dkernel, dbias) are those of sum(y * upstream), i.e. backward(upstream).

Conv2DTranspose follows Keras (TensorFlow's conv2d_transpose): the output length is
in * s + max(k - s, 0) for 'valid' and in * s for 'same'; 'same' crops pad_total =
max(k - s, 0) from the full transposed convolution, pad_total // 2 at the start and the rest at
the end. PyTorch's ConvTranspose2d crops `padding` from both ends and adds `output_padding` at
the end only, so it gets padding = pad_total // 2 and output_padding = whatever makes the Keras
length; when that would be -1 (an odd pad_total, e.g. a 4-wide kernel with stride 1) it gets 0
and the one extra row or column at the end is sliced off. Each case is checked against a second,
independent computation: the transposed convolution as the input gradient of F.conv2d with
TensorFlow's 'same' padding (an explicit F.pad), which must agree to 1e-13.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.utils.stateless import functional_call

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from reference import ACTIVATIONS, ReferenceWriter, act, distinct, pad_nchw, uniform  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.manual_seed(20261202)

writer = ReferenceWriter(os.path.join(HERE, "conv_transpose.txt"))
emit, options, finish = writer.emit, writer.options, writer.finish


def keras_length(size, k, s, same):
    """Keras's deconv_output_length without output_padding."""
    return size * s if same else size * s + max(k - s, 0)


def conv_transpose_torch(xn, weight, k, s, same):
    """Keras's transposed convolution with torch.nn.ConvTranspose2d (NCHW in and out)."""
    lengths = [keras_length(xn.shape[2 + a], k[a], s[a], same) for a in range(2)]
    pads, extra = [], []
    for a in range(2):
        before = max(k[a] - s[a], 0) // 2 if same else 0
        natural = (xn.shape[2 + a] - 1) * s[a] - 2 * before + k[a]
        out_pad = lengths[a] - natural
        assert -1 <= out_pad < s[a], (out_pad, s[a])
        pads.append(before)
        extra.append(max(out_pad, 0))
    layer = torch.nn.ConvTranspose2d(weight.shape[0], weight.shape[1], tuple(k), stride=tuple(s),
                                     padding=tuple(pads), output_padding=tuple(extra), bias=False)
    # The module run with `weight` in place of its own parameter, so that gradients reach it.
    y = functional_call(layer, {"weight": weight}, (xn,))
    assert y.shape[2] >= lengths[0] and y.shape[3] >= lengths[1]
    return y[:, :, : lengths[0], : lengths[1]]


def conv_transpose_adjoint(xn, weight, k, s, same):
    """The same thing as the input gradient of conv2d over the Keras-sized output."""
    lengths = [keras_length(xn.shape[2 + a], k[a], s[a], same) for a in range(2)]
    z = torch.zeros(xn.shape[0], weight.shape[1], *lengths, requires_grad=True)
    y = F.conv2d(pad_nchw(z, k, s, same), weight, stride=tuple(s))
    assert y.shape == xn.shape, (y.shape, xn.shape)
    (grad,) = torch.autograd.grad(y, z, xn)
    return grad


def conv_transpose_case(name, x_shape, filters, k, strides, same, use_bias, activation):
    x = uniform(x_shape)
    kernel = uniform([k[0], k[1], filters, x_shape[3]])
    bias = uniform([filters])
    weight = kernel.permute(3, 2, 0, 1)  # [kh, kw, filters, in] -> torch's [in, filters, kh, kw]
    xn = x.permute(0, 3, 1, 2)
    yn = conv_transpose_torch(xn, weight, k, strides, same)
    other = conv_transpose_adjoint(xn.detach(), weight.detach(), k, strides, same)
    assert torch.allclose(yn, other, rtol=0, atol=1e-13)
    y = yn.permute(0, 2, 3, 1)
    if use_bias:
        y = y + bias
    y = act(activation, y)
    options(name, [filters, k[0], k[1], strides[0], strides[1], int(same), int(use_bias),
                   ACTIVATIONS.index(activation)])
    inputs = {"x": x, "kernel": kernel}
    if use_bias:
        inputs["bias"] = bias
    for key, t in inputs.items():
        emit(f"{name}.{key}", t)
    finish(name, y, inputs)


def upsampling_case(name, x_shape, size):
    x = uniform(x_shape)
    y = F.interpolate(x.permute(0, 3, 1, 2), scale_factor=tuple(float(v) for v in size),
                      mode="nearest").permute(0, 2, 3, 1)
    assert torch.equal(y, x.repeat_interleave(size[0], 1).repeat_interleave(size[1], 2))
    options(name, list(size))
    emit(f"{name}.x", x)
    finish(name, y, {"x": x})


def zero_padding_case(name, x_shape, top, bottom, left, right):
    x = uniform(x_shape)
    pad = torch.nn.ZeroPad2d((left, right, top, bottom))
    y = pad(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    options(name, [top, bottom, left, right])
    emit(f"{name}.x", x)
    finish(name, y, {"x": x})


def global_pool_case(name, kind, x_shape, keepdims):
    x = distinct(x_shape)
    pool = torch.nn.AdaptiveMaxPool2d(1) if kind == "max" else torch.nn.AdaptiveAvgPool2d(1)
    y = pool(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)  # [batch, 1, 1, channels]
    if not keepdims:
        y = y.reshape(x_shape[0], x_shape[3])
    options(name, [int(keepdims)])
    emit(f"{name}.x", x)
    finish(name, y, {"x": x})


# Conv2DTranspose: valid and same, strides 1 and 2, kernels larger and smaller than the stride,
# an odd 'same' padding with stride 1 (not expressible by ConvTranspose2d alone), 1x1.
conv_transpose_case("ct_a", [2, 3, 3, 2], 3, [3, 3], [1, 1], False, True, "linear")
conv_transpose_case("ct_b", [2, 3, 4, 2], 2, [3, 3], [2, 2], True, True, "tanh")
conv_transpose_case("ct_c", [1, 3, 3, 3], 2, [4, 4], [2, 2], True, False, "linear")
conv_transpose_case("ct_d", [2, 2, 3, 1], 2, [2, 3], [2, 1], False, True, "sigmoid")
conv_transpose_case("ct_e", [1, 3, 2, 2], 2, [2, 1], [3, 2], False, True, "relu")   # k < s
conv_transpose_case("ct_f", [1, 4, 3, 2], 3, [4, 3], [1, 1], True, True, "linear")  # pads 1 + 2
conv_transpose_case("ct_g", [2, 3, 3, 3], 2, [1, 1], [1, 1], False, True, "softmax")  # 1x1
conv_transpose_case("ct_h", [1, 2, 3, 2], 2, [3, 2], [2, 3], True, True, "linear")  # k < s, same

# UpSampling2D (nearest): square and non-square sizes.
upsampling_case("up_a", [2, 3, 2, 2], [2, 2])
upsampling_case("up_b", [1, 2, 3, 3], [3, 1])

# ZeroPadding2D: uneven sides, and padding on one axis only.
zero_padding_case("zp_a", [2, 3, 3, 2], 1, 2, 0, 3)
zero_padding_case("zp_b", [1, 2, 2, 1], 2, 2, 1, 1)

# GlobalAveragePooling2D / GlobalMaxPooling2D, without and with keepdims.
global_pool_case("gap_a", "avg", [2, 4, 5, 3], False)
global_pool_case("gap_b", "avg", [1, 3, 3, 2], True)
global_pool_case("gmp_a", "max", [2, 4, 5, 3], False)
global_pool_case("gmp_b", "max", [1, 3, 3, 2], True)

writer.write()
