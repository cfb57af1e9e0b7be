#!/usr/bin/python3
"""Converts a lamina model file (written by lamina's Model::save or torch_to_lamina.py) into the
equivalent PyTorch nn.Sequential with its weights.

    /usr/bin/python3 tools/lamina_to_torch.py MODEL.safetensors --state-dict OUT.pt \\
        [--module OUT_module.pt]

Prints the module, writes its state_dict (torch.save(module.state_dict())) and, with --module,
the whole module (torch.save(module); loading it back needs this directory on sys.path when the
model has one of lamina_torch_modules' modules: SimpleRNN, LSTM, GRU, global pooling, Reshape).
From Python, `module_from_file(path)` returns the module itself, and `build_module(model_config)`
the architecture alone, to load a saved state_dict into.

The module's children are named after lamina's layers ("conv2d", "dense_1"), so the state_dict
reads "conv2d.weight", "dense_1.bias"; a layer's activation follows it as its own module, named
"<layer>_<activation>" ("conv2d_relu"), which torch_to_lamina.py fuses back. With --numbered they
are "0", "1", ... instead, as in a module written nn.Sequential(nn.Conv2d(...), nn.ReLU(), ...),
so the state_dict loads into that module. Its parameters have the file's dtype (float32 or
float64). It runs in eval mode (dropout off), as lamina's predict.

Image models take PyTorch's layout [batch, channels, height, width] (lamina's is [batch, height,
width, channels]: feed x.permute(0, 3, 1, 2)). Mapping (the inverse of torch_to_lamina.py):
  Conv2D        nn.Conv2d, kernel [kh, kw, in, out] -> weight [out, in, kh, kw]; "valid" ->
                padding 0, "same" -> with strides 1 padding (k - 1) / 2 for odd k, else "same";
                with other strides the even padding TensorFlow's rule gives for the input size
  Dense         nn.Linear, kernel [in, out] -> weight [out, in]; after a Flatten of an image the
                columns are permuted from lamina's (h, w, c) order to PyTorch's (c, h, w)
  MaxPooling2D, AveragePooling2D (padding "valid")   nn.MaxPool2d, nn.AvgPool2d
  Flatten, Dropout, Activation   nn.Flatten, nn.Dropout, the activation's module
  SimpleRNN     lamina_torch_modules.SimpleRNN (a one-layer batch_first nn.RNN, tanh or relu):
                weight_ih = kernel.T, weight_hh = recurrent_kernel.T, bias_ih = bias and
                bias_hh = 0 (PyTorch adds both biases; lamina has one)
  LSTM          lamina_torch_modules.LSTM (nn.LSTM; tanh, sigmoid gates; gate order i, f, c/g, o
                on both sides): as SimpleRNN
  GRU           lamina_torch_modules.GRU (nn.GRU; tanh, sigmoid gates, reset_after only): the
                gate blocks reordered from z, r, h to r, z, n; bias rows 0 and 1 -> bias_ih, bias_hh
  Conv2DTranspose  nn.ConvTranspose2d, kernel [kh, kw, out, in] -> weight [in, out, kh, kw];
                "valid" -> padding 0 (output_padding s - k when k < s), "same" -> padding
                (k - s) / 2 when k - s is even and >= 0, output_padding s - k when k < s
  BatchNormalization  nn.BatchNorm2d on an image, nn.BatchNorm1d on a vector: gamma, beta,
                moving_mean, moving_variance -> weight, bias, running_mean, running_var; epsilon
                -> eps, momentum m -> 1 - m
  LayerNormalization  nn.LayerNorm(features) on a vector or a sequence: gamma, beta -> weight, bias
  Embedding     nn.Embedding, embeddings -> weight (PyTorch takes the indices as integers)
  GlobalAveragePooling2D, GlobalMaxPooling2D   lamina_torch_modules' modules of those names
  ZeroPadding2D, UpSampling2D ("nearest")      nn.ZeroPad2d, nn.Upsample(mode="nearest")
  Reshape       nn.Unflatten(1, target) from a vector to a vector or sequence, else
                lamina_torch_modules.Reshape (which reshapes in lamina's channels_last order)
  LeakyReLU, ELU, Softmax   nn.LeakyReLU, nn.ELU, nn.Softmax (its axis mapped to NCHW)
  ReLU          nn.ReLU, nn.Hardtanh(0, max_value), or nn.LeakyReLU(negative_slope)
LSTM's and GRU's dropout and recurrent_dropout act only in training and are dropped (a warning).
Other options without an exact PyTorch equivalent (GRU reset_after=False, go_backwards,
Conv2DTranspose "same" with odd k - s, a normalisation of an image's channels by LayerNorm, a
ReLU with a threshold), other layers (Conv1D and the 1-D pooling layers, Bidirectional,
Rescaling, the preprocessing layers) and custom layers are errors naming the layer.
"""
import argparse
import collections
import os
import sys
import warnings

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lamina_format  # noqa: E402
from lamina_torch_modules import (GRU, LSTM, GlobalAveragePooling2D,  # noqa: E402
                                  GlobalMaxPooling2D, Reshape, SimpleRNN, activation_module,
                                  gru_gate_order, same_padding)

