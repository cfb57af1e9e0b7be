#!/usr/bin/python3
"""Reference values for lamina's losses, computed by PyTorch in float64.

Run with Debian's PyTorch:  /usr/bin/python3 tests/losses/reference/gen_losses_reference.py
It rewrites losses.txt beside this script; tests/losses/losses_test.cpp reads it.

Format (written by tests/support/reference.py, read by tests/support/reference.hpp): one
tensor per line, `name rank d0 ... v0 v1 ...`, values row-major, printed with repr. Each case
stores
  <case>.options  [loss, from_logits]  with loss an index into LOSSES (the C++ test keeps the
                                       same list)
  <case>.y_pred   predictions (probabilities, or logits when from_logits)
  <case>.y_true   targets (sparse cases: class ids as floats)
  <case>.loss     the scalar loss (rank 0)
  <case>.dy_pred  d loss / d y_pred

Keras semantics, written out with PyTorch ops: every loss is a mean over the batch; mean
squared error and binary cross-entropy average over the last axis first; categorical
cross-entropies renormalise y_pred to sum 1 over the last axis; probabilities are clipped to
[1e-7, 1 - 1e-7] (the test probabilities stay inside that range, so the clip is the identity
here and plain formulas apply); the from_logits forms use PyTorch's own fused losses.
"""

import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from reference import ReferenceWriter  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.manual_seed(20240613)

writer = ReferenceWriter(os.path.join(HERE, "losses.txt"))
emit = writer.emit
LOSSES = ["mean_squared_error", "binary_crossentropy", "categorical_crossentropy",
          "sparse_categorical_crossentropy"]
EPS = 1e-7

def uniform(shape, low, high):
    return torch.rand(shape) * (high - low) + low


def case(name, loss, from_logits, y_pred, y_true, fn):
    y_pred = y_pred.clone().requires_grad_()
    value = fn(y_pred, y_true)
    value.backward()
    writer.options(name, [LOSSES.index(loss), int(from_logits)])
    emit(f"{name}.y_pred", y_pred)
    emit(f"{name}.y_true", y_true)
    emit(f"{name}.loss", value)
    emit(f"{name}.dy_pred", y_pred.grad)


def inside_clip(p):
    assert float(p.min()) > EPS and float(p.max()) < 1 - EPS, "test probabilities must not clip"
    return p


def mse(p, t):
    return ((p - t.reshape(p.shape)) ** 2).mean(-1).mean()


def bce(p, t):
    p = inside_clip(p)
    t = t.reshape(p.shape)
    return (-(t * torch.log(p) + (1 - t) * torch.log(1 - p))).mean(-1).mean()


def bce_logits(x, t):
    return F.binary_cross_entropy_with_logits(x, t.reshape(x.shape), reduction="none").mean(-1).mean()


def cce(p, t):
    q = inside_clip(p / p.sum(-1, keepdim=True))
    return (-(t * torch.log(q)).sum(-1)).mean()


def cce_logits(x, t):
    return F.cross_entropy(x, t)  # probability targets (PyTorch >= 1.10)


def scce(p, labels):
    q = inside_clip(p / p.sum(-1, keepdim=True))
    return F.nll_loss(torch.log(q), labels.reshape(-1).long())


def scce_logits(x, labels):
    return F.cross_entropy(x, labels.reshape(-1).long())


def one_hot(labels, classes):
    return F.one_hot(labels, classes).to(torch.float64)


# mean squared error: same shapes, and [batch, 1] predictions against [batch] targets.
case("mse_a", "mean_squared_error", False, uniform([4, 3], -2, 2), uniform([4, 3], -2, 2), mse)
case("mse_b", "mean_squared_error", False, uniform([5, 1], -2, 2), uniform([5], -2, 2), mse)

# binary cross-entropy on probabilities: hard labels, soft labels with a [batch] target.
case("bce_a", "binary_crossentropy", False, uniform([4, 3], 0.05, 0.95),
     torch.randint(0, 2, [4, 3]).to(torch.float64), bce)
case("bce_b", "binary_crossentropy", False, uniform([6, 1], 0.01, 0.99), uniform([6], 0, 1), bce)
# ... and from logits, moderate and large (where the naive sigmoid-then-log would overflow).
case("bce_logits_a", "binary_crossentropy", True, uniform([4, 3], -4, 4),
     torch.randint(0, 2, [4, 3]).to(torch.float64), bce_logits)
case("bce_logits_b", "binary_crossentropy", True,
     torch.tensor([[60.0, -45.0, 0.5], [-80.0, 35.0, -0.25]]),
     torch.tensor([[0.0, 1.0, 1.0], [0.25, 1.0, 0.0]]), bce_logits)

# categorical cross-entropy on probabilities: unnormalised rows (renormalised first) against
# one-hot targets, normalised rows against soft targets.
case("cce_a", "categorical_crossentropy", False, uniform([4, 5], 0.1, 1.0),
     one_hot(torch.tensor([0, 3, 4, 1]), 5), cce)
case("cce_b", "categorical_crossentropy", False, torch.softmax(uniform([3, 4], -2, 2), -1),
     torch.softmax(uniform([3, 4], -1, 1), -1), cce)
case("cce_logits_a", "categorical_crossentropy", True, uniform([4, 5], -3, 3),
     one_hot(torch.tensor([2, 2, 0, 4]), 5), cce_logits)
case("cce_logits_b", "categorical_crossentropy", True,
     torch.tensor([[500.0, -300.0, 20.0], [-1000.0, -1001.0, -999.0]]),
     torch.tensor([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]), cce_logits)

# sparse categorical cross-entropy: labels [batch] and [batch, 1].
case("scce_a", "sparse_categorical_crossentropy", False, uniform([5, 4], 0.1, 1.0),
     torch.tensor([0.0, 3.0, 1.0, 1.0, 2.0]), scce)
case("scce_b", "sparse_categorical_crossentropy", False, torch.softmax(uniform([3, 6], -2, 2), -1),
     torch.tensor([[5.0], [0.0], [2.0]]), scce)
case("scce_logits_a", "sparse_categorical_crossentropy", True, uniform([5, 4], -3, 3),
     torch.tensor([3.0, 0.0, 0.0, 2.0, 1.0]), scce_logits)
case("scce_logits_b", "sparse_categorical_crossentropy", True,
     torch.tensor([[800.0, -200.0, 10.0], [-500.0, -499.0, -520.0]]),
     torch.tensor([[1.0], [0.0]]), scce_logits)

writer.write()
