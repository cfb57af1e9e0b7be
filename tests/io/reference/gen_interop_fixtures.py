#!/usr/bin/python3
"""Fixtures of the PyTorch interop tests (tests/io/interop_test.cpp), which never run Python.

Run from anywhere with Debian's PyTorch (a few minutes on two threads, nearly all of it
training the CNN; name parts to regenerate only those):
    /usr/bin/python3 tests/io/reference/gen_interop_fixtures.py [--full DIR] [PART ...]

It writes into tests/io/fixtures/:
  torch_cnn.safetensors              the Keras tutorial CNN trained in PyTorch for one epoch on
                                     the full Fashion-MNIST training set (--full, Debian's
                                     dataset-fashion-mnist), converted by tools/torch_to_lamina.py
  torch_cnn_predictions.safetensors  "predictions" [1000, 10] F32: PyTorch's softmax outputs on
                                     the 1,000 images below; "accuracy" [1] F64: the PyTorch
                                     model's accuracy on the full 10,000-image test set
  lamina_cnn_torch_predictions.safetensors
                                     "predictions" [1000, 10] F32: the outputs of
                                     lamina_cnn.safetensors converted by tools/lamina_to_torch.py
  torch_layers.safetensors, torch_rnn.safetensors, and their *_predictions.safetensors
                                     ("inputs" in lamina's layout, "predictions"): small untrained
                                     networks for the mappings the CNN does not use (see
                                     other_layers())
  torch_new_layers.safetensors, torch_new_generator.safetensors, torch_new_rnn.safetensors and
                                     their *_predictions.safetensors: the same for the mappings
                                     of lamina's newer layers, checked both ways (see
                                     new_layers())
  python_written.safetensors         lamina_cnn.safetensors read by tools/lamina_format.py and
                                     written again by it, tensors in reverse order, the header
                                     indented JSON padded to 16 bytes (lamina writes compact JSON
                                     padded to 8, tensors in layer order)

The 1,000 images are those of the repository's slice (data/fashion-mnist-slice): its 500 test
images followed by the first 500 of its training images, pixels / 255 in float32.

lamina_cnn.safetensors is an input, written by lamina (not by this script): the model of
examples/cnn.cpp (Sequential seed 0) trained one epoch (batch 32, shuffle seed 0) on the slice
and saved with model.save(path, {.include_optimizer = false}).
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
FIXTURES = os.path.join(HERE, "..", "fixtures")
SLICE = os.path.join(ROOT, "data", "fashion-mnist-slice")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import lamina_format  # noqa: E402
import lamina_to_torch  # noqa: E402
import torch_to_lamina  # noqa: E402


def read_idx(path):
    """An IDX file of unsigned bytes (gzip-compressed) as a numpy array of its shape."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


def images(path):
    """[n, 1, 28, 28] float32 pixels / 255 (PyTorch's NCHW)."""
    return torch.from_numpy(read_idx(path).astype(np.float32) / np.float32(255))[:, None]


