"""Helpers for the PyTorch reference generators (tests/<dir>/reference/gen_*.py): the writer
of the plain-text format that tests/support/reference.hpp reads, and TensorFlow's 'same'
padding for PyTorch's NCHW ops.

A generator imports it with
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
    from reference import ReferenceWriter, same_pads, pad_nchw

It also holds what the layer generators share: the activations by the index their `.options`
store (ACTIVATIONS, act), random inputs (uniform, distinct) and ReferenceWriter.finish.
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

    def finish(self, name, y, inputs):
        """Emits y, a random upstream gradient and the gradients of sum(y * upstream) with
        respect to each of `inputs` ({key: tensor}) as `<name>.d<key>`."""
        upstream = torch.rand(y.shape) * 2 - 1
        y.backward(upstream)
        self.emit(f"{name}.upstream", upstream)
        self.emit(f"{name}.y", y)
        for key, t in inputs.items():
            self.emit(f"{name}.d{key}", t.grad)

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


# The activations a layer case names by index in its `.options` (tests/support/layer_check.hpp's
# reference_activation keeps the same list).
ACTIVATIONS = ["linear", "relu", "tanh", "sigmoid", "softmax"]


def act(name, y):
    """Keras's activation `name` (softmax over the last axis)."""
    return {"linear": lambda t: t, "relu": torch.relu, "tanh": torch.tanh,
            "sigmoid": torch.sigmoid, "softmax": lambda t: torch.softmax(t, dim=-1)}[name](y)


def uniform(shape, low=-1.0, high=1.0):
    """A leaf tensor of uniform values in [low, high) that records its gradient."""
    return (torch.rand(shape) * (high - low) + low).requires_grad_()


def distinct(shape):
    """A scaled random permutation: no ties, so a max has one winner."""
    n = math.prod(shape)
    return (torch.randperm(n).to(torch.float64) / n - 0.5).reshape(shape).requires_grad_()
