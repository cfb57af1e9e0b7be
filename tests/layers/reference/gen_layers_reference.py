#!/usr/bin/python3
"""Reference values for lamina's layers (Dense, Conv2D, MaxPooling2D, AveragePooling2D,
SimpleRNN), computed by PyTorch in float64.

Run with Debian's PyTorch:  /usr/bin/python3 tests/layers/reference/gen_layers_reference.py
It rewrites layers.txt beside this script; tests/layers/*_test.cpp read it.

Format (written by tests/support/reference.py, read by tests/support/reference.hpp): one
tensor per line, `name rank d0 ... v0 v1 ...`, values row-major, printed with repr. Tensors are in lamina's layouts: images NHWC, sequences
[batch, time, features], Dense kernels [in, units], Conv2D kernels [kh, kw, in, filters],
SimpleRNN kernel W [features, units] and recurrent kernel U [units, units]. Each case stores its
configuration as a rank-1 tensor `<case>.options`, so the C++ tests hold no second copy:
  dense:  [units, activation]
  conv:   [filters, kh, kw, stride_h, stride_w, same, use_bias, activation]
  pool:   [pool_h, pool_w, stride_h, stride_w, same]
  rnn:    [units, return_sequences, activation]
with activation an index into ACTIVATIONS (the C++ tests keep the same list). The gradients
(dx, dkernel, dbias, drecurrent_kernel) are those of sum(y * upstream), i.e. backward(upstream).

PyTorch differs from Keras in layout and padding, so the script converts: NHWC <-> NCHW; the
conv kernel [kh, kw, in, out] <-> torch's [out, in, kh, kw]; TensorFlow's 'same' padding
(pad_total = max((out - 1) * s + k - in, 0), half before and the odd one after) is applied
with F.pad (-inf for max pooling); 'same' average pooling divides by the in-bounds count only
(count_include_pad=False); torch.nn.RNN computes act(x W_ih^T + b_ih + h W_hh^T + b_hh), so
W_ih = W^T, W_hh = U^T, b_ih = b and b_hh = 0.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from reference import ACTIVATIONS, ReferenceWriter, act, pad_nchw, same_pads, uniform  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.manual_seed(20240612)

writer = ReferenceWriter(os.path.join(HERE, "layers.txt"))
emit, options, finish = writer.emit, writer.options, writer.finish


def dense_case(name, x_shape, units, activation):
    x = uniform(x_shape)
    kernel = uniform([x_shape[-1], units])
    bias = uniform([units])
    y = act(activation, x @ kernel + bias)
    options(name, [units, ACTIVATIONS.index(activation)])
    for key, t in (("x", x), ("kernel", kernel), ("bias", bias)):
        emit(f"{name}.{key}", t)
    finish(name, y, {"x": x, "kernel": kernel, "bias": bias})


def conv_case(name, x_shape, filters, k, strides, same, use_bias, activation):
    x = uniform(x_shape)
    kernel = uniform([k[0], k[1], x_shape[3], filters])
    bias = uniform([filters])
    xp = pad_nchw(x.permute(0, 3, 1, 2), k, strides, same)
    y = F.conv2d(xp, kernel.permute(3, 2, 0, 1), stride=tuple(strides)).permute(0, 2, 3, 1)
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


def pool_case(name, kind, x_shape, pool, strides, same):
    # A scaled random permutation: no ties, so the max-pool gradient is unambiguous.
    n = math.prod(x_shape)
    x = (torch.randperm(n).to(torch.float64) / n - 0.5).reshape(x_shape).requires_grad_()
    xn = x.permute(0, 3, 1, 2)
    if kind == "max":
        y = F.max_pool2d(pad_nchw(xn, pool, strides, same, value=-math.inf), pool, strides)
    else:
        total = F.avg_pool2d(pad_nchw(xn, pool, strides, same), pool, strides)
        count = F.avg_pool2d(pad_nchw(torch.ones_like(xn), pool, strides, same), pool, strides)
        y = total / count
        if same:
            # The same thing the PyTorch way, when its symmetric padding matches TensorFlow's.
            pads = [same_pads(x_shape[1 + a], pool[a], strides[a]) for a in range(2)]
            if all(before == after for before, after in pads):
                torch_y = F.avg_pool2d(xn, pool, strides, padding=(pads[0][0], pads[1][0]),
                                       count_include_pad=False)
                assert torch.allclose(torch_y, y, rtol=0, atol=1e-14)
    y = y.permute(0, 2, 3, 1)
    options(name, [pool[0], pool[1], strides[0], strides[1], int(same)])
    emit(f"{name}.x", x)
    finish(name, y, {"x": x})


def rnn_case(name, x_shape, units, return_sequences, activation):
    batch, steps, features = x_shape
    x = uniform(x_shape)
    kernel = uniform([features, units], -0.8, 0.8)
    recurrent = uniform([units, units], -0.8, 0.8)
    bias = uniform([units], -0.5, 0.5)
    rnn = torch.nn.RNN(features, units, batch_first=True, nonlinearity=activation)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(kernel.t())
        rnn.weight_hh_l0.copy_(recurrent.t())
        rnn.bias_ih_l0.copy_(bias)
        rnn.bias_hh_l0.zero_()
    out, _ = rnn(x)
    y = out if return_sequences else out[:, -1]
    # The same recurrence written out, as a check on the torch.nn.RNN conversion above.
    h = torch.zeros(batch, units)
    states = []
    for t in range(steps):
        h = act(activation, x[:, t] @ kernel + h @ recurrent + bias)
        states.append(h)
    manual = torch.stack(states, 1) if return_sequences else h
    assert torch.allclose(manual, y, rtol=0, atol=1e-13)

    options(name, [units, int(return_sequences), ACTIVATIONS.index(activation)])
    for key, t in (("x", x), ("kernel", kernel), ("recurrent_kernel", recurrent), ("bias", bias)):
        emit(f"{name}.{key}", t)
    upstream = torch.rand(y.shape) * 2 - 1
    y.backward(upstream)
    emit(f"{name}.upstream", upstream)
    emit(f"{name}.y", y)
    emit(f"{name}.dx", x.grad)
    emit(f"{name}.dkernel", rnn.weight_ih_l0.grad.t())
    emit(f"{name}.drecurrent_kernel", rnn.weight_hh_l0.grad.t())
    emit(f"{name}.dbias", rnn.bias_ih_l0.grad)


# Dense: rank-2 and rank-3 inputs, with and without a final activation.
dense_case("dense_a", [4, 5], 3, "linear")
dense_case("dense_b", [2, 3, 4], 5, "tanh")
dense_case("dense_c", [3, 6], 4, "softmax")

# Conv2D: valid and same, strides 1 and 2, odd and even sizes, with and without bias.
conv_case("conv_a", [2, 5, 5, 3], 4, [3, 3], [1, 1], False, True, "linear")
conv_case("conv_b", [2, 6, 6, 2], 3, [3, 3], [1, 1], True, True, "tanh")
conv_case("conv_c", [2, 7, 6, 2], 3, [3, 2], [2, 2], True, False, "linear")
conv_case("conv_d", [1, 8, 7, 3], 2, [2, 2], [2, 2], False, True, "sigmoid")
conv_case("conv_e", [2, 6, 5, 1], 2, [4, 3], [2, 1], True, True, "linear")

# Pooling: non-overlapping and overlapping (3 with stride 2) windows, both paddings.
pool_case("max_a", "max", [2, 6, 6, 3], [2, 2], [2, 2], False)
pool_case("max_b", "max", [2, 7, 7, 2], [3, 3], [2, 2], True)
pool_case("max_c", "max", [1, 7, 8, 2], [3, 3], [2, 2], False)
pool_case("max_d", "max", [1, 5, 6, 2], [2, 2], [2, 2], True)
pool_case("avg_a", "avg", [2, 6, 6, 3], [2, 2], [2, 2], False)
pool_case("avg_b", "avg", [2, 7, 7, 2], [3, 3], [2, 2], True)
pool_case("avg_c", "avg", [1, 7, 8, 2], [3, 3], [2, 2], False)
pool_case("avg_d", "avg", [1, 5, 6, 2], [2, 2], [2, 2], True)
pool_case("avg_e", "avg", [1, 6, 6, 1], [3, 3], [1, 1], True)   # symmetric padding 1

# SimpleRNN: the last state and the whole sequence, tanh and relu.
rnn_case("rnn_a", [3, 4, 2], 5, False, "tanh")
rnn_case("rnn_b", [2, 5, 3], 4, True, "tanh")
rnn_case("rnn_c", [2, 3, 3], 4, True, "relu")

writer.write()
