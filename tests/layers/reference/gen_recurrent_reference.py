#!/usr/bin/python3
"""Reference values for lamina's LSTM, GRU, Bidirectional and Embedding layers, computed by
PyTorch in float64.

Run with Debian's PyTorch:  /usr/bin/python3 tests/layers/reference/gen_recurrent_reference.py
It rewrites recurrent.txt beside this script; tests/layers/recurrent_test.cpp and
tests/layers/embedding_test.cpp read it (format: tests/support/reference.py).

Tensors are in lamina's (Keras's) layouts: x [batch, time, features]; LSTM kernel
[features, 4 units] and recurrent_kernel [units, 4 units] with the gates i, f, c, o side by side,
bias [4 units]; GRU kernel [features, 3 units], recurrent_kernel [units, 3 units] with gates
z, r, h, bias [2, 3 units] (input row, recurrent row) when reset_after, else [3 units];
Bidirectional weights forward_<layer>/<weight> and backward_<layer>/<weight>; Embedding
embeddings [input_dim, output_dim]. Each case stores its configuration as `<case>.options`:
  lstm:  [units, return_sequences, go_backwards, use_bias]
  gru:   [units, return_sequences, go_backwards, use_bias, reset_after]
  bi:    [units, return_sequences, merge_mode (index into MERGE_MODES), is_gru]
  emb:   [input_dim, output_dim]
The gradients (dx, d<weight>) are those of sum(y * upstream), i.e. backward(upstream).

The recurrences are written out below in Keras's formulation (h = z h_prev + (1 - z) hh for the
GRU) and differentiated by autograd; where PyTorch has the same layer the result is checked
against it, converting the layouts: nn.LSTM has the same gate order (weight_ih = kernel^T,
weight_hh = recurrent_kernel^T, bias_ih = bias, bias_hh = 0); nn.GRU is Keras's reset_after=True
with gates in the order r, z, n (the columns are permuted, bias_ih = bias[0], bias_hh = bias[1]);
nn.LSTM(bidirectional=True) is Bidirectional(LSTM(return_sequences=True), merge_mode="concat").
"""

import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from reference import ReferenceWriter, uniform  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
torch.manual_seed(20240801)

writer = ReferenceWriter(os.path.join(HERE, "recurrent.txt"))
emit, options, finish = writer.emit, writer.options, writer.finish
MERGE_MODES = ["concat", "sum", "mul", "ave"]


def lstm_forward(x, kernel, recurrent, bias, go_backwards):
    """Every h in walking order [batch, time, units], and the last c."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h = torch.zeros(batch, units)
    c = torch.zeros(batch, units)
    outputs = []
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    for t in order:
        z = x[:, t] @ kernel + h @ recurrent
        if bias is not None:
            z = z + bias
        i, f, g, o = z.split(units, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, 1), c


def gru_forward(x, kernel, recurrent, bias, go_backwards, reset_after):
    """Every h in walking order [batch, time, units]."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h = torch.zeros(batch, units)
    outputs = []
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    for t in order:
        p = x[:, t] @ kernel
        if bias is not None:
            p = p + (bias[0] if reset_after else bias)
        p_z, p_r, p_h = p.split(units, dim=1)
        if reset_after:
            q = h @ recurrent
            if bias is not None:
                q = q + bias[1]
            q_z, q_r, q_h = q.split(units, dim=1)
            z = torch.sigmoid(p_z + q_z)
            r = torch.sigmoid(p_r + q_r)
            hh = torch.tanh(p_h + r * q_h)
        else:
            q = h @ recurrent[:, : 2 * units]
            z = torch.sigmoid(p_z + q[:, :units])
            r = torch.sigmoid(p_r + q[:, units:])
            hh = torch.tanh(p_h + (r * h) @ recurrent[:, 2 * units:])
        h = z * h + (1 - z) * hh
        outputs.append(h)
    return torch.stack(outputs, 1)


def check_torch_lstm(x, kernel, recurrent, bias, seq):
    units = recurrent.shape[0]
    m = torch.nn.LSTM(x.shape[2], units, batch_first=True)
    with torch.no_grad():
        m.weight_ih_l0.copy_(kernel.t())
        m.weight_hh_l0.copy_(recurrent.t())
        m.bias_ih_l0.copy_(bias)
        m.bias_hh_l0.zero_()
        out, (hn, cn) = m(x)
        mine, c = lstm_forward(x, kernel, recurrent, bias, False)
    assert torch.allclose(out, mine, rtol=0, atol=1e-14)
    assert torch.allclose(cn[0], c, rtol=0, atol=1e-14)


