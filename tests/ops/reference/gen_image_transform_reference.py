#!/usr/bin/python3
"""Reference values for lamina's affine_transform op (include/lamina/ops/image_transform.hpp),
the op behind RandomFlip, RandomTranslation, RandomRotation and RandomZoom.

Run with Debian's PyTorch:  /usr/bin/python3 tests/ops/reference/gen_image_transform_reference.py
It rewrites image_transform.txt beside this script; tests/ops/image_transform_test.cpp reads it
(format: tests/support/reference.py). Images are NHWC.

PyTorch has no equivalent of Keras's affine_transform: grid_sample reflects about the pixel
centres ("mirror"), not about the edge of the last pixel as Keras's "reflect" does, and has no
"wrap" nor a fill value. So the reference is computed by hand here, written from TensorFlow's
documented ImageProjectiveTransformV3 (which Keras's affine_transform calls) and the fill modes
of Keras's docs, in float64 torch arithmetic so that autograd gives the gradient:

  transform [a0, a1, a2, b0, b1, b2, c0, c1] maps output point (x, y) = (col, row) to input
      x' = (a0 x + a1 y + a2) / k,  y' = (b0 x + b1 y + b2) / k,  k = c0 x + c1 y + 1
  the input is extended beyond its edges, row a b c d:
      reflect  (d c b a | a b c d | d c b a)   numpy.pad mode "symmetric"
      wrap     (a b c d | a b c d | a b c d)   numpy.pad mode "wrap"
      constant (k k k k | a b c d | k k k k)   fill_value
      nearest  (a a a a | a b c d | d d d d)   numpy.pad mode "edge"
  and read at (y', x') in the extended image: "nearest" reads the pixel at the rounded point
  (halves away from zero, C's round(); no case here lands on a half), "bilinear" weighs the four
  pixels around it by (1 - fy)(1 - fx), (1 - fy) fx, fy (1 - fx), fy fx.

Where the conventions agree, torch.nn.functional.grid_sample(align_corners=True) is checked
against this by-hand reference: bilinear with padding_mode="zeros" is fill_mode "constant" with
fill_value 0, and with padding_mode="border" it is fill_mode "nearest".

Each case `<c>` stores `<c>.options` = [interpolation (0 nearest, 1 bilinear), fill_mode
(0 reflect, 1 wrap, 2 constant, 3 nearest), fill_value] and x, transforms, y, upstream and dx
(the gradient of sum(y * upstream) with respect to x).
"""

import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from reference import ReferenceWriter  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.manual_seed(20261203)

FILL_MODES = ["reflect", "wrap", "constant", "nearest"]
NUMPY_PAD = {"reflect": "symmetric", "wrap": "wrap", "nearest": "edge"}


def input_points(t, h, w):
    """The input point (x', y') that each output pixel reads, as two [h, w] arrays."""
    a0, a1, a2, b0, b1, b2, c0, c1 = t
    y, x = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    k = c0 * x + c1 * y + 1.0
    return (a0 * x + a1 * y + a2) / k, (b0 * x + b1 * y + b2) / k


def round_half_away(v):
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def transform_image(img, t, interpolation, fill_mode, fill_value):
    """One image [h, w, c] (a torch tensor) transformed by the 8 parameters t."""
    h, w, _ = img.shape
    xi, yi = input_points(t, h, w)
    pad = int(math.ceil(max(np.abs(xi).max(), np.abs(yi).max()))) + 2
    if fill_mode == "constant":
        ext = F.pad(img.permute(2, 0, 1), (pad, pad, pad, pad), value=fill_value).permute(1, 2, 0)
    else:
        rows = np.pad(np.arange(h), pad, mode=NUMPY_PAD[fill_mode])
        cols = np.pad(np.arange(w), pad, mode=NUMPY_PAD[fill_mode])
        ext = img[torch.as_tensor(rows)][:, torch.as_tensor(cols)]
    if interpolation == "nearest":
        for v in (xi, yi):  # no point within 1e-6 of a rounding tie
            assert np.all(np.abs(np.abs(v - np.floor(v)) - 0.5) > 1e-6), v
        r = torch.as_tensor(round_half_away(yi).astype(np.int64) + pad)
        c = torch.as_tensor(round_half_away(xi).astype(np.int64) + pad)
        return ext[r, c]
    y0, x0 = np.floor(yi), np.floor(xi)
    fy, fx = torch.as_tensor(yi - y0)[..., None], torch.as_tensor(xi - x0)[..., None]
    r0 = torch.as_tensor(y0.astype(np.int64) + pad)
    c0 = torch.as_tensor(x0.astype(np.int64) + pad)
    return ((1 - fy) * (1 - fx) * ext[r0, c0] + (1 - fy) * fx * ext[r0, c0 + 1] +
            fy * (1 - fx) * ext[r0 + 1, c0] + fy * fx * ext[r0 + 1, c0 + 1])


