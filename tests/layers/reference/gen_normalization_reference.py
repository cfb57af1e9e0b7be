#!/usr/bin/python3
"""Reference values for lamina's BatchNormalization and LayerNormalization layers (and the
batch_norm, batch_norm_inference and layer_norm ops under them), computed by PyTorch in float64.

Run with Debian's PyTorch:  /usr/bin/python3 tests/layers/reference/gen_normalization_reference.py
It rewrites normalization.txt beside this script; tests/layers/normalization_test.cpp reads it
(format: tests/support/reference.py). Tensors are in lamina's (Keras's) layouts: images NHWC.

Each BatchNormalization case `bn_*` stores `<case>.options` = [momentum, epsilon, steps] and:
  x0 .. x{steps-1}  the batches of `steps` training-mode calls, in order
  gamma, beta       the weights (fixed: no optimizer step between the calls)
  y0, upstream0, dx0, dgamma0, dbeta0   the first call's output and the gradients of
                    sum(y0 * upstream0)
  mean0, variance0  the first batch's statistics (biased variance)
  moving_mean, moving_variance          after all the calls, from zeros and ones
  xi, yi, upstreami, dxi, dgammai, dbetai   an inference-mode call with those moving statistics
Each LayerNormalization case `ln_*` stores `<case>.options` = [epsilon] and x, gamma, beta, y,
upstream, dx, dgamma, dbeta.

Keras's moving statistics are not PyTorch's: Keras updates
  moving = moving * momentum + batch_stat * (1 - momentum)
with the *biased* batch variance (ops.moments), while torch's running_var takes the unbiased one
(and torch's `momentum` is Keras's 1 - momentum). So the moving statistics below are computed with
Keras's rule written out; F.batch_norm's own running statistics are checked against it (the
mean equal, the variance equal to the rule applied to the unbiased variance), which shows the
rule is the only difference. The normalisation itself (biased variance, training and inference)
is F.batch_norm's and F.layer_norm's.
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
torch.set_num_threads(1)
torch.manual_seed(20261202)

writer = ReferenceWriter(os.path.join(HERE, "normalization.txt"))
emit, options = writer.emit, writer.options


def uniform(shape, low=-1.0, high=1.0):
    return torch.rand(shape) * (high - low) + low


def nhwc_batch_norm(x, mean, var, gamma, beta, training, momentum, eps):
    """F.batch_norm over the last axis of x [batch, ..., features]: torch wants the features in
    axis 1, so move them there and back. `momentum` is torch's (Keras's 1 - momentum)."""
    if x.dim() == 2:
        return F.batch_norm(x, mean, var, gamma, beta, training, momentum, eps)
    perm = [0, x.dim() - 1] + list(range(1, x.dim() - 1))
    back = [0] + list(range(2, x.dim())) + [1]
    y = F.batch_norm(x.permute(perm), mean, var, gamma, beta, training, momentum, eps)
    return y.permute(back)


def differentiate(name, suffix, y, x, gamma, beta):
    """Emits y, a random upstream and the gradients of sum(y * upstream)."""
    upstream = uniform(y.shape)
    dx, dgamma, dbeta = torch.autograd.grad(y, [x, gamma, beta], upstream)
    emit(f"{name}.y{suffix}", y)
    emit(f"{name}.upstream{suffix}", upstream)
    emit(f"{name}.dx{suffix}", dx)
    emit(f"{name}.dgamma{suffix}", dgamma)
    emit(f"{name}.dbeta{suffix}", dbeta)


def bn_case(name, x_shape, momentum, eps, steps):
    options(name, [momentum, eps, steps])
    features = x_shape[-1]
    gamma = uniform([features], 0.5, 1.5).requires_grad_()
    beta = uniform([features]).requires_grad_()
    emit(f"{name}.gamma", gamma)
    emit(f"{name}.beta", beta)
    moving_mean, moving_var = torch.zeros(features), torch.ones(features)
    torch_mean, torch_var = torch.zeros(features), torch.ones(features)
    axes = list(range(len(x_shape) - 1))
    count = math.prod(x_shape[:-1])  # values per feature
    for k in range(steps):
        # Means away from 0 and spreads away from 1, different in each batch.
        x = (uniform(x_shape) * (1.5 + k) + 0.7 * k - 0.3).requires_grad_()
        emit(f"{name}.x{k}", x)
        y = nhwc_batch_norm(x, torch_mean, torch_var, gamma, beta, True, 1 - momentum, eps)
        mean = x.detach().mean(dim=axes)
        var = x.detach().var(dim=axes, unbiased=False)
        if k == 0:
            differentiate(name, "0", y, x, gamma, beta)
            emit(f"{name}.mean0", mean)
            emit(f"{name}.variance0", var)
        # Keras's rule (biased variance); torch's own running stats use the unbiased variance.
        expected_torch_var = moving_var * momentum + var * count / (count - 1) * (1 - momentum)
        moving_mean = moving_mean * momentum + mean * (1 - momentum)
        moving_var = moving_var * momentum + var * (1 - momentum)
        assert torch.allclose(torch_mean, moving_mean, rtol=0, atol=1e-14)
        assert torch.allclose(torch_var, expected_torch_var, rtol=0, atol=1e-14)
        torch_var = moving_var.clone()  # keep torch on Keras's trajectory for the next check
    emit(f"{name}.moving_mean", moving_mean)
    emit(f"{name}.moving_variance", moving_var)

    x = (uniform(x_shape) * 2 + 0.5).requires_grad_()
    emit(f"{name}.xi", x)
    y = nhwc_batch_norm(x, moving_mean, moving_var, gamma, beta, False, 0.0, eps)
    manual = (x - moving_mean) / torch.sqrt(moving_var + eps) * gamma + beta
    assert torch.allclose(y, manual, rtol=0, atol=1e-13)
    differentiate(name, "i", y, x, gamma, beta)


def ln_case(name, x_shape, eps):
    options(name, [eps])
    features = x_shape[-1]
    x = (uniform(x_shape) * 2 + 0.4).requires_grad_()
    gamma = uniform([features], 0.5, 1.5).requires_grad_()
    beta = uniform([features]).requires_grad_()
    emit(f"{name}.x", x)
    emit(f"{name}.gamma", gamma)
    emit(f"{name}.beta", beta)
    y = F.layer_norm(x, [features], gamma, beta, eps)
    differentiate(name, "", y, x, gamma, beta)


# After Dense: [batch, features], Keras's defaults.
bn_case("bn_dense", [6, 4], 0.99, 1e-3, 3)
# After Conv2D: NHWC [batch, h, w, channels], other momentum and epsilon.
bn_case("bn_conv", [2, 3, 3, 4], 0.9, 1e-2, 4)
# [batch, features] and a sequence [batch, time, features].
ln_case("ln_dense", [3, 5], 1e-3)
ln_case("ln_seq", [2, 3, 4], 1e-5)

writer.write()
