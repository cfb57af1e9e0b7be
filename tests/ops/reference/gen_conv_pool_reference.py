#!/usr/bin/python3
"""Reference values for lamina's conv2d, max_pool2d and avg_pool2d, computed by PyTorch.

Run with Debian's PyTorch:  /usr/bin/python3 tests/ops/reference/gen_conv_pool_reference.py
It rewrites conv_pool.txt beside this script; tests/ops/{conv,pool}_test.cpp read it.

Format: one tensor per line, `name rank d0 ... d(rank-1) v0 v1 ...`, values row-major, printed
with repr (shortest text that round-trips a float64). Tensors are in lamina's layouts: images
NHWC, conv kernels [kh, kw, in_channels, filters] (Keras). Each case also stores its options as
a rank-1 tensor, so the C++ test needs no second copy of the configurations:
  conv:  <case>.options = [stride_h, stride_w, same]
  pool:  <case>.options = [pool_h, pool_w, stride_h, stride_w, same]   (same: 1, valid: 0)
The gradients are those of sum(y * upstream), i.e. backward(upstream).

PyTorch is NCHW with symmetric padding, so 'same' padding is applied explicitly with
TensorFlow's split (pad_total = max((out - 1) * s + k - in, 0), the odd one after), with -inf
for max pooling, and average pooling with 'same' divides by the in-bounds count only.
"""

import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.manual_seed(20240611)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_pool.txt")
lines = []


def emit(name, t):
    t = t.detach().contiguous()
    dims = " ".join(str(d) for d in t.shape)
    values = " ".join(repr(float(v)) for v in t.reshape(-1).tolist())
    lines.append(f"{name} {t.dim()} {dims} {values}".replace("  ", " "))


def same_pads(size, k, s):
    """TensorFlow 'same': (before, after) padding of one axis."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def pad_nchw(x, k, s, same, value=0.0):
    if not same:
        return x
    top, bottom = same_pads(x.shape[2], k[0], s[0])
    left, right = same_pads(x.shape[3], k[1], s[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def nhwc_to_nchw(x):
    return x.permute(0, 3, 1, 2)


def nchw_to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def conv_case(name, x_shape, k_shape, strides, same):
    x = (torch.rand(x_shape) * 2 - 1).requires_grad_()
    kernel = (torch.rand(k_shape) * 2 - 1).requires_grad_()
    # [kh, kw, C, F] -> [F, C, kh, kw]
    weight = kernel.permute(3, 2, 0, 1)
    xp = pad_nchw(nhwc_to_nchw(x), k_shape[:2], strides, same)
    y = nchw_to_nhwc(F.conv2d(xp, weight, stride=tuple(strides)))
    upstream = torch.rand(y.shape) * 2 - 1
    y.backward(upstream)
    emit(f"{name}.options", torch.tensor([strides[0], strides[1], int(same)], dtype=torch.float64))
    emit(f"{name}.x", x)
    emit(f"{name}.kernel", kernel)
    emit(f"{name}.upstream", upstream)
    emit(f"{name}.y", y)
    emit(f"{name}.dx", x.grad)
    emit(f"{name}.dkernel", kernel.grad)


def pool_case(name, x_shape, pool, strides, same):
    # A scaled random permutation: no ties, so the max-pool gradient is unambiguous.
    n = math.prod(x_shape)
    x0 = (torch.randperm(n).to(torch.float64) / n - 0.5).reshape(x_shape)
    emit(f"{name}.options",
         torch.tensor([pool[0], pool[1], strides[0], strides[1], int(same)], dtype=torch.float64))
    emit(f"{name}.x", x0)
    upstream = None
    for kind in ("max", "avg"):
        x = x0.clone().requires_grad_()
        xn = nhwc_to_nchw(x)
        if kind == "max":
            xp = pad_nchw(xn, pool, strides, same, value=-math.inf)
            y = F.max_pool2d(xp, pool, strides)
        else:
            # Sum over the in-bounds elements divided by their count (TensorFlow's 'same').
            total = F.avg_pool2d(pad_nchw(xn, pool, strides, same), pool, strides)
            count = F.avg_pool2d(pad_nchw(torch.ones_like(xn), pool, strides, same), pool, strides)
            y = total / count
        y = nchw_to_nhwc(y)
        if upstream is None:
            upstream = torch.rand(y.shape) * 2 - 1
            emit(f"{name}.upstream", upstream)
        y.backward(upstream)
        emit(f"{name}.{kind}_y", y)
        emit(f"{name}.{kind}_dx", x.grad)


# conv2d: strides 1 and 2, valid and same, odd and even sizes, 1-3 channels, non-square kernels.
conv_case("conv_a", [2, 5, 5, 3], [3, 3, 3, 4], [1, 1], False)
conv_case("conv_b", [2, 6, 7, 2], [3, 2, 2, 3], [2, 2], True)
conv_case("conv_c", [1, 7, 6, 3], [4, 3, 3, 2], [2, 1], True)   # even kernel: padding 1 + 2
conv_case("conv_d", [2, 9, 8, 1], [3, 3, 1, 5], [2, 2], False)
conv_case("conv_e", [2, 4, 5, 3], [1, 1, 3, 4], [1, 1], True)   # pointwise: no im2col

# pooling: non-overlapping, overlapping with padding on both sides, padding after only.
pool_case("pool_a", [2, 6, 6, 3], [2, 2], [2, 2], False)
pool_case("pool_b", [2, 7, 7, 2], [3, 3], [2, 2], True)
pool_case("pool_c", [1, 5, 8, 3], [2, 3], [1, 2], True)

with open(OUT, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"wrote {len(lines)} tensors to {OUT}")
