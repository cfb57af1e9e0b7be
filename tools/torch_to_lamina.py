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
                                 stride 1 -> "same"; groups 1, dilation 1, zero padding only
  nn.Linear                      Dense, weight [out, in] -> kernel [in, out]; after an nn.Flatten
                                 of an image the kernel's rows are permuted from PyTorch's
                                 (c, h, w) order to lamina's (h, w, c)
  nn.ReLU, Sigmoid, Tanh, Softmax, LeakyReLU(0.2), ELU(1), Softplus
                                 right after an nn.Conv2d or nn.Linear: that layer's activation
                                 (as Keras writes Dense(64, activation="relu")); elsewhere, or
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
  nn.Identity, nested nn.Sequential   dropped, flattened
Layer names are the modules' names in the nn.Sequential when they are names (not "0", "1", ...),
else Keras's ("conv2d", "conv2d_1", "dense", ...). Any other module is an error naming it.
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
from lamina_torch_modules import SimpleRNN, activation_name  # noqa: E402


class ConversionError(ValueError):
    """A module or an option that lamina has no equivalent for."""


_SNAKE = {"Conv2D": "conv2d", "Dense": "dense", "Flatten": "flatten", "Dropout": "dropout",
          "MaxPooling2D": "max_pooling2d", "AveragePooling2D": "average_pooling2d",
          "Activation": "activation", "SimpleRNN": "simple_rnn"}
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
        self.fusable = config if class_name in ("Conv2D", "Dense") else None
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
        if self.flatten_image and self.flatten_image[2] > 1 and \
                self.flatten_image[0] * self.flatten_image[1] > 1:
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
            self.fail(name, m, str(e))
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
            if len(shape) == 3:
                self.flatten_image = list(shape)
            self.add(name, m, "Flatten", {})
            self.shape = [int(np.prod(shape))]
        elif isinstance(m, nn.Linear):
            self.linear(name, m)
        elif isinstance(m, nn.Dropout) and type(m) is nn.Dropout:
            self.add(name, m, "Dropout", {"rate": float(m.p)})
        elif isinstance(m, (nn.RNN, SimpleRNN)):
            self.rnn(name, m)
        else:
            self.fail(name, m, "lamina has no equivalent layer (supported: Conv2d, Linear, "
                               "MaxPool2d, AvgPool2d, Flatten, Dropout, RNN, ReLU, Sigmoid, Tanh, "
                               "Softmax, LeakyReLU, ELU, Softplus, Identity)")

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
        else:
            self.fail(name, m, f"padding={m.padding} with stride={m.stride} is neither lamina's "
                               "'valid' (0) nor 'same' ((k - 1) / 2 with stride 1)")
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
        rnn = m.rnn if isinstance(m, SimpleRNN) else m
        return_sequences = m.return_sequences if isinstance(m, SimpleRNN) else True
        shape = self.shape
        if rnn.num_layers != 1 or rnn.bidirectional or not rnn.batch_first:
            self.fail(name, m, "lamina's SimpleRNN is one layer, one direction, batch_first "
                               f"(got num_layers={rnn.num_layers}, bidirectional="
                               f"{rnn.bidirectional}, batch_first={rnn.batch_first})")
        if len(shape) != 2 or shape[1] != rnn.input_size:
            self.fail(name, m, f"input_size={rnn.input_size} needs per-sample input [time, "
                               f"{rnn.input_size}], got {shape}")
        weights = [("kernel", _numpy(rnn.weight_ih_l0, self.dtype).T.copy()),
                   ("recurrent_kernel", _numpy(rnn.weight_hh_l0, self.dtype).T.copy())]
        if rnn.bias:
            # lamina has one bias: b = b_ih + b_hh (summed in float64, then rounded once).
            b = rnn.bias_ih_l0.detach().double() + rnn.bias_hh_l0.detach().double()
            weights.append(("bias", b.numpy().astype(self.dtype)))
        self.add(name, m, "SimpleRNN", {
            "units": rnn.hidden_size, "activation": rnn.nonlinearity, "use_bias": rnn.bias,
            "return_sequences": return_sequences, "kernel_initializer": "glorot_uniform",
            "recurrent_initializer": "orthogonal", "bias_initializer": "zeros"}, weights)
        self.shape = [shape[0], rnn.hidden_size] if return_sequences else [rnn.hidden_size]
        if not isinstance(m, SimpleRNN):
            self.ended = ("follows a bare nn.RNN, whose output is a tuple; use "
                          "lamina_torch_modules.SimpleRNN inside an nn.Sequential")


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