def tutorial_cnn():
    """The Keras tutorial CNN (examples/cnn.cpp) in PyTorch."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(dim=1))


def predict(model, x, batch=500):
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


def train(model, x, y):
    """One epoch of Adam (Keras's defaults: lr 1e-3, eps 1e-7), batch 32, cross-entropy on the
    logits (the model without its final softmax)."""
    logits = model[:-1]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    model.train()
    for step, i in enumerate(range(0, len(x), 32)):
        idx = order[i:i + 32]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(logits(x[idx]), y[idx])
        loss.backward()
        opt.step()
        if step % 500 == 0:
            print(f"  step {step}: loss {loss.item():.4f}", flush=True)
    model.eval()


def write(name, tensors):
    path = os.path.join(FIXTURES, name + ".safetensors")
    lamina_format.write_safetensors(path, tensors,
                                    {"source": "tests/io/reference/gen_interop_fixtures.py"})
    return path


def fixed_images():
    x = torch.cat([images(os.path.join(SLICE, "t10k-images-idx3-ubyte.gz")),
                   images(os.path.join(SLICE, "train-images-idx3-ubyte.gz"))[:500]])
    assert x.shape == (1000, 1, 28, 28), x.shape
    return x


def torch_cnn(full):
    """PyTorch -> lamina: the tutorial CNN trained one epoch on the full training set."""
    x_train = images(os.path.join(full, "train-images-idx3-ubyte.gz"))
    y_train = torch.from_numpy(read_idx(os.path.join(full, "train-labels-idx1-ubyte.gz"))
                               .astype(np.int64))
    x_test = images(os.path.join(full, "t10k-images-idx3-ubyte.gz"))
    y_test = torch.from_numpy(read_idx(os.path.join(full, "t10k-labels-idx1-ubyte.gz"))
                              .astype(np.int64))
    torch.manual_seed(0)
    model = tutorial_cnn()
    start = time.time()
    train(model, x_train, y_train)
    accuracy = (predict(model, x_test).argmax(1) == y_test).double().mean().item()
    print(f"PyTorch CNN, one epoch on {len(x_train)} images ({time.time() - start:.0f} s): "
          f"test accuracy {accuracy:.4f} on {len(x_test)} images")
    path = os.path.join(FIXTURES, "torch_cnn.safetensors")
    torch_to_lamina.save(model, [28, 28, 1], path)
    fixed = fixed_images()
    predictions = predict(model, fixed).numpy().astype(np.float32)
    write("torch_cnn_predictions",
          {"predictions": predictions, "accuracy": np.array([accuracy], np.float64)})
    # The converters' own check: back to PyTorch, the converted file predicts as the model did.
    back = lamina_to_torch.module_from_file(path)
    diff = np.abs(predict(back, fixed).numpy() - predictions).max()
    print(f"torch_cnn.safetensors back in PyTorch: max |difference| {diff:.3g}")
    assert diff < 1e-6, diff


def lamina_cnn():
    """lamina -> PyTorch: PyTorch's predictions of the lamina-trained CNN."""
    converted = lamina_to_torch.module_from_file(os.path.join(FIXTURES, "lamina_cnn.safetensors"))
    write("lamina_cnn_torch_predictions",
          {"predictions": predict(converted, fixed_images()).numpy().astype(np.float32)})


def python_written():
    """A file written by Python's writer, laid out differently from lamina's."""
    tensors, metadata = lamina_format.read_safetensors(
        os.path.join(FIXTURES, "lamina_cnn.safetensors"))
    reordered = {k: tensors[k] for k in reversed(list(tensors))}
    path = os.path.join(FIXTURES, "python_written.safetensors")
    lamina_format.write_safetensors(path, reordered, metadata, alignment=16, indent=1)
    again, meta_again = lamina_format.read_safetensors(path)
    assert meta_again == metadata and list(again) == list(reordered)
    assert all(np.array_equal(again[k], tensors[k]) for k in tensors)


def other_layers():
    """Small untrained networks for the mappings the tutorial CNN does not use, each with random
    inputs (lamina's layout) and PyTorch's outputs:
      torch_layers.safetensors (float64): 'same' padding, AvgPool2d, a standalone activation, a
        stride-2 conv, sigmoid, ELU and softmax, dropout, a Flatten of 5 channels;
      torch_rnn.safetensors (float32): two SimpleRNNs (tanh with return_sequences, relu) whose
        PyTorch biases bias_ih and bias_hh are both non-zero, then a Dense."""
    from lamina_torch_modules import SimpleRNN
    torch.manual_seed(1)
    layers = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.AvgPool2d(2), nn.Tanh(),
        nn.Conv2d(4, 5, 2, stride=2), nn.Sigmoid(), nn.Dropout(0.3), nn.Flatten(),
        nn.Linear(45, 8), nn.ELU(), nn.Dropout(0.2), nn.Linear(8, 3), nn.Softmax(dim=1)).double()
    layers.eval()
    x = torch.rand(16, 12, 12, 1, dtype=torch.float64)
    torch_to_lamina.save(layers, [12, 12, 1], os.path.join(FIXTURES, "torch_layers.safetensors"),
                         dtype=np.float64)
    with torch.no_grad():
        y = layers(x.permute(0, 3, 1, 2))
    write("torch_layers_predictions", {"inputs": x.numpy(), "predictions": y.numpy()})

    rnn = nn.Sequential(SimpleRNN(3, 5, "tanh", return_sequences=True), SimpleRNN(5, 4, "relu"),
                        nn.Linear(4, 2))
    with torch.no_grad():
        for m in rnn.modules():
            if isinstance(m, nn.RNN):
                m.bias_hh_l0.uniform_(-0.5, 0.5)  # both biases matter in the sum
    rnn.eval()
    x = torch.randn(16, 7, 3)
    torch_to_lamina.save(rnn, [7, 3], os.path.join(FIXTURES, "torch_rnn.safetensors"))
    with torch.no_grad():
        y = rnn(x)
    write("torch_rnn_predictions", {"inputs": x.numpy(), "predictions": y.numpy()})

    # Both back in PyTorch: outputs equal to float rounding (the RNN's biases were summed).
    for name, shape_nchw in (("torch_layers", True), ("torch_rnn", False)):
        saved, _ = lamina_format.read_safetensors(os.path.join(FIXTURES, name +
                                                               "_predictions.safetensors"))
        back = lamina_to_torch.module_from_file(os.path.join(FIXTURES, name + ".safetensors"))
        inputs = torch.from_numpy(saved["inputs"])
        with torch.no_grad():
            out = back(inputs.permute(0, 3, 1, 2) if shape_nchw else inputs).numpy()
        diff = np.abs(out - saved["predictions"]).max()
        print(f"{name}.safetensors back in PyTorch: max |difference| {diff:.3g}")
        assert diff < 1e-6, diff