def grid_sample_nhwc(x, transforms, padding_mode):
    """PyTorch's bilinear grid_sample(align_corners=True) at the same input points."""
    n, h, w, _ = x.shape
    grids = []
    for i in range(n):
        xi, yi = input_points(transforms[i].tolist(), h, w)
        grids.append(np.stack([xi / (w - 1) * 2 - 1, yi / (h - 1) * 2 - 1], axis=-1))
    grid = torch.as_tensor(np.stack(grids))
    y = F.grid_sample(x.permute(0, 3, 1, 2), grid, mode="bilinear", padding_mode=padding_mode,
                      align_corners=True)
    return y.permute(0, 2, 3, 1)


def rotation(angle, h, w):
    """Keras's RandomRotation matrix for an angle in radians."""
    c, s = math.cos(angle), math.sin(angle)
    return [c, -s, ((w - 1) - (c * (w - 1) - s * (h - 1))) / 2, s, c,
            ((h - 1) - (s * (w - 1) + c * (h - 1))) / 2, 0.0, 0.0]


def zoom(zx, zy, h, w):
    """Keras's RandomZoom matrix."""
    return [zx, 0.0, (w - 1) / 2 * (1 - zx), 0.0, zy, (h - 1) / 2 * (1 - zy), 0.0, 0.0]


def translation(dx, dy):
    """Keras's RandomTranslation matrix (shift right by dx, down by dy)."""
    return [1.0, 0.0, -dx, 0.0, 1.0, -dy, 0.0, 0.0]


out = ReferenceWriter(os.path.join(HERE, "image_transform.txt"))


def case(name, shape, transforms, interpolation, fill_mode, fill_value=0.0):
    n = shape[0]
    assert len(transforms) == n
    x = (torch.rand(shape) * 2 - 1).requires_grad_()
    t = torch.tensor(transforms)
    y = torch.stack([transform_image(x[i], transforms[i], interpolation, fill_mode, fill_value)
                     for i in range(n)])
    upstream = torch.rand(y.shape) * 2 - 1
    y.backward(upstream)
    if interpolation == "bilinear" and fill_mode in ("constant", "nearest") and \
            (fill_mode == "nearest" or fill_value == 0.0):
        padding_mode = "zeros" if fill_mode == "constant" else "border"
        gs = grid_sample_nhwc(x.detach(), t, padding_mode)
        err = (gs - y.detach()).abs().max().item()
        print(f"{name}: grid_sample({padding_mode}) vs by-hand reference: max |diff| {err:.3g}")
        assert err < 1e-12, err
    out.options(name, [0.0 if interpolation == "nearest" else 1.0,
                       float(FILL_MODES.index(fill_mode)), fill_value])
    out.emit(f"{name}.x", x)
    out.emit(f"{name}.transforms", t)
    out.emit(f"{name}.y", y)
    out.emit(f"{name}.upstream", upstream)
    out.emit(f"{name}.dx", x.grad)


# Rotations, zooms and translations whose points leave the image by up to two image sizes, so
# that reflect and wrap fold more than once. No point lands on a pixel centre or a half.
H, W = 5, 6
mixed = [rotation(0.7, H, W), zoom(1.83, 1.37, H, W), translation(-7.3, 2.2)]
case("reflect_bilinear", (3, H, W, 2), mixed, "bilinear", "reflect")
case("wrap_bilinear", (3, H, W, 2), mixed, "bilinear", "wrap")
case("constant_bilinear", (3, H, W, 2), mixed, "bilinear", "constant", 0.5)
case("zeros_bilinear", (3, H, W, 2), mixed, "bilinear", "constant", 0.0)
case("nearest_bilinear", (3, H, W, 2), mixed, "bilinear", "nearest")
nearest_safe = [rotation(-1.1, H, W), zoom(0.61, 1.43, H, W), translation(3.3, -6.2)]
for fill in FILL_MODES:
    case(f"{fill}_nearest", (3, H, W, 1), nearest_safe, "nearest", fill, -0.25)
# A projective transform (c0, c1 != 0) on a single-channel and a 3-channel image.
projective = [[0.9, 0.15, 0.3, -0.1, 1.1, -0.4, 0.03, -0.02], [1.2, -0.3, -0.8, 0.25, 0.8, 0.6, -0.04, 0.05]]
case("projective_zeros", (2, 4, 7, 3), projective, "bilinear", "constant", 0.0)
case("projective_reflect", (2, 4, 7, 3), projective, "bilinear", "reflect")
out.write()