def torch_gru_order(m):
    """Keras's z, r, h column blocks -> PyTorch's r, z, n row blocks (transposed)."""
    z, r, h = m.chunk(3, dim=-1)
    return torch.cat([r, z, h], dim=-1)


def check_torch_gru(x, kernel, recurrent, bias):
    units = recurrent.shape[0]
    m = torch.nn.GRU(x.shape[2], units, batch_first=True)
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch_gru_order(kernel).t())
        m.weight_hh_l0.copy_(torch_gru_order(recurrent).t())
        m.bias_ih_l0.copy_(torch_gru_order(bias[0]))
        m.bias_hh_l0.copy_(torch_gru_order(bias[1]))
        out, _ = m(x)
        mine = gru_forward(x, kernel, recurrent, bias, False, True)
    assert torch.allclose(out, mine, rtol=0, atol=1e-14)


def weights(features, units, gates, bias_shape):
    kernel = uniform([features, gates * units], -0.8, 0.8)
    recurrent = uniform([units, gates * units], -0.8, 0.8)
    bias = uniform(bias_shape, -0.5, 0.5) if bias_shape else None
    return kernel, recurrent, bias


def lstm_case(name, x_shape, units, seq, backwards, use_bias=True):
    x = uniform(x_shape)
    kernel, recurrent, bias = weights(x_shape[2], units, 4, [4 * units] if use_bias else None)
    if use_bias:
        check_torch_lstm(x, kernel, recurrent, bias, seq)
    hs, _ = lstm_forward(x, kernel, recurrent, bias, backwards)
    y = hs if seq else hs[:, -1]
    options(name, [units, int(seq), int(backwards), int(use_bias)])
    inputs = {"x": x, "kernel": kernel, "recurrent_kernel": recurrent}
    if use_bias:
        inputs["bias"] = bias
    for key, t in inputs.items():
        emit(f"{name}.{key}", t)
    finish(name, y, inputs)


def lstm_state_case(name, x_shape, units, seq):
    """return_state: y, h and c, each with its own upstream gradient."""
    x = uniform(x_shape)
    kernel, recurrent, bias = weights(x_shape[2], units, 4, [4 * units])
    hs, c = lstm_forward(x, kernel, recurrent, bias, False)
    y = hs if seq else hs[:, -1]
    h = hs[:, -1]
    options(name, [units, int(seq), 0, 1])
    inputs = {"x": x, "kernel": kernel, "recurrent_kernel": recurrent, "bias": bias}
    for key, t in inputs.items():
        emit(f"{name}.{key}", t)
    ups = {k: torch.rand(t.shape) * 2 - 1 for k, t in (("y", y), ("h", h), ("c", c))}
    ((y * ups["y"]).sum() + (h * ups["h"]).sum() + (c * ups["c"]).sum()).backward()
    for k, t in (("y", y), ("h", h), ("c", c)):
        emit(f"{name}.upstream_{k}", ups[k])
        emit(f"{name}.{k}", t)
    for key, t in inputs.items():
        emit(f"{name}.d{key}", t.grad)


def gru_case(name, x_shape, units, seq, backwards, reset_after, use_bias=True):
    x = uniform(x_shape)
    bias_shape = ([2, 3 * units] if reset_after else [3 * units]) if use_bias else None
    kernel, recurrent, bias = weights(x_shape[2], units, 3, bias_shape)
    if use_bias and reset_after:
        check_torch_gru(x, kernel, recurrent, bias)
    hs = gru_forward(x, kernel, recurrent, bias, backwards, reset_after)
    y = hs if seq else hs[:, -1]
    options(name, [units, int(seq), int(backwards), int(use_bias), int(reset_after)])
    inputs = {"x": x, "kernel": kernel, "recurrent_kernel": recurrent}
    if use_bias:
        inputs["bias"] = bias
    for key, t in inputs.items():
        emit(f"{name}.{key}", t)
    finish(name, y, inputs)