def randomize_batch_norms(model, gain=3.0):
    """Gives every batch norm of `model` non-trivial running statistics, scale and offset, and
    multiplies the other weights by `gain` (PyTorch's initial weights are small enough that the
    outputs would hardly depend on the inputs)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.LSTM, nn.GRU)):
                for name, w in m.named_parameters():
                    if "weight" in name:
                        w.mul_(gain)
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
            if isinstance(m, (nn.LSTM, nn.GRU)):
                m.bias_hh_l0.uniform_(-0.5, 0.5)  # both biases matter


def check_both_ways(name, model, input_shape, dtype, x, to_torch_input=lambda x: x):
    """Writes name.safetensors (model converted by torch_to_lamina.py) and
    name_predictions.safetensors (x in lamina's layout, model's outputs), then checks the
    converters' round trips in Python: the file back in PyTorch (lamina_to_torch.py) predicts as
    `model` did, and converting that module to lamina again gives the same layers and weights."""
    path = os.path.join(FIXTURES, name + ".safetensors")
    config = torch_to_lamina.save(model, input_shape, path, dtype=dtype)
    with torch.no_grad():
        y = model(to_torch_input(x))
    write(name + "_predictions", {"inputs": x.numpy(), "predictions": y.numpy()})
    back = lamina_to_torch.module_from_file(path)
    with torch.no_grad():
        diff = (back(to_torch_input(x)) - y).abs().max().item()
    print(f"{name}.safetensors back in PyTorch: max |difference| {diff:.3g}")
    assert diff < 1e-6, diff
    tensors, _, _ = lamina_format.read_lamina(path)
    config2, tensors2 = torch_to_lamina.convert(back, input_shape, dtype)
    classes = [layer["class_name"] for layer in config["config"]["layers"]]
    assert [layer["class_name"] for layer in config2["config"]["layers"]] == classes, config2
    assert sorted(tensors2) == sorted(tensors), (sorted(tensors2), sorted(tensors))
    worst = max(np.abs(tensors2[k] - tensors[k]).max() for k in tensors)
    print(f"  and to lamina again: the same {len(classes)} layers, weights within {worst:.3g}")
    assert worst < 1e-6, worst
    print("  layers: " + ", ".join(classes))


def conversion_errors():
    """The mappings the converters refuse, each a ConversionError naming the layer or module."""
    def sequential(cls, config, shape):
        return {"class_name": "Sequential", "build_config": {"input_shape": shape},
                "config": {"name": "s", "layers": [{"class_name": cls,
                                                    "config": dict(name="x", **config)}]}}

    refused = [
        lambda: lamina_to_torch.build_module(sequential("GRU", {"units": 3,
                                                                "reset_after": False}, [4, 2])),
        lambda: lamina_to_torch.build_module(sequential("Conv2DTranspose", {
            "filters": 2, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same"},
            [4, 4, 1])),
        lambda: lamina_to_torch.build_module(sequential("BatchNormalization", {}, [4, 2])),
        lambda: lamina_to_torch.build_module(sequential("LayerNormalization", {}, [4, 4, 2])),
        lambda: lamina_to_torch.build_module(sequential("LSTM", {"units": 3,
                                                                 "activation": "relu"}, [4, 2])),
        lambda: lamina_to_torch.build_module(sequential("Conv2D", {
            "filters": 2, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same"},
            [8, 8, 1])),
        lambda: torch_to_lamina.convert(
            nn.Sequential(nn.ConvTranspose2d(1, 2, 3, stride=2, padding=1)), [4, 4, 1]),
        lambda: torch_to_lamina.convert(nn.Sequential(nn.BatchNorm1d(4)), [3, 4]),
        lambda: torch_to_lamina.convert(nn.Sequential(nn.Unflatten(1, (2, 2, 2))), [8]),
        lambda: torch_to_lamina.convert(
            nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear")), [4, 4, 1]),
    ]
    for convert in refused:
        try:
            convert()
        except (lamina_to_torch.ConversionError, torch_to_lamina.ConversionError):
            continue
        raise AssertionError("a conversion that has no exact equivalent did not fail")
    print(f"{len(refused)} conversions without an exact equivalent refused")


def new_layers():
    """Small untrained networks, in eval mode, for the mappings added with lamina's newer layers
    (checked both ways by check_both_ways):
      torch_new_layers.safetensors (float64): [6, 5, 2] images through a conv, BatchNorm2d,
        LeakyReLU(0.1), an uneven ZeroPad2d, ConvTranspose2d k4 s2 p1 ('same') fused with relu,
        max pooling, nearest Upsample, ELU(0.5), ConvTranspose2d k2 ('valid') with tanh,
        AdaptiveMaxPool2d(1) and a Flatten, BatchNorm1d, Hardtanh(0, 2) (ReLU with
        max_value), a Linear, nn.Unflatten to [2, 4], LayerNorm, a softmax over the time axis;
      torch_new_generator.safetensors (float64): vectors [5] through a Linear, a Reshape to a
        [3, 3, 2] image, ConvTranspose2d k4 s2 p1, BatchNorm2d, ReLU, ConvTranspose2d k1 s2
        output_padding 1 ('same' with k < s), a Conv2d k4 s2 p1 ('same' on 12 pixels), global
        average pooling, a Linear;
      torch_new_rnn.safetensors (float32): sequences of 7 indices (as floats in lamina) through
        an Embedding(10, 4), LSTM (return_sequences), GRU (return_sequences), LayerNorm, LSTM,
        and a Linear, the recurrent layers' biases bias_ih and bias_hh both non-zero."""
    from lamina_torch_modules import GRU, LSTM, GlobalAveragePooling2D, Reshape
    torch.manual_seed(2)
    images = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.1),
        nn.ZeroPad2d((1, 0, 2, 1)), nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1), nn.ReLU(),
        nn.MaxPool2d(3), nn.Upsample(scale_factor=2, mode="nearest"), nn.ELU(alpha=0.5),
        nn.ConvTranspose2d(3, 6, 2), nn.Tanh(), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
        nn.BatchNorm1d(6), nn.Hardtanh(0.0, 2.0), nn.Linear(6, 8), nn.Unflatten(1, (2, 4)),
        nn.LayerNorm(4), nn.Softmax(dim=1)).double()
    randomize_batch_norms(images)
    images.eval()
    nchw = lambda x: x.permute(0, 3, 1, 2)  # noqa: E731
    check_both_ways("torch_new_layers", images, [6, 5, 2], np.float64,
                    torch.randn(8, 6, 5, 2, dtype=torch.float64), nchw)

    generator = nn.Sequential(
        nn.Linear(5, 18), Reshape([3, 3, 2]), nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1),
        nn.BatchNorm2d(3), nn.ReLU(), nn.ConvTranspose2d(3, 2, 1, stride=2, output_padding=1),
        nn.Conv2d(2, 4, 4, stride=2, padding=1), GlobalAveragePooling2D(),
        nn.Linear(4, 3)).double()
    randomize_batch_norms(generator)
    generator.eval()
    check_both_ways("torch_new_generator", generator, [5], np.float64,
                    torch.randn(8, 5, dtype=torch.float64))

    rnn = nn.Sequential(nn.Embedding(10, 4), LSTM(4, 5, return_sequences=True),
                        GRU(5, 3, return_sequences=True), nn.LayerNorm(3), LSTM(3, 4),
                        nn.Linear(4, 2))
    randomize_batch_norms(rnn)
    rnn.eval()
    x = torch.randint(0, 10, (16, 7))
    check_both_ways("torch_new_rnn", rnn, [7], np.float32, x.float(), lambda x: x.long())
    conversion_errors()


PARTS = {"torch_cnn": None, "lamina_cnn": lamina_cnn, "python_written": python_written,
         "other_layers": other_layers, "new_layers": new_layers}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", default="/usr/share/datasets/fashion-mnist",
                        help="the full Fashion-MNIST (Debian's dataset-fashion-mnist)")
    parser.add_argument("parts", nargs="*", metavar="PART",
                        help=f"only these of {', '.join(PARTS)} (default: all)")
    args = parser.parse_args()
    for part in args.parts:
        if part not in PARTS:
            parser.error(f"unknown part {part!r}; valid: {', '.join(PARTS)}")
    torch.set_num_threads(2)
    os.makedirs(FIXTURES, exist_ok=True)
    for part in args.parts or PARTS:
        if part == "torch_cnn":
            torch_cnn(args.full)
        else:
            PARTS[part]()
    for name in sorted(os.listdir(FIXTURES)):
        path = os.path.join(FIXTURES, name)
        print(f"{os.path.relpath(path, ROOT)}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
