#!/usr/bin/python3
"""Reference values for lamina's 1-D layers (Conv1D, MaxPooling1D, AveragePooling1D,
GlobalAveragePooling1D, GlobalMaxPooling1D) and Rescaling, computed by PyTorch in float64.

Run with Debian's PyTorch:  /usr/bin/python3 tests/layers/reference/gen_conv1d_reference.py
It rewrites conv1d.txt beside this script; tests/layers/conv1d_test.cpp reads it.

Format (tests/support/reference.py writes it, tests/support/reference.hpp reads it): one tensor
per line, `name rank d0 ... v0 v1 ...`, values row-major. Tensors are in lamina's (Keras's)
layouts: sequences [batch, steps, channels], Conv1D kernels [kernel_size, in_channels, filters].
Each case stores its configuration as a rank-1 tensor `<case>.options`, so the C++ test holds no
second copy:
  conv1d:      [filters, kernel_size, strides, padding, use_bias, activation]
  pool1d:      [pool_size, strides, same]
  gap1d/gmp1d: [keepdims]
  rescaling:   [scale, offset]
with padding 0 = valid, 1 = same, 2 = causal and activation an index into ACTIVATIONS
(tests/support/layer_check.hpp keeps the same list). The gradients (dx, dkernel, dbias) are those
of sum(y * upstream), i.e. backward(upstream).

PyTorch differs from Keras in layout and padding, so the script converts: [batch, steps,
channels] <-> torch's [batch, channels, steps]; the kernel [k, in, out] <-> torch's [out, in, k];
TensorFlow's 'same' padding (pad_total = max((out - 1) * s + k - steps, 0), half before and the
odd one after) and Keras's 'causal' padding (k - 1 zeros before, none after) are applied with
F.pad (-inf for max pooling) before an unpadded F.conv1d / F.max_pool1d / F.avg_pool1d; 'same'
average pooling divides by the in-bounds count only (the average of a padded ones tensor).
Each Conv1D case is also checked against Keras's formula written out as a loop over the kernel
taps (y[t] = sum_j x_padded[t * s + j] @ kernel[j]), and symmetric 'same' average pooling against
PyTorch's own count_include_pad=False. Rescaling has no PyTorch layer: its reference is Keras's
formula x * scale + offset in torch arithmetic.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from reference import ACTIVATIONS, ReferenceWriter, act, distinct, same_pads, uniform  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.manual_seed(20261203)

writer = ReferenceWriter(os.path.join(HERE, "conv1d.txt"))
emit, options = writer.emit, writer.options
PADDINGS = ["valid", "same", "causal"]


def finish(name, y, inputs):
    """Emits the inputs, y, a random upstream gradient and the gradients of sum(y * upstream)."""
    for key, t in inputs.items():
        emit(f"{name}.{key}", t)
    writer.finish(name, y, inputs)


def pad_steps(xn, k, s, padding, value=0.0):
    """xn [N, C, L] padded as Keras pads for window k, strides s ('valid' leaves it)."""
    if padding == "same":
        before, after = same_pads(xn.shape[2], k, s)
        return F.pad(xn, (before, after), value=value)
    if padding == "causal":
        return F.pad(xn, (k - 1, 0), value=value)
    return xn


def conv1d_case(name, x_shape, filters, k, s, padding, use_bias, activation):
    x = uniform(x_shape)
    kernel = uniform([k, x_shape[2], filters])
    bias = uniform([filters])
    xp = pad_steps(x.permute(0, 2, 1), k, s, padding)
    z = F.conv1d(xp, kernel.permute(2, 1, 0), stride=s).permute(0, 2, 1)
    # Keras's formula, tap by tap, as an independent check of the layout conversions.
    xs = xp.permute(0, 2, 1)
    steps = z.shape[1]
    manual = sum(xs[:, j:j + (steps - 1) * s + 1:s] @ kernel[j] for j in range(k))
    assert torch.allclose(manual, z, rtol=0, atol=1e-13)
    expected_steps = {"valid": (x_shape[1] - k) // s + 1}.get(padding, math.ceil(x_shape[1] / s))
    assert steps == expected_steps, (name, steps, expected_steps)
    if use_bias:
        z = z + bias
    y = act(activation, z)
    options(name, [filters, k, s, PADDINGS.index(padding), int(use_bias),
                   ACTIVATIONS.index(activation)])
    inputs = {"x": x, "kernel": kernel}
    if use_bias:
        inputs["bias"] = bias
    finish(name, y, inputs)


def pool1d_case(name, kind, x_shape, pool, s, same):
    x = distinct(x_shape)
    xn = x.permute(0, 2, 1)
    padding = "same" if same else "valid"
    if kind == "max":
        y = F.max_pool1d(pad_steps(xn, pool, s, padding, value=-math.inf), pool, s)
    else:
        total = F.avg_pool1d(pad_steps(xn, pool, s, padding), pool, s)
        count = F.avg_pool1d(pad_steps(torch.ones_like(xn), pool, s, padding), pool, s)
        y = total / count
        before, after = same_pads(x_shape[1], pool, s) if same else (0, 0)
        if before == after:
            torch_y = F.avg_pool1d(xn, pool, s, padding=before, count_include_pad=False)
            assert torch.allclose(torch_y, y, rtol=0, atol=1e-14)
    options(name, [pool, s, int(same)])
    finish(name, y.permute(0, 2, 1), {"x": x})


def global_case(name, kind, x_shape, keepdims):
    x = distinct(x_shape)
    y = x.mean(1, keepdim=keepdims) if kind == "avg" else x.amax(1, keepdim=keepdims)
    options(name, [int(keepdims)])
    finish(name, y, {"x": x})


def rescaling_case(name, x_shape, scale, offset):
    x = uniform(x_shape, 0.0, 255.0)
    options(name, [scale, offset])
    finish(name, x * scale + offset, {"x": x})


# Conv1D: every padding, strides 1, 2 and 3, odd and even kernels, with and without bias.
conv1d_case("conv1d_a", [2, 7, 3], 4, 3, 1, "valid", True, "linear")
conv1d_case("conv1d_b", [2, 8, 2], 3, 3, 2, "same", True, "tanh")
conv1d_case("conv1d_c", [2, 6, 3], 2, 4, 1, "same", False, "linear")
conv1d_case("conv1d_d", [1, 9, 2], 3, 3, 2, "causal", True, "relu")
conv1d_case("conv1d_e", [2, 5, 2], 4, 2, 1, "causal", True, "softmax")
conv1d_case("conv1d_f", [2, 10, 3], 2, 3, 3, "valid", True, "sigmoid")

# Pooling: non-overlapping and overlapping windows, both paddings (same: symmetric and not).
pool1d_case("max1d_a", "max", [2, 8, 3], 2, 2, False)
pool1d_case("max1d_b", "max", [2, 7, 2], 3, 2, True)
pool1d_case("max1d_c", "max", [1, 9, 2], 3, 1, False)
pool1d_case("max1d_d", "max", [1, 5, 2], 2, 2, True)
pool1d_case("avg1d_a", "avg", [2, 8, 3], 2, 2, False)
pool1d_case("avg1d_b", "avg", [2, 7, 2], 3, 2, True)   # symmetric padding 1
pool1d_case("avg1d_c", "avg", [1, 6, 2], 4, 3, True)   # pads 0 before, 1 after
pool1d_case("avg1d_d", "avg", [1, 5, 2], 2, 2, True)   # the last window holds one step

# Global pooling over the steps, with and without keepdims.
global_case("gap1d_a", "avg", [2, 5, 3], False)
global_case("gap1d_b", "avg", [3, 4, 2], True)
global_case("gmp1d_a", "max", [2, 5, 3], False)
global_case("gmp1d_b", "max", [3, 4, 2], True)

# Rescaling: Keras's two usual ones, to [0, 1] and to [-1, 1].
rescaling_case("rescaling_a", [2, 3, 4], 1.0 / 255, 0.0)
rescaling_case("rescaling_b", [2, 4, 4, 1], 1.0 / 127.5, -1.0)

writer.write()
