#!/usr/bin/python3
"""Reference values for the lstm and gru ops with a recurrent dropout mask (Keras's
recurrent_dropout), computed by PyTorch in float64.

Run with Debian's PyTorch:  /usr/bin/python3 tests/ops/reference/gen_recurrent_dropout_reference.py
It rewrites recurrent_dropout.txt beside this script; tests/ops/recurrent_test.cpp reads it
(format: tests/support/reference.py).

PyTorch has no recurrent dropout of this kind (nn.LSTM's dropout acts between stacked layers),
so the recurrences are written out by hand below, in Keras's formulation, and differentiated by
autograd. The mask m [batch, units] is fixed over the sequence and multiplies the previous
state h_prev wherever it meets the recurrent kernel, as in Keras:
  LSTM (keras/src/layers/rnn/lstm.py, LSTMCell.call): z = x_t W + (m h_prev) U + b; the cell
      state c and the output h = o tanh(c) are not masked.
  GRU (keras/src/layers/rnn/gru.py, GRUCell.call with implementation=1, one shared mask):
      reset_after:  q = (m h_prev) U + b_rec, hh = tanh(p_h + r q_h);
      otherwise:    q_zr = (m h_prev) U_zr, hh = tanh(p_h + (r (m h_prev)) U_h);
      in both, h = z h_prev + (1 - z) hh with the unmasked h_prev.
Without a mask (m = 1) these are the recurrences of gen_recurrent_reference.py, which checks
them against nn.LSTM and nn.GRU; this script checks that m = 1 reproduces nn.LSTM and nn.GRU
too.

Layouts are lamina's (Keras's): x [batch, time, features]; kernel [features, gates units];
recurrent_kernel [units, gates units]; bias [4 units] (LSTM), [2, 3 units] (GRU reset_after) or
[3 units]. Each case stores `<case>.options` = [is_gru, return_sequences, go_backwards,
reset_after] and `<case>.mask`; the gradients (grad_x, grad_kernel, grad_recurrent_kernel,
grad_bias) are those of out.backward(upstream).
"""

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from reference import ReferenceWriter  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
torch.manual_seed(20261203)

writer = ReferenceWriter(os.path.join(HERE, "recurrent_dropout.txt"))
emit, options = writer.emit, writer.options


def uniform(shape, low=-1.0, high=1.0):
    return (torch.rand(shape) * (high - low) + low).requires_grad_()


def walk(steps, go_backwards):
    return range(steps - 1, -1, -1) if go_backwards else range(steps)


def lstm_forward(x, kernel, recurrent, bias, mask, go_backwards):
    """Every h in walking order [batch, time, units]."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h = torch.zeros(batch, units)
    c = torch.zeros(batch, units)
    outputs = []
    for t in walk(steps, go_backwards):
        z = x[:, t] @ kernel + (mask * h) @ recurrent + bias
        i, f, g, o = z.split(units, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, 1)


def gru_forward(x, kernel, recurrent, bias, mask, go_backwards, reset_after):
    """Every h in walking order [batch, time, units]."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h = torch.zeros(batch, units)
    outputs = []
    for t in walk(steps, go_backwards):
        hm = mask * h  # the recurrent operand
        p = x[:, t] @ kernel + (bias[0] if reset_after else bias)
        p_z, p_r, p_h = p.split(units, dim=1)
        if reset_after:
            q = hm @ recurrent + bias[1]
            q_z, q_r, q_h = q.split(units, dim=1)
            z = torch.sigmoid(p_z + q_z)
            r = torch.sigmoid(p_r + q_r)
            hh = torch.tanh(p_h + r * q_h)
        else:
            q = hm @ recurrent[:, : 2 * units]
            z = torch.sigmoid(p_z + q[:, :units])
            r = torch.sigmoid(p_r + q[:, units:])
            hh = torch.tanh(p_h + (r * hm) @ recurrent[:, 2 * units:])
        h = z * h + (1 - z) * hh  # the unmasked h_prev
        outputs.append(h)
    return torch.stack(outputs, 1)


def check_against_torch(x, kernel, recurrent, bias):
    """With m = 1 the hand-written recurrences are nn.LSTM's and nn.GRU's."""
    units = recurrent.shape[0]
    ones = torch.ones(x.shape[0], units)
    with torch.no_grad():
        if kernel.shape[1] == 4 * units:
            m = torch.nn.LSTM(x.shape[2], units, batch_first=True)
            m.weight_ih_l0.copy_(kernel.t())
            m.weight_hh_l0.copy_(recurrent.t())
            m.bias_ih_l0.copy_(bias)
            m.bias_hh_l0.zero_()
            mine = lstm_forward(x, kernel, recurrent, bias, ones, False)
        else:
            def order(w):  # Keras's z, r, h -> PyTorch's r, z, n
                z, r, h = w.chunk(3, dim=-1)
                return torch.cat([r, z, h], dim=-1)
            m = torch.nn.GRU(x.shape[2], units, batch_first=True)
            m.weight_ih_l0.copy_(order(kernel).t())
            m.weight_hh_l0.copy_(order(recurrent).t())
            m.bias_ih_l0.copy_(order(bias[0]))
            m.bias_hh_l0.copy_(order(bias[1]))
            mine = gru_forward(x, kernel, recurrent, bias, ones, False, True)
        out, _ = m(x)
    assert torch.allclose(out, mine, rtol=0, atol=1e-14)


def dropout_mask(batch, units, rate):
    """As the layers draw it: 0 with probability rate, else 1 / (1 - rate)."""
    keep = (torch.rand(batch, units) >= rate).double()
    keep[0, 0], keep[0, 1] = 0.0, 1.0  # at least one of each in every case
    return keep / (1 - rate)


def case(name, is_gru, seq, backwards, reset_after=True, batch=3, steps=5, features=4, units=3):
    gates = 3 if is_gru else 4
    x = uniform([batch, steps, features])
    kernel = uniform([features, gates * units], -0.8, 0.8)
    recurrent = uniform([units, gates * units], -0.8, 0.8)
    bias_shape = [2, 3 * units] if is_gru and reset_after else [gates * units]
    bias = uniform(bias_shape, -0.5, 0.5)
    if not backwards and (not is_gru or reset_after):
        check_against_torch(x, kernel, recurrent, bias)
    mask = dropout_mask(batch, units, 0.4)
    if is_gru:
        hs = gru_forward(x, kernel, recurrent, bias, mask, backwards, reset_after)
    else:
        hs = lstm_forward(x, kernel, recurrent, bias, mask, backwards)
    out = hs if seq else hs[:, -1]
    options(name, [int(is_gru), int(seq), int(backwards), int(reset_after)])
    inputs = {"x": x, "kernel": kernel, "recurrent_kernel": recurrent, "bias": bias}
    for key, t in inputs.items():
        emit(f"{name}.{key}", t)
    emit(f"{name}.mask", mask)
    upstream = torch.rand(out.shape) * 2 - 1
    out.backward(upstream)
    emit(f"{name}.upstream", upstream)
    emit(f"{name}.out", out)
    for key, t in inputs.items():
        emit(f"{name}.grad_{key}", t.grad)


case("lstm_last", False, False, False)
case("lstm_sequences_backwards", False, True, True)
case("gru_last", True, False, False)
case("gru_sequences_backwards", True, True, True)
case("gru_reset_before_sequences", True, True, False, reset_after=False)
case("gru_reset_before_last_backwards", True, False, True, reset_after=False)
writer.write()
