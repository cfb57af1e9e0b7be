#!/usr/bin/python3
"""Converts a PyTorch nn.Sequential into a lamina model file (a safetensors file that lamina's
load_model<T>(path) reads, architecture and weights).

    /usr/bin/python3 tools/torch_to_lamina.py OUT.safetensors --input-shape 28,28,1 \\
        --builder my_net.py:build --state-dict weights.pt [--dtype float64]
    /usr/bin/python3 tools/torch_to_lamina.py OUT.safetensors --input-shape 28,28,1 \\
        --module whole_module.pt

The network comes either from a Python file and the name of a function in it that returns the
nn.Sequential (called without arguments), with the weights from a state_dict saved by
torch.save(module.state_dict(), path) (loaded with weights_only=True, so it runs no code); or
from a whole module saved by torch.save(module) (--module: unpickling runs code from the file,
so use it only for files you trust, and the module's classes must be importable).

--input-shape is one sample's shape in lamina's layout: images [height, width, channels]
(lamina is channels_last; the PyTorch network takes [batch, channels, height, width]),
sequences [time, features], vectors [features].

Mapping (the inverse of lamina_to_torch.py):
  nn.Conv2d                      Conv2D, weight [out, in, kh, kw] -> kernel [kh, kw, in, out];
                                 padding 0 or "valid" -> "valid", "same" or (k - 1) / 2 with
                                 stride 1, or with a stride the padding TensorFlow's "same" rule
                                 gives for the input size (when even) -> "same"; groups 1,
                                 dilation 1, zero padding only
  nn.Linear                      Dense, weight [out, in] -> kernel [in, out]; after an nn.Flatten
                                 of an image the kernel's rows are permuted from PyTorch's
                                 (c, h, w) order to lamina's (h, w, c)
  nn.ReLU, Sigmoid, Tanh, Softmax, LeakyReLU(0.2), ELU(1), Softplus
                                 right after an nn.Conv2d, ConvTranspose2d or Linear: that
                                 layer's activation (as Keras writes Dense(64,
                                 activation="relu")); elsewhere, or
                                 when the module's name is neither a number nor
                                 "<previous layer's name>_<activation>": an Activation layer
  nn.MaxPool2d, nn.AvgPool2d     MaxPooling2D, AveragePooling2D (no padding, no ceil_mode)
  nn.Flatten                     Flatten (start_dim 1)
  nn.Dropout                     Dropout (rate = p)
  nn.RNN (one layer, batch_first, tanh or relu), or lamina_torch_modules.SimpleRNN
                                 SimpleRNN, kernel = weight_ih.T, recurrent_kernel = weight_hh.T,
                                 bias = bias_ih + bias_hh; a bare nn.RNN (whose tuple output
                                 ends an nn.Sequential) only as the last module, with
                                 return_sequences
  nn.LSTM, nn.GRU (one layer, batch_first), or lamina_torch_modules.LSTM, GRU
                                 LSTM (gates i, f, g, o are Keras's i, f, c, o), GRU
                                 (reset_after; gate blocks reordered from r, z, n to z, r, h,
                                 bias [2, 3 units] = [bias_ih, bias_hh]); as nn.RNN otherwise
  nn.ConvTranspose2d             Conv2DTranspose, weight [in, out, kh, kw] -> kernel
                                 [kh, kw, out, in]; padding 0 with output_padding max(s - k, 0)
                                 -> "valid", (k - s) / 2 with output_padding 0 -> "same"
  nn.BatchNorm2d (images), nn.BatchNorm1d (vectors)
                                 BatchNormalization: weight, bias, running_mean, running_var ->
                                 gamma, beta, moving_mean, moving_variance; eps -> epsilon,
                                 momentum p -> 1 - p (track_running_stats and a momentum needed)
  nn.LayerNorm(features)         LayerNormalization (vectors and sequences, not images)
  nn.Embedding                   Embedding, weight -> embeddings (no max_norm)
  nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d(1), lamina_torch_modules.GlobalAveragePooling2D,
  GlobalMaxPooling2D             GlobalAveragePooling2D, GlobalMaxPooling2D (keepdims for the
                                 adaptive pools, whose output is [channels, 1, 1])
  nn.ZeroPad2d, nn.Upsample (nearest, whole factors)   ZeroPadding2D, UpSampling2D
  nn.Unflatten (a vector to a vector or sequence), lamina_torch_modules.Reshape   Reshape
  nn.LeakyReLU, nn.ELU, nn.Softmax with other parameters than lamina's activations
                                 LeakyReLU, ELU, Softmax layers (the axis mapped from NCHW)
  nn.Hardtanh(0, max)            ReLU(max_value=max)
  nn.Identity, nested nn.Sequential   dropped, flattened
"""
import argparse
import importlib.util
import json
import os
import re
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lamina_format  # noqa: E402
from lamina_torch_modules import (GRU, LSTM, GlobalAveragePooling2D,  # noqa: E402
                                  GlobalMaxPooling2D, Reshape, SimpleRNN, activation_name,
                                  gru_gate_order, same_padding)


