#!/usr/bin/python3
"""Reference values for lamina's losses, computed by PyTorch in float64.

Run with Debian's PyTorch:  /usr/bin/python3 tests/losses/reference/gen_losses_reference.py
It rewrites losses.txt beside this script; tests/losses/losses_test.cpp reads it.

Format (written by tests/support/reference.py, read by tests/support/reference.hpp): one
tensor per line, `name rank d0 ... v0 v1 ...`, values row-major, printed with repr. Each case
stores
  <case>.options  [loss, from_logits]  with loss an index into LOSSES (the C++ test keeps the
                                       same list); Huber and CosineSimilarity cases add a third
                                       value, delta or axis
  <case>.y_pred   predictions (probabilities, or logits when from_logits)
  <case>.y_true   targets (sparse cases: class ids as floats)
  <case>.loss     the scalar loss (rank 0)
  <case>.dy_pred  d loss / d y_pred

Keras semantics, written out with PyTorch ops: every loss is a mean over the batch; mean
squared error and binary cross-entropy average over the last axis first; categorical
cross-entropies renormalise y_pred to sum 1 over the last axis; probabilities are clipped to
[1e-7, 1 - 1e-7] (the test probabilities stay inside that range, so the clip is the identity
here and plain formulas apply); the from_logits forms use PyTorch's own fused losses.

The other Keras losses, and where their reference comes from:
  mean_absolute_error  PyTorch's L1Loss.
  huber                PyTorch's HuberLoss (the same piecewise formula as Keras's, delta given).
  log_cosh             PyTorch has none: computed by hand as |x| + log1p(e^{-2|x|}) - log 2 (for
                       moderate x this is checked against log(cosh(x)) here).
  kl_divergence        PyTorch's KLDivLoss (pointwise, summed over the last axis) on y_true and
                       y_pred clipped to [1e-7, 1] explicitly, as Keras clips both.
  hinge                PyTorch's HingeEmbeddingLoss is a different loss: computed by hand from
                       Keras's formula, mean(max(1 - y y_pred, 0)) with 0/1 labels mapped to -1/1
                       (only when every label is 0 or 1, as Keras).
  poisson              PyTorch's PoissonNLLLoss(log_input=False) with eps=1e-7 is Keras's
                       y_pred - y_true log(y_pred + 1e-7) (PyTorch's default eps is 1e-8).
  cosine_similarity    PyTorch's CosineSimilarity (negated, Keras's sign) on ordinary vectors;
                       where a vector's norm is below Keras's epsilon, by hand from Keras 3's
                       l2 normalisation x * min(rsqrt(sum x^2), 1 / 1e-7).
Sequence outputs of sparse categorical cross-entropy ([batch, steps, classes] against labels
[batch, steps]) use PyTorch's CrossEntropyLoss (or NLLLoss of the log) over the flattened
batch * steps positions, Keras's mean over every position.
"""

import math
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
          "sparse_categorical_crossentropy", "mean_absolute_error", "huber", "log_cosh",
          "kl_divergence", "hinge", "poisson", "cosine_similarity"]
EPS = 1e-7

def uniform(shape, low, high):
    return torch.rand(shape) * (high - low) + low


def case(name, loss, from_logits, y_pred, y_true, fn, extra=()):
    y_pred = y_pred.clone().requires_grad_()
    value = fn(y_pred, y_true)
    value.backward()
    writer.options(name, [LOSSES.index(loss), int(from_logits)] + list(extra))
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

# sparse categorical cross-entropy on sequence outputs: [batch, steps, classes] against labels
# [batch, steps] (or [batch, steps, 1]), the mean over all batch * steps positions.
def scce_seq(p, labels):
    q = inside_clip(p / p.sum(-1, keepdim=True))
    return F.nll_loss(torch.log(q).reshape(-1, p.shape[-1]), labels.reshape(-1).long())


def scce_seq_logits(x, labels):
    return torch.nn.CrossEntropyLoss()(x.reshape(-1, x.shape[-1]), labels.reshape(-1).long())


case("scce_seq_a", "sparse_categorical_crossentropy", False,
     torch.softmax(uniform([2, 3, 4], -2, 2), -1),
     torch.tensor([[0.0, 3.0, 1.0], [2.0, 2.0, 0.0]]), scce_seq)
case("scce_seq_logits_a", "sparse_categorical_crossentropy", True, uniform([3, 4, 5], -3, 3),
     torch.randint(0, 5, [3, 4, 1]).to(torch.float64), scce_seq_logits)


# mean absolute error: PyTorch's L1Loss (the mean over every element is Keras's mean over the
# last axis, then over the batch).
def mae(p, t):
    return torch.nn.L1Loss()(p, t.reshape(p.shape))


case("mae_a", "mean_absolute_error", False, uniform([4, 3], -2, 2), uniform([4, 3], -2, 2), mae)
case("mae_b", "mean_absolute_error", False, uniform([5, 1], -2, 2), uniform([5], -2, 2), mae)
case("mae_c", "mean_absolute_error", False, uniform([2, 3, 2], -2, 2), uniform([2, 3, 2], -2, 2),
     mae)


# huber: errors on both sides of delta.
def huber(delta):
    def fn(p, t):
        return torch.nn.HuberLoss(delta=delta)(p, t.reshape(p.shape))
    return fn