SUPPORTED = ("Conv2D", "Conv2DTranspose", "Dense", "MaxPooling2D", "AveragePooling2D",
             "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D", "UpSampling2D",
             "Flatten", "Reshape", "Dropout", "Activation", "LeakyReLU", "ELU", "ReLU", "Softmax",
             "BatchNormalization", "LayerNormalization", "Embedding", "SimpleRNN", "LSTM", "GRU")


class ConversionError(ValueError):
    """A layer or an option that PyTorch has no equivalent module for."""


def _module_name(name, used):
    """A child name for nn.Sequential (no '.'), unique among `used`."""
    base = name.replace(".", "_") or "layer"
    out, i = base, 1
    while out in used:
        out, i = f"{base}_{i}", i + 1
    used.add(out)
    return out


class _Builder:
    """Walks a lamina Sequential config, building the modules and the state_dict that holds
    the file's weights (when `tensors` is given)."""

    def __init__(self, model_config, tensors=None):
        if not isinstance(model_config, dict) or model_config.get("class_name") != "Sequential":
            got = model_config.get("class_name") if isinstance(model_config, dict) else None
            raise ConversionError(f"only Sequential models convert, this one is {got!r}")
        self.config = model_config["config"]
        self.tensors = tensors
        layers = self.config.get("layers", [])
        build = model_config.get("build_config") or {}
        shape = build.get("input_shape") or (layers[0]["config"].get("input_shape")
                                             if layers else None)
        if not shape:
            raise ConversionError("the model has no input_shape (neither build_config nor its "
                                  "first layer says one)")
        self.shape = list(shape)
        self.modules = collections.OrderedDict()
        self.state = {}
        self.used = set()
        self.flatten_image = None
        self.used_tensors = set()
        self.numbered_names = False

    def weight(self, layer, name):
        if self.tensors is None:
            return None
        key = f"{layer}/{name}"
        if key not in self.tensors:
            raise ConversionError(f"layer '{layer}': the file has no tensor '{key}'")
        self.used_tensors.add(key)
        return np.asarray(self.tensors[key])

    def put(self, child, module, params):
        self.modules[child] = module
        for k, v in params.items():
            if v is not None:
                self.state[f"{child}.{k}"] = np.ascontiguousarray(v)

    def activation(self, layer, act):
        module = activation_module(act, self.shape)
        if module is not None:
            self.modules[_module_name(f"{layer}_{act}", self.used)] = module

    def build(self):
        for spec in self.config.get("layers", []):
            self.layer(spec["class_name"], spec["config"])
        if self.numbered_names:
            self.numbered()
        if self.flatten_image:
            raise ConversionError("the model ends with a Flatten of an image: PyTorch's output "
                                  "would hold its values in (c, h, w) order, lamina's in (h, w, c)")
        if self.tensors is not None:
            extra = sorted(k for k in self.tensors
                           if k not in self.used_tensors and not k.startswith("optimizer/"))
            if extra:
                raise ConversionError(f"tensors {extra} belong to no layer")
        return nn.Sequential(self.modules), self.state

    def numbered(self):
        """Renames the children "0", "1", ... as a plain nn.Sequential(...) names them."""
        index = {child: str(i) for i, child in enumerate(self.modules)}
        self.modules = collections.OrderedDict((index[k], m) for k, m in self.modules.items())
        self.state = {index[k.split(".", 1)[0]] + "." + k.split(".", 1)[1]: v
                      for k, v in self.state.items()}

    def layer(self, cls, c):
        name = c["name"]
        child = _module_name(name, self.used)
        shape = self.shape

        def fail(why):
            raise ConversionError(f"{cls} '{name}': {why}")

        if self.flatten_image and cls not in ("Dense", "Dropout", "Activation"):
            fail("a Flatten of an image must be followed by the Dense whose rows it permutes")
        if cls == "Conv2D":
            if len(shape) != 3:
                fail(f"expects an image, got per-sample shape {shape}")
            kh, kw = c["kernel_size"]
            strides = c.get("strides", [1, 1])
            if c.get("padding", "valid") == "valid":
                padding = 0
                out = [(shape[0] - kh) // strides[0] + 1, (shape[1] - kw) // strides[1] + 1]
            else:
                if list(strides) == [1, 1]:
                    padding = ((kh - 1) // 2, (kw - 1) // 2) if kh % 2 and kw % 2 else "same"
                    out = shape[:2]
                else:  # nn.Conv2d's padding is even: the strided "same" pads evenly or fails
                    padding, out = [], []
                    for n, k, s in zip(shape[:2], (kh, kw), strides):
                        size, total = same_padding(n, k, s)
                        if total % 2:
                            fail(f"padding 'same' with kernel {k} and stride {s} on {n} pixels "
                                 f"pads {total // 2} before and {total - total // 2} after; "
                                 "nn.Conv2d with a stride pads evenly")
                        padding.append(total // 2)
                        out.append(size)
                    padding = tuple(padding)
            use_bias = c.get("use_bias", True)
            conv = nn.Conv2d(shape[2], c["filters"], (kh, kw), stride=tuple(strides),
                             padding=padding, bias=use_bias)
            kernel = self.weight(name, "kernel")
            self.put(child, conv, {
                "weight": None if kernel is None else kernel.transpose(3, 2, 0, 1),
                "bias": self.weight(name, "bias") if use_bias else None})
            self.shape = out + [c["filters"]]
            self.activation(name, c.get("activation", "linear"))
        elif cls in ("MaxPooling2D", "AveragePooling2D"):
            if len(shape) != 3:
                fail(f"expects an image, got per-sample shape {shape}")
            if c.get("padding", "valid") != "valid":
                fail("padding 'same' pools differently from PyTorch's padded pooling")
            k = list(c.get("pool_size", [2, 2]))
            s = list(c.get("strides") or k)
            pool = nn.MaxPool2d if cls == "MaxPooling2D" else nn.AvgPool2d
            self.put(child, pool(tuple(k), stride=tuple(s)), {})
            self.shape = [(shape[0] - k[0]) // s[0] + 1, (shape[1] - k[1]) // s[1] + 1, shape[2]]
        elif cls == "Flatten":
            if len(shape) == 3 and shape[2] > 1 and shape[0] * shape[1] > 1:
                self.flatten_image = list(shape)  # (h, w, c) and (c, h, w) orders differ
            self.put(child, nn.Flatten(), {})
            self.shape = [int(np.prod(shape))]
        elif cls == "Dense":
            if len(shape) == 3:
                fail("a Dense on an image acts on lamina's channels but on PyTorch's width")
            units = c["units"]
            use_bias = c.get("use_bias", True)
            kernel = self.weight(name, "kernel")
            weight = None
            if kernel is not None:
                weight = kernel.T  # [units, in]
                if self.flatten_image:
                    h, w, ch = self.flatten_image
                    weight = weight.reshape(units, h, w, ch).transpose(0, 3, 1, 2).reshape(
                        units, h * w * ch)
            self.flatten_image = None
            self.put(child, nn.Linear(shape[-1], units, bias=use_bias), {
                "weight": weight, "bias": self.weight(name, "bias") if use_bias else None})
            self.shape = shape[:-1] + [units]
            self.activation(name, c.get("activation", "linear"))
        elif cls == "Dropout":
            self.put(child, nn.Dropout(c["rate"]), {})
        elif cls == "Activation":
            module = activation_module(c["activation"], shape)
            self.put(child, module if module is not None else nn.Identity(), {})
        elif cls == "SimpleRNN":
            act = c.get("activation", "tanh")
            if act not in ("tanh", "relu"):
                fail(f"activation '{act}': nn.RNN has only tanh and relu")
            if len(shape) != 2:
                fail(f"expects [time, features], got per-sample shape {shape}")
            units, use_bias, seq, kernel, recurrent, bias = self.recurrent_weights(name, c)
            params = {}
            if kernel is not None:
                params = {"rnn.weight_ih_l0": kernel.T, "rnn.weight_hh_l0": recurrent.T}
                if use_bias:
                    params["rnn.bias_ih_l0"] = bias
                    params["rnn.bias_hh_l0"] = np.zeros_like(bias)
            self.put(child, SimpleRNN(shape[1], units, act, use_bias, seq), params)
            self.shape = [shape[0], units] if seq else [units]
        elif cls == "Conv2DTranspose":
            self.conv2d_transpose(name, child, c, fail)
        elif cls in ("LSTM", "GRU"):
            self.gated_rnn(cls, name, child, c, fail)
        elif cls in ("BatchNormalization", "LayerNormalization"):
            self.normalization(cls, name, child, c, fail)
        elif cls == "Embedding":
            if len(shape) != 1:
                fail(f"on per-sample shape {shape} its output would be a channels_last image")
            n_in, n_out = c["input_dim"], c["output_dim"]
            self.put(child, nn.Embedding(n_in, n_out),
                     {"weight": self.weight(name, "embeddings")})
            self.shape = shape + [n_out]
        elif cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
            if len(shape) != 3:
                fail(f"expects an image, got per-sample shape {shape}")
            keep = bool(c.get("keepdims", False))
            pool = GlobalAveragePooling2D if cls == "GlobalAveragePooling2D" else \
                GlobalMaxPooling2D
            self.put(child, pool(keep), {})
            self.shape = [1, 1, shape[2]] if keep else [shape[2]]
        elif cls == "ZeroPadding2D":
            if len(shape) != 3:
                fail(f"expects an image, got per-sample shape {shape}")
            p = c.get("padding", 1)
            if isinstance(p, int):
                p = [[p, p], [p, p]]
            elif all(isinstance(v, int) for v in p):
                p = [[p[0], p[0]], [p[1], p[1]]]
            (top, bottom), (left, right) = p
            self.put(child, nn.ZeroPad2d((left, right, top, bottom)), {})
            self.shape = [shape[0] + top + bottom, shape[1] + left + right, shape[2]]
        elif cls == "UpSampling2D":
            if len(shape) != 3:
                fail(f"expects an image, got per-sample shape {shape}")
            if c.get("interpolation", "nearest") != "nearest":
                fail(f"interpolation '{c['interpolation']}': only 'nearest' converts")
            sh, sw = c.get("size", [2, 2])
            self.put(child, nn.Upsample(scale_factor=(float(sh), float(sw)), mode="nearest"), {})
            self.shape = [shape[0] * sh, shape[1] * sw, shape[2]]
        elif cls == "Reshape":
            self.reshape(child, c, fail)
        elif cls in ("LeakyReLU", "ELU", "ReLU", "Softmax"):
            self.put(child, self.activation_layer(cls, c, fail), {})
        else:
            fail("has no PyTorch equivalent in this converter (supported: " +
                 ", ".join(SUPPORTED) + ")")

    def conv2d_transpose(self, name, child, c, fail):
        shape = self.shape
        if len(shape) != 3:
            fail(f"expects an image, got per-sample shape {shape}")
        kernel_size = list(c["kernel_size"])
        strides = list(c.get("strides", [1, 1]))
        same = c.get("padding", "valid") == "same"
        padding, output_padding, out = [], [], []
        for n, k, s in zip(shape[:2], kernel_size, strides):
            # lamina's output is the full transposed convolution, (n - 1) s + k, cropped (for
            # 'same' and k > s: k - s, half before and the odd one after) or extended (k < s:
            # s - k after); PyTorch crops `padding` on both sides, extends output_padding after.
            if not same or k <= s:
                padding.append(0)
                output_padding.append(max(s - k, 0))
            elif (k - s) % 2 == 0:
                padding.append((k - s) // 2)
                output_padding.append(0)
            else:
                fail(f"padding 'same' with kernel {k} and stride {s} crops {(k - s) // 2} before "
                     f"and {(k - s + 1) // 2} after; nn.ConvTranspose2d crops evenly")
            out.append(n * s if same else n * s + max(k - s, 0))
        use_bias = c.get("use_bias", True)
        conv = nn.ConvTranspose2d(shape[2], c["filters"], tuple(kernel_size),
                                  stride=tuple(strides), padding=tuple(padding),
                                  output_padding=tuple(output_padding), bias=use_bias)
        kernel = self.weight(name, "kernel")  # [kh, kw, out, in] -> weight [in, out, kh, kw]
        self.put(child, conv, {
            "weight": None if kernel is None else kernel.transpose(3, 2, 0, 1),
            "bias": self.weight(name, "bias") if use_bias else None})
        self.shape = out + [c["filters"]]
        self.activation(name, c.get("activation", "linear"))

    def recurrent_weights(self, name, c):
        """A recurrent layer's units, use_bias, return_sequences and its kernel,
        recurrent_kernel and bias (None without weights, or without a bias)."""
        use_bias = c.get("use_bias", True)
        return (c["units"], use_bias, c.get("return_sequences", False),
                self.weight(name, "kernel"), self.weight(name, "recurrent_kernel"),
                self.weight(name, "bias") if use_bias else None)

    def gated_rnn(self, cls, name, child, c, fail):
        shape = self.shape
        act, rec_act = c.get("activation", "tanh"), c.get("recurrent_activation", "sigmoid")
        if act != "tanh" or rec_act != "sigmoid":
            fail(f"activation '{act}', recurrent_activation '{rec_act}': nn.{cls} has only tanh "
                 "and sigmoid")
        if c.get("go_backwards", False):
            fail("go_backwards has no nn.LSTM / nn.GRU equivalent")
        if cls == "GRU" and not c.get("reset_after", True):
            fail("reset_after=False (the reset gate before the recurrent product) has no nn.GRU "
                 "equivalent; nn.GRU is reset_after=True")
        if len(shape) != 2:
            fail(f"expects [time, features], got per-sample shape {shape}")
        if c.get("dropout", 0) or c.get("recurrent_dropout", 0):
            warnings.warn(f"{cls} '{name}': dropout and recurrent_dropout act only in training "
                          "and are not converted")
        units, use_bias, seq, kernel, recurrent, bias = self.recurrent_weights(name, c)
        params = {}
        if kernel is not None:
            w_ih, w_hh = kernel.T, recurrent.T
            if cls == "GRU":  # z, r, h -> r, z, n; bias rows: input, recurrent
                w_ih, w_hh = gru_gate_order(w_ih, units), gru_gate_order(w_hh, units)
                if use_bias:
                    b_ih, b_hh = gru_gate_order(bias[0], units), gru_gate_order(bias[1], units)
            elif use_bias:  # i, f, c, o is PyTorch's i, f, g, o; lamina has one bias
                b_ih, b_hh = bias, np.zeros_like(bias)
            params = {"rnn.weight_ih_l0": w_ih, "rnn.weight_hh_l0": w_hh}
            if use_bias:
                params["rnn.bias_ih_l0"], params["rnn.bias_hh_l0"] = b_ih, b_hh
        module = (GRU if cls == "GRU" else LSTM)(shape[1], units, use_bias, seq)
        self.put(child, module, params)
        self.shape = [shape[0], units] if seq else [units]

    def normalization(self, cls, name, child, c, fail):
        shape = self.shape
        if c.get("axis", -1) not in (-1, len(shape)):
            fail(f"axis {c['axis']}: only the last axis converts")
        batch = cls == "BatchNormalization"
        if len(shape) == 3 and not batch:
            fail("on an image lamina normalises each pixel's channels; nn.LayerNorm on NCHW "
                 "would normalise the width")
        if len(shape) not in (1, 3) and batch:
            fail(f"on per-sample shape {shape} lamina normalises the last axis; nn.BatchNorm1d "
                 "normalises dim 1")
        features = shape[-1]
        eps = float(c.get("epsilon", 1e-3))
        scale, center = c.get("scale", True), c.get("center", True)
        affine = scale or center
        if batch:
            bn = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
            # Keras: moving = moving m + batch (1 - m); PyTorch: running (1 - p) + batch p.
            module = bn(features, eps=eps, momentum=round(1 - float(c.get("momentum", 0.99)), 12),
                        affine=affine)
        else:
            module = nn.LayerNorm(features, eps=eps, elementwise_affine=affine)
        params = {}
        if self.tensors is not None:
            if batch:
                params = {"running_mean": self.weight(name, "moving_mean"),
                          "running_var": self.weight(name, "moving_variance"),
                          "num_batches_tracked": np.array(0, np.int64)}
            if affine:  # a missing scale or offset is the constant lamina uses
                gamma = self.weight(name, "gamma") if scale else None
                beta = self.weight(name, "beta") if center else None
                params["weight"] = gamma if scale else np.ones_like(beta)
                params["bias"] = beta if center else np.zeros_like(gamma)
        self.put(child, module, params)

    def reshape(self, child, c, fail):
        shape = self.shape
        size = int(np.prod(shape))
        target = [int(d) for d in c["target_shape"]]
        if target.count(-1) == 1:
            known = int(np.prod([d for d in target if d != -1]))
            if known == 0 or size % known:
                fail(f"cannot reshape {shape} to {target}")
            target[target.index(-1)] = size // known
        if int(np.prod(target)) != size or min(target, default=1) < 1:
            fail(f"cannot reshape {shape} to {c['target_shape']}")
        if len(shape) != 3 and len(target) != 3:
            module = nn.Unflatten(1, target) if len(shape) == 1 else Reshape(target)
        else:  # channels_last order on either side
            module = Reshape(target, image_input=len(shape) == 3)
        self.put(child, module, {})
        self.shape = target

    def activation_layer(self, cls, c, fail):
        if cls == "LeakyReLU":
            return nn.LeakyReLU(negative_slope=float(c.get("negative_slope", 0.3)))
        if cls == "ELU":
            return nn.ELU(alpha=float(c.get("alpha", 1.0)))
        if cls == "ReLU":
            top = c.get("max_value")
            slope, threshold = float(c.get("negative_slope", 0)), float(c.get("threshold", 0))
            if threshold == 0 and slope == 0:
                return nn.ReLU() if top is None else nn.Hardtanh(0.0, float(top))
            if threshold == 0 and top is None:
                return nn.LeakyReLU(negative_slope=slope)
            fail(f"max_value={top}, negative_slope={slope}, threshold={threshold}: no PyTorch "
                 "module (nn.ReLU, nn.Hardtanh(0, max), nn.LeakyReLU) computes it")
        rank = len(self.shape) + 1  # Softmax; its axis counts the batch axis
        axis = int(c.get("axis", -1)) % rank
        if axis == 0:
            fail("a softmax over the batch axis depends on how predict batches the samples")
        return nn.Softmax(dim={1: 2, 2: 3, 3: 1}[axis] if rank == 4 else axis)


def _builder(model_config, tensors=None, numbered=False):
    b = _Builder(model_config, tensors)
    b.numbered_names = numbered
    return b


def build_module(model_config, dtype=torch.float32, numbered=False):
    """The nn.Sequential equivalent to lamina model_config (a dict), with PyTorch's initial
    weights, in eval mode. Its children are named after lamina's layers, or "0", "1", ... with
    `numbered`."""
    module, _ = _builder(model_config, numbered=numbered).build()
    return module.to(dtype).eval()


def convert(model_config, tensors, numbered=False):
    """The nn.Sequential equivalent to a lamina model (model_config, tensors "layer/weight" ->
    numpy array), holding its weights, with their dtype, in eval mode (children named as in
    build_module)."""
    module, state = _builder(model_config, tensors, numbered).build()
    dtypes = {np.asarray(v).dtype for v in state.values() if np.asarray(v).dtype.kind == "f"}
    if len(dtypes) > 1:
        raise ConversionError(f"the weights have mixed dtypes {sorted(map(str, dtypes))}")
    dtype = torch.float64 if dtypes == {np.dtype(np.float64)} else torch.float32
    module = module.to(dtype)
    module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()},
                           strict=True)
    return module.eval()


def module_from_file(path, numbered=False):
    """The nn.Sequential of the lamina model file at `path` (see convert)."""
    tensors, _, config = lamina_format.read_lamina(path)
    if config is None:
        raise ConversionError(f"{path} holds no model_config (written by save_weights)")
    return convert(config, tensors, numbered)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="the lamina model file (.safetensors)")
    parser.add_argument("--state-dict", metavar="OUT.pt", required=True,
                        help="where to write the module's state_dict")
    parser.add_argument("--module", metavar="OUT_module.pt",
                        help="also write the whole module (torch.save(module))")
    parser.add_argument("--numbered", action="store_true",
                        help='name the children "0", "1", ... as nn.Sequential(...) does, so that '
                             "the state_dict loads into such a module written by hand")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        module = module_from_file(args.model, args.numbered)
    except (ConversionError, lamina_format.FormatError) as e:
        sys.exit(f"lamina_to_torch: error: {e}")
    print(module)
    torch.save(module.state_dict(), args.state_dict)
    print(f"wrote {args.state_dict}")
    if args.module:
        torch.save(module, args.module)
        print(f"wrote {args.module}")


if __name__ == "__main__":
    main()