class ConversionError(ValueError):
    """A module or an option that lamina has no equivalent for."""


SUPPORTED = ("Conv2d", "ConvTranspose2d", "Linear", "MaxPool2d", "AvgPool2d",
             "AdaptiveAvgPool2d(1)", "AdaptiveMaxPool2d(1)", "ZeroPad2d", "Upsample (nearest)",
             "Flatten", "Unflatten", "Dropout", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
             "Embedding", "RNN", "LSTM", "GRU", "ReLU", "Sigmoid", "Tanh", "Softmax", "LeakyReLU",
             "ELU", "Hardtanh(0, max)", "Softplus", "Identity", "lamina_torch_modules' modules")


_SNAKE = {"Conv2D": "conv2d", "Dense": "dense", "Flatten": "flatten", "Dropout": "dropout",
          "MaxPooling2D": "max_pooling2d", "AveragePooling2D": "average_pooling2d",
          "Activation": "activation", "SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru",
          "Conv2DTranspose": "conv2d_transpose", "BatchNormalization": "batch_normalization",
          "LayerNormalization": "layer_normalization", "Embedding": "embedding",
          "GlobalAveragePooling2D": "global_average_pooling2d",
          "GlobalMaxPooling2D": "global_max_pooling2d", "ZeroPadding2D": "zero_padding2d",
          "UpSampling2D": "up_sampling2d", "Reshape": "reshape", "LeakyReLU": "leaky_re_lu",
          "ELU": "elu", "ReLU": "re_lu", "Softmax": "softmax"}