case("huber_a", "huber", False, uniform([4, 3], -3, 3), uniform([4, 3], -3, 3), huber(1.0), [1.0])
case("huber_b", "huber", False, uniform([3, 4], -1, 1), uniform([3, 4], -1, 1), huber(0.3), [0.3])


# log_cosh, by hand (see above).
def log_cosh(p, t):
    x = p - t.reshape(p.shape)
    stable = x.abs() + torch.log1p(torch.exp(-2 * x.abs())) - math.log(2.0)
    if float(x.abs().max()) < 20:
        assert torch.allclose(stable, torch.log(torch.cosh(x)), rtol=1e-13, atol=1e-15)
    return stable.mean()


case("log_cosh_a", "log_cosh", False, uniform([4, 3], -3, 3), uniform([4, 3], -3, 3), log_cosh)
# Large differences, where cosh itself overflows (cosh(800) = inf in float64).
case("log_cosh_b", "log_cosh", False, torch.tensor([[400.0, -800.0], [1e4, 0.25]]),
     torch.tensor([[0.0, 0.5], [-2.0, 0.0]]), log_cosh)


# kl_divergence: KLDivLoss on clipped inputs, summed over the last axis, mean over the rest.
def kld(p, t):
    t = t.reshape(p.shape).clamp(EPS, 1)
    q = p.clamp(EPS, 1)
    return F.kl_div(torch.log(q), t, reduction="none").sum(-1).mean()


case("kld_a", "kl_divergence", False, torch.softmax(uniform([3, 4], -2, 2), -1),
     torch.softmax(uniform([3, 4], -2, 2), -1), kld)
# A zero target (clipped to 1e-7, so it still counts) and a prediction below 1e-7 (clipped, no
# gradient); rank 3.
case("kld_b", "kl_divergence", False,
     torch.tensor([[[0.2, 0.3, 0.5], [1e-9, 0.6, 0.4]], [[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]]]),
     torch.tensor([[[0.0, 0.5, 0.5], [0.1, 0.8, 0.1]], [[1.0, 0.0, 0.0], [0.3, 0.3, 0.4]]]), kld)


# hinge, by hand from Keras's formula.
def hinge(p, t):
    t = t.reshape(p.shape)
    if bool(((t == 0) | (t == 1)).all()):
        t = 2 * t - 1
    margins = 1 - t * p
    assert float(margins.abs().min()) > 1e-6, "no margin exactly at the kink"
    return torch.clamp(margins, min=0).mean()


case("hinge_a", "hinge", False, uniform([4, 3], -2, 2),
     torch.randint(0, 2, [4, 3]).to(torch.float64), hinge)
case("hinge_b", "hinge", False, uniform([5, 1], -2, 2),
     torch.tensor([1.0, -1.0, -1.0, 1.0, 1.0]), hinge)
# Labels that are not all 0/1 are used as they are (0 stays 0).
case("hinge_c", "hinge", False, uniform([2, 3], -2, 2),
     torch.tensor([[1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]), hinge)


# poisson: PoissonNLLLoss with Keras's epsilon.
def poisson(p, t):
    return torch.nn.PoissonNLLLoss(log_input=False, eps=EPS)(p, t.reshape(p.shape))


case("poisson_a", "poisson", False, uniform([4, 3], 0.1, 3.0),
     torch.poisson(torch.full([4, 3], 1.5)), poisson)
case("poisson_b", "poisson", False, uniform([6, 1], 0.5, 5.0),
     torch.poisson(torch.full([6], 2.5)), poisson)


# cosine_similarity: -cos along the axis, mean over the other positions.
def cosine(p, t):
    return -torch.nn.CosineSimilarity(dim=-1)(p, t.reshape(p.shape)).mean()


def keras_l2_normalize(x, axis):
    square_sum = (x * x).sum(axis, keepdim=True)
    return x * torch.minimum(torch.rsqrt(square_sum), torch.tensor(1.0 / EPS))


def cosine_by_hand(axis):
    def fn(p, t):
        t = t.reshape(p.shape)
        return -(keras_l2_normalize(t, axis) * keras_l2_normalize(p, axis)).sum(axis).mean()
    return fn


case("cosine_a", "cosine_similarity", False, uniform([4, 5], -2, 2), uniform([4, 5], -2, 2),
     cosine, [-1])
case("cosine_b", "cosine_similarity", False, uniform([2, 3, 4], -2, 2), uniform([2, 3, 4], -2, 2),
     cosine, [-1])
# Norms below 1e-7 (Keras divides by 1e-7 instead) in y_pred and in y_true.
case("cosine_c", "cosine_similarity", False,
     torch.tensor([[1e-8, -2e-8, 3e-9], [0.5, -1.0, 2.0], [3.0, 1.0, -1.0]]),
     torch.tensor([[1.0, 2.0, -0.5], [4e-8, 1e-8, -2e-8], [0.5, 0.5, 0.5]]), cosine_by_hand(-1),
     [-1])
# Along axis 1 of [batch, steps, features].
case("cosine_d", "cosine_similarity", False, uniform([2, 3, 2], -2, 2), uniform([2, 3, 2], -2, 2),
     cosine_by_hand(1), [1])

writer.write()