def bi_case(name, x_shape, units, seq, merge_mode, is_gru):
    x = uniform(x_shape)
    gates = 3 if is_gru else 4
    bias_shape = [2, 3 * units] if is_gru else [4 * units]
    inner = "gru" if is_gru else "lstm"
    inputs = {"x": x}
    outs = []
    for direction, backwards in (("forward", False), ("backward", True)):
        kernel, recurrent, bias = weights(x_shape[2], units, gates, bias_shape)
        for key, t in (("kernel", kernel), ("recurrent_kernel", recurrent), ("bias", bias)):
            inputs[f"{direction}_{inner}/{key}"] = t
        if is_gru:
            hs = gru_forward(x, kernel, recurrent, bias, backwards, True)
        else:
            hs, _ = lstm_forward(x, kernel, recurrent, bias, backwards)
        if seq:
            outs.append(hs.flip(1) if backwards else hs)  # Keras reverses it back
        else:
            outs.append(hs[:, -1])
    a, b = outs
    y = {"concat": lambda: torch.cat([a, b], -1), "sum": lambda: a + b, "mul": lambda: a * b,
         "ave": lambda: (a + b) / 2}[merge_mode]()
    if seq and merge_mode == "concat" and not is_gru:
        m = torch.nn.LSTM(x_shape[2], units, batch_first=True, bidirectional=True)
        with torch.no_grad():
            for suffix, d in (("", "forward"), ("_reverse", "backward")):
                getattr(m, "weight_ih_l0" + suffix).copy_(inputs[f"{d}_lstm/kernel"].t())
                getattr(m, "weight_hh_l0" + suffix).copy_(inputs[f"{d}_lstm/recurrent_kernel"].t())
                getattr(m, "bias_ih_l0" + suffix).copy_(inputs[f"{d}_lstm/bias"])
                getattr(m, "bias_hh_l0" + suffix).zero_()
            out, _ = m(x)
        assert torch.allclose(out, y.detach(), rtol=0, atol=1e-14)
    options(name, [units, int(seq), MERGE_MODES.index(merge_mode), int(is_gru)])
    for key, t in inputs.items():
        emit(f"{name}.{key}", t)
    finish(name, y, inputs)


def embedding_case(name, index_shape, input_dim, output_dim):
    indices = torch.randint(0, input_dim, index_shape)
    table = uniform([input_dim, output_dim])
    y = F.embedding(indices, table)
    options(name, [input_dim, output_dim])
    emit(f"{name}.x", indices.to(torch.float64))
    emit(f"{name}.embeddings", table)
    upstream = torch.rand(y.shape) * 2 - 1
    y.backward(upstream)
    emit(f"{name}.upstream", upstream)
    emit(f"{name}.y", y)
    emit(f"{name}.dx", torch.zeros(index_shape))  # indices get no gradient
    emit(f"{name}.dembeddings", table.grad)


# LSTM: last output and sequences, forwards and backwards, with and without bias.
lstm_case("lstm_a", [3, 4, 2], 5, False, False)
lstm_case("lstm_b", [2, 5, 3], 4, True, False)
lstm_case("lstm_c", [2, 4, 3], 3, True, True)
lstm_case("lstm_d", [3, 3, 2], 4, False, True, use_bias=False)
lstm_state_case("lstm_state_a", [2, 4, 3], 3, False)
lstm_state_case("lstm_state_b", [2, 3, 2], 4, True)

# GRU: reset_after (PyTorch's nn.GRU) and before, both directions, with and without bias.
gru_case("gru_a", [3, 4, 2], 5, False, False, True)
gru_case("gru_b", [2, 5, 3], 4, True, False, True)
gru_case("gru_c", [2, 4, 3], 3, True, True, True)
gru_case("gru_d", [3, 4, 2], 4, False, False, False)
gru_case("gru_e", [2, 5, 3], 3, True, True, False)
gru_case("gru_f", [2, 3, 2], 3, True, False, True, use_bias=False)
gru_case("gru_g", [2, 3, 2], 3, False, False, False, use_bias=False)

# Bidirectional: every merge mode, sequences and last outputs, around LSTM and GRU.
bi_case("bi_a", [2, 4, 3], 3, True, "concat", False)
bi_case("bi_b", [2, 4, 2], 3, False, "sum", True)
bi_case("bi_c", [3, 3, 2], 2, True, "mul", False)
bi_case("bi_d", [2, 5, 2], 3, False, "ave", False)
bi_case("bi_e", [2, 3, 3], 2, True, "concat", True)

# Embedding: rank-1 and rank-2 indices; repeated indices sum their gradients.
embedding_case("emb_a", [3, 4], 6, 5)
embedding_case("emb_b", [7], 3, 4)

writer.write()