_RNN_INITIALIZERS = {"kernel_initializer": "glorot_uniform",
                     "recurrent_initializer": "orthogonal", "bias_initializer": "zeros"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _pair(v):
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def _numpy(t, dtype):
    return t.detach().cpu().numpy().astype(dtype, copy=True)


def _children(seq, prefix=""):
    """(name, module) of an nn.Sequential's modules, nested nn.Sequentials flattened."""
    for name, m in seq.named_children():
        full = f"{prefix}{name}"
        if isinstance(m, nn.Sequential):
            yield from _children(m, full + "_")
        else:
            yield full, m


class _Converter:
    def __init__(self, input_shape, dtype, fuse_activations):
        self.shape = list(input_shape)  # one sample's shape, lamina's layout
        self.dtype = np.dtype(dtype)
        self.fuse = fuse_activations
        self.layers = []  # {"class_name", "config"} in order
        self.tensors = {}  # "layer/weight" -> numpy array
        self.names = set()
        self.counters = {}
        self.flatten_image = None  # [h, w, c] of a flattened image awaiting its nn.Linear
        self.fusable = None  # the last layer's config when an activation may still fuse into it
        self.ended = None  # why no module may follow (a bare nn.RNN)

    def fail(self, name, module, why):
        raise ConversionError(f"module '{name}' ({module.__class__.__name__}): {why}")

    def layer_name(self, module_name, class_name):
        if _NAME.match(module_name) and module_name not in self.names:
            name = module_name
        else:
            base = _SNAKE[class_name]
            while True:
                n = self.counters.get(base, 0)
                self.counters[base] = n + 1
                name = base if n == 0 else f"{base}_{n}"
                if name not in self.names:
                    break
        self.names.add(name)
        return name

    def add(self, module_name, module, class_name, options, weights=()):
        name = self.layer_name(module_name, class_name)
        params = list(module.parameters())
        config = {"name": name, "trainable": all(p.requires_grad for p in params)}
        if not self.layers:
            config["input_shape"] = list(self.input_shape)
        config.update(options)
        self.layers.append({"class_name": class_name, "config": config})
        for weight, value in weights:
            self.tensors[f"{name}/{weight}"] = value.astype(self.dtype, copy=False)
        self.fusable = config if class_name in ("Conv2D", "Conv2DTranspose", "Dense") else None
        return config

    def convert(self, seq):
        if not isinstance(seq, nn.Sequential):
            raise ConversionError(f"expected an nn.Sequential, got {type(seq).__name__}")
        self.input_shape = list(self.shape)
        for name, m in _children(seq):
            if self.ended:
                self.fail(name, m, self.ended)
            self.module(name, m)
        if not self.layers:
            raise ConversionError("the nn.Sequential has no module lamina needs a layer for")
        if self.flatten_image:
            raise ConversionError("the network ends with an nn.Flatten of an image: lamina's "
                                  "output would hold its values in (h, w, c) order, PyTorch's "
                                  "in (c, h, w)")
        config = {"class_name": "Sequential",
                  "config": {"name": "sequential", "layers": self.layers},
                  "build_config": {"input_shape": self.input_shape}}
        return config, self.tensors

    def module(self, name, m):
        shape = self.shape
        if isinstance(m, nn.Identity):
            return
        act = None
        try:
            act = activation_name(m, shape)
        except ValueError as e:
            # Parameters lamina's activation names lack: a layer of their own when lamina has one.
            if not self.activation_layer(name, m):
                self.fail(name, m, str(e))
            return
        if act is not None:
            prev = self.fusable
            auto = name.isdigit() or not _NAME.match(name)
            if self.fuse and prev is not None and prev["activation"] == "linear" and (
                    auto or name == f"{prev['name']}_{act}"):
                prev["activation"] = act
                self.fusable = None
            else:
                self.add(name, m, "Activation", {"activation": act})
            return
        if self.flatten_image and not isinstance(m, (nn.Linear, nn.Dropout)):
            self.fail(name, m, "lamina's converter needs the nn.Linear right after an nn.Flatten "
                               "of an image (to permute its rows), with at most dropout and "
                               "activations between")
        if isinstance(m, nn.Conv2d):
            self.conv2d(name, m)
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            self.pool2d(name, m)
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                self.fail(name, m, f"start_dim={m.start_dim}, end_dim={m.end_dim} (lamina's "
                                   "Flatten keeps the batch axis and flattens the rest)")
            if len(shape) == 3 and shape[2] > 1 and shape[0] * shape[1] > 1:
                self.flatten_image = list(shape)  # (c, h, w) and (h, w, c) orders differ
            self.add(name, m, "Flatten", {})
            self.shape = [int(np.prod(shape))]
        elif isinstance(m, nn.Linear):
            self.linear(name, m)
        elif isinstance(m, nn.Dropout) and type(m) is nn.Dropout:
            self.add(name, m, "Dropout", {"rate": float(m.p)})
        elif isinstance(m, (nn.RNN, nn.LSTM, nn.GRU, SimpleRNN, LSTM, GRU)):
            self.rnn(name, m)
        elif isinstance(m, nn.ConvTranspose2d):
            self.conv2d_transpose(name, m)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            self.batch_norm(name, m)
        elif isinstance(m, nn.LayerNorm):
            self.layer_norm(name, m)
        elif isinstance(m, nn.Embedding):
            self.embedding(name, m)
        elif isinstance(m, (GlobalAveragePooling2D, GlobalMaxPooling2D, nn.AdaptiveAvgPool2d,
                            nn.AdaptiveMaxPool2d)):
            self.global_pool2d(name, m)
        elif isinstance(m, (nn.ZeroPad2d, nn.Upsample)):
            self.image_resize(name, m)
        elif isinstance(m, (Reshape, nn.Unflatten)):
            self.reshape(name, m)
        elif isinstance(m, nn.Hardtanh) and m.min_val == 0 and m.max_val >= 0:
            self.add(name, m, "ReLU", {"max_value": float(m.max_val), "negative_slope": 0.0,
                                       "threshold": 0.0})
        else:
            self.fail(name, m, "lamina has no equivalent layer (supported: " +
                      ", ".join(SUPPORTED) + ")")

    def conv2d(self, name, m):
        shape = self.shape
        if len(shape) != 3:
            self.fail(name, m, f"expects an image, got per-sample shape {shape}")
        h, w, c = shape
        if m.in_channels != c:
            self.fail(name, m, f"in_channels={m.in_channels} but the input has {c} channels")
        if m.groups != 1 or tuple(m.dilation) != (1, 1) or m.padding_mode != "zeros":
            self.fail(name, m, "groups, dilation and padding_mode other than 1, 1, 'zeros' have "
                               "no lamina equivalent")
        kh, kw = m.kernel_size
        sh, sw = m.stride
        if m.padding in ("valid", (0, 0)):
            padding = "valid"
            out = [(h - kh) // sh + 1, (w - kw) // sw + 1]
        elif m.padding == "same" or (m.stride == (1, 1) and
                                     tuple(m.padding) == ((kh - 1) / 2, (kw - 1) / 2)):
            # PyTorch pads (k - 1) // 2 before and the rest after, as TensorFlow's "same".
            padding = "same"
            out = [h, w]
        elif all(total % 2 == 0 and p == total // 2 for (_, total), p in
                 zip(map(same_padding, (h, w), (kh, kw), (sh, sw)), m.padding)):
            # A strided conv whose even padding is what "same" pads on this input size.
            padding = "same"
            out = [same_padding(h, kh, sh)[0], same_padding(w, kw, sw)[0]]
        else:
            self.fail(name, m, f"padding={m.padding} with stride={m.stride} on {h}x{w} pixels is "
                               "neither lamina's 'valid' (0) nor its 'same' (TensorFlow's "
                               "padding for this size, when it is even)")
        if min(out) < 1:
            self.fail(name, m, f"kernel {kh}x{kw} does not fit the input {shape}")
        weights = [("kernel", _numpy(m.weight, self.dtype).transpose(2, 3, 1, 0))]
        if m.bias is not None:
            weights.append(("bias", _numpy(m.bias, self.dtype)))
        self.add(name, m, "Conv2D", {
            "filters": m.out_channels, "kernel_size": [kh, kw], "strides": [sh, sw],
            "padding": padding, "activation": "linear", "use_bias": m.bias is not None,
            "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"}, weights)
        self.shape = out + [m.out_channels]

    def pool2d(self, name, m):
        shape = self.shape
        if len(shape) != 3:
            self.fail(name, m, f"expects an image, got per-sample shape {shape}")
        k = _pair(m.kernel_size)
        s = _pair(m.stride if m.stride is not None else m.kernel_size)
        if _pair(m.padding) != [0, 0] or m.ceil_mode:
            self.fail(name, m, "padding and ceil_mode have no lamina equivalent (its 'same' "
                               "pooling pads differently)")
        if isinstance(m, nn.MaxPool2d) and (_pair(m.dilation) != [1, 1] or m.return_indices):
            self.fail(name, m, "dilation and return_indices have no lamina equivalent")
        if isinstance(m, nn.AvgPool2d) and m.divisor_override is not None:
            self.fail(name, m, "divisor_override has no lamina equivalent")
        out = [(shape[0] - k[0]) // s[0] + 1, (shape[1] - k[1]) // s[1] + 1]
        if min(out) < 1:
            self.fail(name, m, f"pool {k} does not fit the input {shape}")
        cls = "MaxPooling2D" if isinstance(m, nn.MaxPool2d) else "AveragePooling2D"
        self.add(name, m, cls, {"pool_size": k, "strides": s, "padding": "valid"})
        self.shape = out + [shape[2]]

    def linear(self, name, m):
        shape = self.shape
        if len(shape) == 3:
            self.fail(name, m, "on an image it acts on PyTorch's width axis but on lamina's "
                               "channels; put an nn.Flatten before it")
        if shape[-1] != m.in_features:
            self.fail(name, m, f"in_features={m.in_features} but the input has {shape[-1]} "
                               f"features (per-sample shape {shape})")
        weight = _numpy(m.weight, self.dtype)  # [out, in]
        if self.flatten_image:
            # PyTorch's input feature c*h*w order -> lamina's h*w*c order.
            h, w, c = self.flatten_image
            weight = weight.reshape(m.out_features, c, h, w).transpose(0, 2, 3, 1).reshape(
                m.out_features, h * w * c)
            self.flatten_image = None
        weights = [("kernel", np.ascontiguousarray(weight.T))]
        if m.bias is not None:
            weights.append(("bias", _numpy(m.bias, self.dtype)))
        self.add(name, m, "Dense", {
            "units": m.out_features, "activation": "linear", "use_bias": m.bias is not None,
            "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"}, weights)
        self.shape = shape[:-1] + [m.out_features]

    def rnn(self, name, m):
        wrapped = isinstance(m, (SimpleRNN, LSTM, GRU))
        rnn = m.rnn if wrapped else m
        return_sequences = m.return_sequences if wrapped else True
        cls = {nn.RNN: "SimpleRNN", nn.LSTM: "LSTM", nn.GRU: "GRU"}[type(rnn)]
        shape = self.shape
        if rnn.num_layers != 1 or rnn.bidirectional or not rnn.batch_first:
            self.fail(name, m, f"lamina's {cls} is one layer, one direction, batch_first "
                               f"(got num_layers={rnn.num_layers}, bidirectional="
                               f"{rnn.bidirectional}, batch_first={rnn.batch_first})")
        if cls == "LSTM" and rnn.proj_size:
            self.fail(name, m, f"proj_size={rnn.proj_size} has no lamina equivalent")
        if len(shape) != 2 or shape[1] != rnn.input_size:
            self.fail(name, m, f"input_size={rnn.input_size} needs per-sample input [time, "
                               f"{rnn.input_size}], got {shape}")
        units = rnn.hidden_size
        w_ih = _numpy(rnn.weight_ih_l0, self.dtype)
        w_hh = _numpy(rnn.weight_hh_l0, self.dtype)
        if cls == "GRU":  # PyTorch's gates r, z, n -> Keras's z, r, h
            w_ih, w_hh = gru_gate_order(w_ih, units), gru_gate_order(w_hh, units)
        weights = [("kernel", w_ih.T.copy()), ("recurrent_kernel", w_hh.T.copy())]
        if rnn.bias and cls == "GRU":
            # reset_after: bias [2, 3 units], the input bias row then the recurrent one.
            b = np.stack([gru_gate_order(_numpy(rnn.bias_ih_l0, self.dtype), units),
                          gru_gate_order(_numpy(rnn.bias_hh_l0, self.dtype), units)])
            weights.append(("bias", b))
        elif rnn.bias:
            # lamina has one bias: b = b_ih + b_hh (summed in float64, then rounded once).
            b = rnn.bias_ih_l0.detach().double() + rnn.bias_hh_l0.detach().double()
            weights.append(("bias", b.numpy().astype(self.dtype)))
        if cls == "SimpleRNN":
            options = {"units": units, "activation": rnn.nonlinearity, "use_bias": rnn.bias,
                       "return_sequences": return_sequences, **_RNN_INITIALIZERS}
        else:
            options = {"units": units, "activation": "tanh", "recurrent_activation": "sigmoid",
                       "use_bias": rnn.bias, **_RNN_INITIALIZERS, "dropout": 0.0,
                       "recurrent_dropout": 0.0, "return_sequences": return_sequences,
                       "return_state": False, "go_backwards": False}
            options.update({"unit_forget_bias": True} if cls == "LSTM" else
                           {"reset_after": True})
        self.add(name, m, cls, options, weights)
        self.shape = [shape[0], units] if return_sequences else [units]
        if not wrapped:
            self.ended = (f"follows a bare nn.{type(rnn).__name__}, whose output is a tuple; use "
                          f"lamina_torch_modules.{cls} inside an nn.Sequential")

    def activation_layer(self, name, m):
        """Adds the lamina layer for activation module `m` whose parameters lamina's activation
        names lack (LeakyReLU's slope, ELU's alpha, a softmax over another axis); False when
        lamina has none."""
        if isinstance(m, nn.LeakyReLU):
            self.add(name, m, "LeakyReLU", {"negative_slope": float(m.negative_slope)})
        elif isinstance(m, nn.ELU):
            self.add(name, m, "ELU", {"alpha": float(m.alpha)})
        elif isinstance(m, nn.Softmax) and m.dim is not None:
            rank = len(self.shape) + 1
            dim = m.dim % rank
            if dim == 0:
                return False
            # lamina's axis counts the batch axis too; NCHW dim -> NHWC axis for an image.
            axis = {1: 3, 2: 1, 3: 2}[dim] if rank == 4 else dim
            self.add(name, m, "Softmax", {"axis": -1 if axis == rank - 1 else axis})
        else:
            return False
        return True

    def conv2d_transpose(self, name, m):
        shape = self.shape
        if len(shape) != 3:
            self.fail(name, m, f"expects an image, got per-sample shape {shape}")
        if m.in_channels != shape[2]:
            self.fail(name, m, f"in_channels={m.in_channels} but the input has {shape[2]} "
                               "channels")
        if m.groups != 1 or tuple(m.dilation) != (1, 1) or m.padding_mode != "zeros":
            self.fail(name, m, "groups, dilation and padding_mode other than 1, 1, 'zeros' have "
                               "no lamina equivalent")
        kinds = set()
        for k, s, p, op in zip(m.kernel_size, m.stride, _pair(m.padding), m.output_padding):
            # lamina: 'valid' is the full output (n - 1) s + k, extended by s - k when k < s;
            # 'same' crops k - s (half before, the odd one after) or extends by s - k.
            fits = set()
            if p == 0 and op == max(s - k, 0):
                fits |= {"valid"} | ({"same"} if k <= s else set())
            if k > s and (k - s) % 2 == 0 and p == (k - s) // 2 and op == 0:
                fits.add("same")
            kinds.add(frozenset(fits))
        both = frozenset.intersection(*kinds)
        if not both:
            self.fail(name, m, f"padding={m.padding}, output_padding={m.output_padding} with "
                               f"kernel {m.kernel_size}, stride {m.stride} is neither lamina's "
                               "'valid' (0) nor its 'same' ((k - s) / 2 for even k - s)")
        padding = "valid" if "valid" in both else "same"
        out = [n * s + (max(k - s, 0) if padding == "valid" else 0)
               for n, k, s in zip(shape[:2], m.kernel_size, m.stride)]
        # weight [in, out, kh, kw] -> kernel [kh, kw, out, in]
        weights = [("kernel", _numpy(m.weight, self.dtype).transpose(2, 3, 1, 0))]
        if m.bias is not None:
            weights.append(("bias", _numpy(m.bias, self.dtype)))
        self.add(name, m, "Conv2DTranspose", {
            "filters": m.out_channels, "kernel_size": list(m.kernel_size),
            "strides": list(m.stride), "padding": padding, "activation": "linear",
            "use_bias": m.bias is not None, "kernel_initializer": "glorot_uniform",
            "bias_initializer": "zeros"}, weights)
        self.shape = out + [m.out_channels]

    def normalization_weights(self, m, features):
        """lamina's center, scale and weights gamma, beta of an affine PyTorch normalisation."""
        weight = getattr(m, "weight", None)
        bias = getattr(m, "bias", None)
        weights = []
        if weight is not None:
            weights.append(("gamma", _numpy(weight, self.dtype)))
        if bias is not None:
            weights.append(("beta", _numpy(bias, self.dtype)))
        options = {"axis": -1, "center": bias is not None, "scale": weight is not None,
                   "beta_initializer": "zeros", "gamma_initializer": "ones"}
        return options, weights

    def batch_norm(self, name, m):
        shape = self.shape
        want = 3 if isinstance(m, nn.BatchNorm2d) else 1
        if len(shape) != want:
            self.fail(name, m, f"on per-sample shape {shape} it normalises another axis than "
                               "lamina's last one" if len(shape) == 2 else
                               f"expects per-sample shape of rank {want}, got {shape}")
        if shape[-1] != m.num_features:
            self.fail(name, m, f"num_features={m.num_features} but the input has {shape[-1]}")
        if not m.track_running_stats or m.running_mean is None:
            self.fail(name, m, "without running statistics it normalises with the batch's in "
                               "eval mode too; lamina uses its moving statistics")
        if m.momentum is None:
            self.fail(name, m, "momentum=None (a cumulative average) has no lamina equivalent")
        options, weights = self.normalization_weights(m, m.num_features)
        weights += [("moving_mean", _numpy(m.running_mean, self.dtype)),
                    ("moving_variance", _numpy(m.running_var, self.dtype))]
        options.update({"epsilon": float(m.eps), "momentum": round(1 - float(m.momentum), 12),
                        "moving_mean_initializer": "zeros",
                        "moving_variance_initializer": "ones"})
        self.add(name, m, "BatchNormalization", options, weights)

    def layer_norm(self, name, m):
        shape = self.shape
        if len(shape) == 3 or tuple(m.normalized_shape) != (shape[-1],):
            self.fail(name, m, f"normalized_shape={tuple(m.normalized_shape)} on per-sample "
                               f"shape {shape}: lamina's LayerNormalization normalises the last "
                               "axis of a vector or sequence")
        options, weights = self.normalization_weights(m, shape[-1])
        options["epsilon"] = float(m.eps)
        self.add(name, m, "LayerNormalization", options, weights)

    def embedding(self, name, m):
        if len(self.shape) != 1:
            self.fail(name, m, f"on per-sample shape {self.shape} its output would be an image "
                               "in PyTorch's layout")
        if m.max_norm is not None:
            self.fail(name, m, "max_norm renormalises rows in the forward pass; lamina does not")
        self.add(name, m, "Embedding", {
            "input_dim": m.num_embeddings, "output_dim": m.embedding_dim,
            "embeddings_initializer": "uniform"},
            [("embeddings", _numpy(m.weight, self.dtype))])
        self.shape = self.shape + [m.embedding_dim]

    def global_pool2d(self, name, m):
        shape = self.shape
        if len(shape) != 3:
            self.fail(name, m, f"expects an image, got per-sample shape {shape}")
        if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            if _pair(m.output_size) != [1, 1]:
                self.fail(name, m, f"output_size={m.output_size}: only 1 (global pooling)")
            if getattr(m, "return_indices", False):
                self.fail(name, m, "return_indices has no lamina equivalent")
            keep = True
        else:
            keep = m.keepdims
        average = isinstance(m, (GlobalAveragePooling2D, nn.AdaptiveAvgPool2d))
        self.add(name, m, "GlobalAveragePooling2D" if average else "GlobalMaxPooling2D",
                 {"keepdims": keep})
        self.shape = [1, 1, shape[2]] if keep else [shape[2]]

    def image_resize(self, name, m):
        shape = self.shape
        if len(shape) != 3:
            self.fail(name, m, f"expects an image, got per-sample shape {shape}")
        h, w, c = shape
        if isinstance(m, nn.ZeroPad2d):
            left, right, top, bottom = m.padding
            if min(m.padding) < 0:
                self.fail(name, m, f"padding={m.padding}: negative padding crops")
            self.add(name, m, "ZeroPadding2D", {"padding": [[top, bottom], [left, right]]})
            self.shape = [h + top + bottom, w + left + right, c]
            return
        if m.mode != "nearest":
            self.fail(name, m, f"mode='{m.mode}': lamina's UpSampling2D is 'nearest'")
        if m.size is not None:
            size = _pair(m.size)
            factors = [size[0] // h, size[1] // w]
            exact = size[0] % h == 0 and size[1] % w == 0
        else:
            scale = m.scale_factor if isinstance(m.scale_factor, tuple) else (m.scale_factor,) * 2
            factors = [int(f) for f in scale]
            exact = all(float(f) == int(f) for f in scale)
        if not exact or min(factors) < 1:
            self.fail(name, m, "only whole scale factors have a lamina equivalent")
        self.add(name, m, "UpSampling2D", {"size": factors, "interpolation": "nearest"})
        self.shape = [h * factors[0], w * factors[1], c]

    def reshape(self, name, m):
        shape = self.shape
        if isinstance(m, Reshape):
            if m.image_input != (len(shape) == 3):
                self.fail(name, m, f"image_input={m.image_input} on per-sample shape {shape}")
            target = list(m.target_shape)
        else:
            target = [int(d) for d in m.unflattened_size]
            if m.dim not in (1, -1) or len(shape) != 1:
                self.fail(name, m, f"dim={m.dim} on per-sample shape {shape}: only the "
                                   "unflattening of a vector converts")
            if len(target) == 3:
                self.fail(name, m, "an image unflattened in PyTorch's (c, h, w) order is not "
                                   "lamina's (h, w, c); use lamina_torch_modules.Reshape")
        if int(np.prod(target)) != int(np.prod(shape)):
            self.fail(name, m, f"cannot reshape {shape} to {target}")
        self.add(name, m, "Reshape", {"target_shape": target})
        self.shape = target


def convert(module, input_shape, dtype=np.float32, fuse_activations=True):
    """(model_config, tensors) of the lamina model equivalent to nn.Sequential `module` on samples
    of lamina shape `input_shape`: the dict that goes into the file's "model_config" and the
    weights, a dict "layer/weight" -> numpy array of `dtype`. ConversionError names any module
    lamina has no equivalent for."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    return _Converter(input_shape, dtype, fuse_activations).convert(module)


_OPTIMIZERS = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD"}


def compile_config(optimizer, loss, metrics=()):
    """The "compile_config" lamina's load_model compiles a model with: optimizer "adam",
    "rmsprop" or "sgd" (Keras's defaults for its hyperparameters), a lamina loss name
    ("sparse_categorical_crossentropy", "mse", ...) and metric names ("accuracy"); lamina checks
    the loss and metric names when it loads the file."""
    if optimizer.lower() not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; valid: {', '.join(_OPTIMIZERS)}")
    return {"optimizer": {"class_name": _OPTIMIZERS[optimizer.lower()], "config": {}},
            "loss": {"name": loss, "config": {}}, "metrics": list(metrics)}


def save(module, input_shape, path, dtype=np.float32, fuse_activations=True, compile=None):
    """Converts `module` (see convert) and writes the lamina model file at `path` (atomically),
    with `compile` (a compile_config()) when given, so that load_model returns a compiled model.
    Returns the model_config."""
    config, tensors = convert(module, input_shape, dtype, fuse_activations)
    metadata = lamina_format.lamina_metadata(config, dtype, lamina_format.repository_version())
    if compile is not None:
        metadata["compile_config"] = json.dumps(compile, separators=(",", ":"))
    lamina_format.write_safetensors(path, tensors, metadata)
    return config


def load_builder(spec):
    """The module returned by FUNC() of FILE.py, for spec "FILE.py:FUNC"."""
    path, sep, func = spec.rpartition(":")
    if not sep or not path or not func:
        raise SystemExit(f"--builder wants FILE.py:FUNCTION, got {spec!r}")
    loader = importlib.util.spec_from_file_location("lamina_builder", path)
    if loader is None:
        raise SystemExit(f"--builder: cannot load {path}")
    mod = importlib.util.module_from_spec(loader)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    loader.loader.exec_module(mod)
    if not hasattr(mod, func):
        raise SystemExit(f"--builder: {path} has no function {func}")
    return getattr(mod, func)()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", help="the lamina model file to write (.safetensors)")
    parser.add_argument("--input-shape", required=True,
                        help="one sample's shape in lamina's layout, e.g. 28,28,1")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--builder", metavar="FILE.py:FUNCTION",
                        help="a function returning the nn.Sequential (weights from --state-dict)")
    source.add_argument("--module", metavar="MODULE.pt",
                        help="a whole module saved with torch.save(module) (runs pickled code)")
    parser.add_argument("--state-dict", metavar="WEIGHTS.pt",
                        help="the state_dict to load into the --builder module")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="the weights' type in the file (default float32)")
    parser.add_argument("--no-fuse", action="store_true",
                        help="keep every activation module as its own Activation layer")
    parser.add_argument("--loss", help="compile the model with this lamina loss, e.g. "
                                       "sparse_categorical_crossentropy (as Keras's compile; "
                                       "without it load_model returns an uncompiled model)")
    parser.add_argument("--optimizer", default="adam", choices=sorted(_OPTIMIZERS),
                        help="with --loss: the optimizer, Keras's defaults (default adam)")
    parser.add_argument("--metrics", default="",
                        help="with --loss: comma-separated metric names, e.g. accuracy")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    try:
        input_shape = [int(d) for d in args.input_shape.split(",")]
        if not input_shape or min(input_shape) < 1:
            raise ValueError
    except ValueError:
        parser.error(f"--input-shape wants positive sizes like 28,28,1, got {args.input_shape!r}")
    if args.builder:
        module = load_builder(args.builder)
        if args.state_dict:
            state = torch.load(args.state_dict, map_location="cpu", weights_only=True)
            module.load_state_dict(state, strict=True)
    else:
        if args.state_dict:
            parser.error("--state-dict goes with --builder")
        module = torch.load(args.module, map_location="cpu", weights_only=False)
        if isinstance(module, dict):
            parser.error(f"{args.module} holds a state_dict, not a module: give --builder and "
                         f"--state-dict {args.module}")
    try:
        compile = None
        if args.loss:
            compile = compile_config(args.optimizer, args.loss,
                                     [m for m in args.metrics.split(",") if m])
        elif args.metrics:
            parser.error("--metrics goes with --loss")
        config = save(module, input_shape, args.output, np.dtype(args.dtype), not args.no_fuse,
                      compile)
    except ConversionError as e:
        sys.exit(f"torch_to_lamina: error: {e}")
    for layer in config["config"]["layers"]:
        c = layer["config"]
        extra = f" activation={c['activation']}" if c.get("activation", "linear") != "linear" \
            else ""
        print(f"  {layer['class_name']:<18} {c['name']}{extra}")
    print(f"wrote {args.output} ({len(config['config']['layers'])} layers, {args.dtype})")


if __name__ == "__main__":
    main()
