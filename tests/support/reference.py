"""Helpers for the PyTorch reference generators (tests/<dir>/reference/gen_*.py): the writer
of the plain-text format that tests/support/reference.hpp reads, and TensorFlow's 'same'
padding for PyTorch's NCHW ops.

A generator imports it with
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
    from reference import ReferenceWriter, same_pads, pad_nchw
"""

import math

import torch
import torch.nn.functional as F


class ReferenceWriter:
    """Collects named tensors and writes them one a line: `name rank d0 ... v0 v1 ...`, values
    row-major, printed with repr (the shortest text that round-trips a float64)."""

    def __init__(self, path):
        self.path = path
        self.lines = []

    def emit(self, name, t):
        t = torch.as_tensor(t).detach().contiguous()
        dims = " ".join(str(d) for d in t.shape)
        values = " ".join(repr(float(v)) for v in t.reshape(-1).tolist())
        self.lines.append(f"{name} {t.dim()} {dims} {values}".replace("  ", " "))

    def options(self, name, values):
        """`<name>.options`: a case's configuration as a rank-1 tensor."""
        self.emit(f"{name}.options", torch.tensor(values, dtype=torch.float64))

    def write(self):
        with open(self.path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        print(f"wrote {len(self.lines)} tensors to {self.path}")


def same_pads(size, k, s):
    """TensorFlow 'same': (before, after) padding of one axis, the odd one after."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def pad_nchw(x, k, s, same, value=0.0):
    """x [N, C, H, W] padded as TensorFlow's 'same' for window k and strides s (unchanged for
    'valid')."""
    if not same:
        return x
    top, bottom = same_pads(x.shape[2], k[0], s[0])
    left, right = same_pads(x.shape[3], k[1], s[1])
    return F.pad(x, (left, right, top, bottom), value=value)
