#!/usr/bin/python3
"""Fixtures of the PyTorch interop tests (tests/io/interop_test.cpp), which never run Python.

Run from anywhere with Debian's PyTorch (a few minutes on two threads):
    /usr/bin/python3 tests/io/reference/gen_interop_fixtures.py [--full DIR]

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", default="/usr/share/datasets/fashion-mnist",
                        help="the full Fashion-MNIST (Debian's dataset-fashion-mnist)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    os.makedirs(FIXTURES, exist_ok=True)

    fixed = torch.cat([images(os.path.join(SLICE, "t10k-images-idx3-ubyte.gz")),
                       images(os.path.join(SLICE, "train-images-idx3-ubyte.gz"))[:500]])
    assert fixed.shape == (1000, 1, 28, 28), fixed.shape

    # PyTorch -> lamina.
    x_train = images(os.path.join(args.full, "train-images-idx3-ubyte.gz"))
    y_train = torch.from_numpy(read_idx(os.path.join(args.full, "train-labels-idx1-ubyte.gz"))
                               .astype(np.int64))
    x_test = images(os.path.join(args.full, "t10k-images-idx3-ubyte.gz"))
    y_test = torch.from_numpy(read_idx(os.path.join(args.full, "t10k-labels-idx1-ubyte.gz"))
                              .astype(np.int64))
    model = tutorial_cnn()
    start = time.time()
    train(model, x_train, y_train)
    accuracy = (predict(model, x_test).argmax(1) == y_test).double().mean().item()
    print(f"PyTorch CNN, one epoch on {len(x_train)} images ({time.time() - start:.0f} s): "
          f"test accuracy {accuracy:.4f} on {len(x_test)} images")
    torch_cnn = os.path.join(FIXTURES, "torch_cnn.safetensors")
    torch_to_lamina.save(model, [28, 28, 1], torch_cnn)
    predictions = predict(model, fixed).numpy().astype(np.float32)
    lamina_format.write_safetensors(
        os.path.join(FIXTURES, "torch_cnn_predictions.safetensors"),
        {"predictions": predictions, "accuracy": np.array([accuracy], np.float64)},
        {"source": "tests/io/reference/gen_interop_fixtures.py"})
    # The converters' own check: back to PyTorch, the converted file predicts as the model did.
    back = lamina_to_torch.module_from_file(torch_cnn)
    diff = np.abs(predict(back, fixed).numpy() - predictions).max()
    print(f"{torch_cnn}: back in PyTorch, max |difference| {diff:.3g}")
    assert diff < 1e-6, diff

    # lamina -> PyTorch.
    lamina_cnn = os.path.join(FIXTURES, "lamina_cnn.safetensors")
    converted = lamina_to_torch.module_from_file(lamina_cnn)
    lamina_format.write_safetensors(
        os.path.join(FIXTURES, "lamina_cnn_torch_predictions.safetensors"),
        {"predictions": predict(converted, fixed).numpy().astype(np.float32)},
        {"source": "tests/io/reference/gen_interop_fixtures.py"})

    # A file written by Python's writer, laid out differently from lamina's.
    tensors, metadata = lamina_format.read_safetensors(lamina_cnn)
    reordered = {k: tensors[k] for k in reversed(list(tensors))}
    python_written = os.path.join(FIXTURES, "python_written.safetensors")
    lamina_format.write_safetensors(python_written, reordered, metadata, alignment=16, indent=1)
    again, meta_again = lamina_format.read_safetensors(python_written)
    assert meta_again == metadata and list(again) == list(reordered)
    assert all(np.array_equal(again[k], tensors[k]) for k in tensors)
    for name in ("torch_cnn", "torch_cnn_predictions", "lamina_cnn_torch_predictions",
                 "python_written"):
        path = os.path.join(FIXTURES, name + ".safetensors")
        print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
