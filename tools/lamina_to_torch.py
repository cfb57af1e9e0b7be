#!/usr/bin/python3
"""Converts a lamina model file (written by lamina's Model::save or torch_to_lamina.py) into the
equivalent PyTorch nn.Sequential with its weights.

    /usr/bin/python3 tools/lamina_to_torch.py MODEL.safetensors --state-dict OUT.pt \\
        [--module OUT_module.pt]

Prints the module, writes its state_dict (torch.save(module.state_dict())) and, with --module,
the whole module (torch.save(module); loading it back needs this directory on sys.path when the
model has a SimpleRNN). From Python, `module_from_file(path)` returns the module itself, and
`build_module(model_config)` the architecture alone, to load a saved state_dict into.

The module's children are named after lamina's layers ("conv2d", "dense_1"), so the state_dict
reads "conv2d.weight", "dense_1.bias"; a layer's activation follows it as its own module, named
"<layer>_<activation>" ("conv2d_relu"), which torch_to_lamina.py fuses back. With --numbered they
are "0", "1", ... instead, as in a module written nn.Sequential(nn.Conv2d(...), nn.ReLU(), ...),
so the state_dict loads into that module. Its parameters have the file's dtype (float32 or
float64). It runs in eval mode (dropout off), as lamina's predict.

Image models take PyTorch's layout [batch, channels, height, width] (lamina's is [batch, height,
width, channels]: feed x.permute(0, 3, 1, 2)). Mapping (the inverse of torch_to_lamina.py):
  Conv2D        nn.Conv2d, kernel [kh, kw, in, out] -> weight [out, in, kh, kw]; "valid" ->
                padding 0, "same" (strides 1 only) -> padding (k - 1) / 2 for odd k, else "same"
  Dense         nn.Linear, kernel [in, out] -> weight [out, in]; after a Flatten of an image the
                columns are permuted from lamina's (h, w, c) order to PyTorch's (c, h, w)
  MaxPooling2D, AveragePooling2D (padding "valid")   nn.MaxPool2d, nn.AvgPool2d
  Flatten, Dropout, Activation   nn.Flatten, nn.Dropout, the activation's module
  SimpleRNN     lamina_torch_modules.SimpleRNN (a one-layer batch_first nn.RNN, tanh or relu):
                weight_ih = kernel.T, weight_hh = recurrent_kernel.T, bias_ih = bias and
                bias_hh = 0 (PyTorch adds both biases; lamina has one)
Reshape and custom layers have no mapping and are an error naming the layer.
"""
import argparse
import collections
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lamina_format  # noqa: E402
from lamina_torch_modules import SimpleRNN, activation_module  # noqa: E402


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
        if self.flatten_image and min(self.flatten_image[2], np.prod(self.flatten_image[:2])) > 1:
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
                if list(strides) != [1, 1]:
                    fail("padding 'same' with strides other than 1 pads unevenly, which "
                         "nn.Conv2d cannot")
                padding = ((kh - 1) // 2, (kw - 1) // 2) if kh % 2 and kw % 2 else "same"
                out = shape[:2]
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
            if len(shape) == 3:
                self.flatten_image = list(shape)
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
            units = c["units"]
            use_bias = c.get("use_bias", True)
            seq = c.get("return_sequences", False)
            kernel = self.weight(name, "kernel")
            recurrent = self.weight(name, "recurrent_kernel")
            bias = self.weight(name, "bias") if use_bias else None
            params = {}
            if kernel is not None:
                params = {"rnn.weight_ih_l0": kernel.T, "rnn.weight_hh_l0": recurrent.T}
                if use_bias:
                    params["rnn.bias_ih_l0"] = bias
                    params["rnn.bias_hh_l0"] = np.zeros_like(bias)
            self.put(child, SimpleRNN(shape[1], units, act, use_bias, seq), params)
            self.shape = [shape[0], units] if seq else [units]
        else:
            fail("has no PyTorch equivalent in this converter (supported: Conv2D, Dense, "
                 "MaxPooling2D, AveragePooling2D, Flatten, Dropout, Activation, SimpleRNN)")


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
    dtypes = {np.asarray(v).dtype for v in state.values()}
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
