"""The PyTorch twins of lamina's benchmark cases (benchmarks/{layers,training}_bench.cpp).

Same shapes, batch sizes and math as the lamina side, written the way a PyTorch user writes
them: NCHW images (PyTorch's native layout), Keras-equivalent layers (glorot_uniform kernels,
zero biases, orthogonal recurrent kernels), Adam with Keras's epsilon 1e-7, and the loss fused
with the final softmax / sigmoid (CrossEntropyLoss, BCEWithLogitsLoss), as lamina fuses them.
Data is fixed random, as on the lamina side.

Used by compare_pytorch.py (each case is a zero-argument step function, built once), and as a
script that trains the network of a lamina example for whole Fashion-MNIST epochs the way the
example does (the whole-epoch comparison and the peak-RSS measurement):

    /usr/bin/python3 benchmarks/pytorch_models.py epoch --threads 2 \
        [--data /usr/share/datasets/fashion-mnist] [--epochs 1] [--batch-size N] \
        [--model cnn|rnn|lstm|bilstm|autoencoder|gan|dcgan]

Runs under Debian's /usr/bin/python3 with python3-torch (1.13).
"""

import argparse
import gzip
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

SEED = 1


# --- layers and models, initialised as Keras does ---------------------------------------------


def keras_init(module):
    """glorot_uniform kernels, orthogonal recurrent kernels, zero biases (Keras's defaults)."""
    for name, p in module.named_parameters():
        if "bias" in name:
            nn.init.zeros_(p)
        elif p.dim() < 2:  # BatchNormalization's gamma
            nn.init.ones_(p)
        elif "weight_hh" in name:
            nn.init.orthogonal_(p)
        else:
            nn.init.xavier_uniform_(p)
    return module


def cnn():
    """The Keras tutorial CNN, NCHW: [b, 1, 28, 28] -> logits [b, 10]."""
    return keras_init(nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 64), nn.ReLU(), nn.Linear(64, 10)))


class RnnClassifier(nn.Module):
    """SimpleRNN(32, relu) over [b, 28, 28] -> Dense(10) logits (the last state only).

    nn.RNN has two bias vectors (b_ih, b_hh) where Keras has one; the work is the same.
    """

    def __init__(self, units=32, nonlinearity="relu"):
        super().__init__()
        self.rnn = nn.RNN(28, units, nonlinearity=nonlinearity, batch_first=True)
        self.dense = nn.Linear(units, 10)
        keras_init(self)

    def forward(self, x):
        _, h = self.rnn(x)
        return self.dense(h[-1])


def autoencoder():
    """Dense(32, relu) -> Dense(784) logits (the sigmoid is fused into BCEWithLogitsLoss)."""
    return keras_init(nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 784)))


def gan_parts(latent=100):
    g = keras_init(nn.Sequential(nn.Linear(latent, 256), nn.LeakyReLU(0.2), nn.Linear(256, 784),
                                 nn.Tanh()))
    d = keras_init(nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1)))
    return g, d


def keras_batch_norm(features, dims=1):
    """Keras's BatchNormalization defaults: epsilon 1e-3, momentum 0.99 (PyTorch's 0.01)."""
    return (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(features, eps=1e-3, momentum=0.01)


class Unflatten(nn.Module):
    """Reshape([7, 7, 128]) of the DCGAN generator, as NCHW [b, 128, 7, 7]."""

    def forward(self, x):
        return x.view(-1, 128, 7, 7)


def dcgan_parts(latent=100):
    """The dcgan example's generator and discriminator, NCHW. Keras's padding 'same' with a 4x4
    kernel and stride 2 is PyTorch's padding 1 (same output sizes: 7 -> 14 -> 28, 28 -> 14 -> 7)."""
    g = keras_init(nn.Sequential(
        nn.Linear(latent, 7 * 7 * 128, bias=False), keras_batch_norm(7 * 7 * 128),
        nn.LeakyReLU(0.2), Unflatten(),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1, bias=False), keras_batch_norm(64, 2),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh()))
    d = keras_init(nn.Sequential(
        nn.Conv2d(1, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, stride=2, padding=1, bias=False), keras_batch_norm(128, 2),
        nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(7 * 7 * 128, 1)))
    return g, d


def adam(params, lr=1e-3, beta_1=0.9):
    return torch.optim.Adam(params, lr=lr, betas=(beta_1, 0.999), eps=1e-7)


def uniform(shape, low=-1.0, high=1.0, seed=SEED):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=gen) * (high - low) + low


def labels(n, classes=10, seed=2):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, classes, (n,), generator=gen)


# --- benchmark cases: each returns a step function, set up once -------------------------------


def forward_case(module, x):
    """Inference: no graph recorded."""
    def step():
        with torch.no_grad():
            return module(x)
    return step


def forward_backward_case(module, x_data, input_grad):
    """Zero the weights' gradients, forward, backward from a fixed upstream gradient."""
    with torch.no_grad():
        upstream = uniform(module(x_data).shape, seed=2)
    params = list(module.parameters())

    def step():
        for p in params:
            if p.grad is not None:
                p.grad.zero_()
        x = x_data.detach().requires_grad_(input_grad)
        module(x).backward(upstream)
    return step


class ReluAfter(nn.Module):
    """conv then ReLU: the Keras Conv2D(activation='relu') layer."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return F.relu(self.inner(x))


class LastState(nn.Module):
    """SimpleRNN(32) as a layer: the last state [b, 32] of nn.RNN."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        _, h = self.rnn(x)
        return h[-1]


class LastOutput(nn.Module):
    """LSTM(128) / GRU(128) as a layer: the last output [b, units] of nn.LSTM / nn.GRU."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        out, _ = self.rnn(x)
        return out[:, -1]


def conv_layer(which):
    """(layer, NCHW input) of the tutorial's conv1 / conv2 at batch 32."""
    if which == 0:
        return ReluAfter(keras_init(nn.Conv2d(1, 32, 3))), uniform((32, 1, 28, 28))
    return ReluAfter(keras_init(nn.Conv2d(32, 64, 3))), uniform((32, 32, 13, 13))


def pool_input(which):
    return uniform((32, 32, 26, 26)) if which == 0 else uniform((32, 64, 11, 11))


def train_step_case(model, loss_fn, x, y, lr=1e-3):
    """zero_grad, forward, loss, backward, Adam step; returns the loss as a float (as lamina's
    train_on_batch does)."""
    opt = adam(model.parameters(), lr=lr)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def make_gan_step(parts=gan_parts, latent=100):
    """lamina's GAN::train_step as a function of a batch of real samples: a discriminator update
    on real and generated samples, then a generator update with the non-saturating loss (fakes
    labelled real); returns (d_loss, g_loss, mean D(real), mean D(fake)) as lamina's logs."""
    g, d = parts(latent)
    g.train()
    d.train()
    d_opt, g_opt = adam(d.parameters(), 2e-4, 0.5), adam(g.parameters(), 2e-4, 0.5)
    bce = nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(3)

    def step(real):
        b = real.shape[0]
        ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
        with torch.no_grad():
            fake = g(torch.randn(b, latent, generator=gen))
        d_opt.zero_grad()
        real_logits, fake_logits = d(real), d(fake)
        d_loss = bce(real_logits, ones) + bce(fake_logits, zeros)
        d_loss.backward()
        d_opt.step()
        g_opt.zero_grad()
        g_loss = bce(d(g(torch.randn(b, latent, generator=gen))), ones)
        g_loss.backward()
        g_opt.step()
        d_opt.zero_grad()
        return (d_loss.item(), g_loss.item(), torch.sigmoid(real_logits.detach()).mean().item(),
                torch.sigmoid(fake_logits.detach()).mean().item())
    return step


def gan_step_case(parts=gan_parts, batch=64, sample_shape=(784,)):
    """One GAN step on a fixed batch of real samples."""
    step, real = make_gan_step(parts), uniform((batch, *sample_shape))
    return lambda: step(real)


def make_case(name):
    """The step function of the case `name` (the keys of CASES)."""
    torch.manual_seed(SEED)
    return CASES[name]()


def _dense():
    return keras_init(nn.Linear(784, 128)), uniform((128, 784))


def _rnn_layer():
    return LastState(keras_init(nn.RNN(28, 32, nonlinearity="tanh", batch_first=True))), \
        uniform((32, 28, 28))


def _gated_layer(kind):
    rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(28, 128, batch_first=True)
    return LastOutput(keras_init(rnn)), uniform((32, 28, 28))


CASES = {
    "dense_fwd": lambda: forward_case(*_dense()),
    "dense_fwd_bwd": lambda: forward_backward_case(*_dense(), input_grad=True),
    "conv1_fwd": lambda: forward_case(*conv_layer(0)),
    "conv2_fwd": lambda: forward_case(*conv_layer(1)),
    "conv1_fwd_bwd": lambda: forward_backward_case(*conv_layer(0), input_grad=False),
    "conv2_fwd_bwd": lambda: forward_backward_case(*conv_layer(1), input_grad=True),
    "pool1_fwd": lambda: forward_case(nn.MaxPool2d(2), pool_input(0)),
    "pool2_fwd": lambda: forward_case(nn.MaxPool2d(2), pool_input(1)),
    "pool1_fwd_bwd": lambda: forward_backward_case(nn.MaxPool2d(2), pool_input(0), True),
    "pool2_fwd_bwd": lambda: forward_backward_case(nn.MaxPool2d(2), pool_input(1), True),
    "rnn_fwd": lambda: forward_case(*_rnn_layer()),
    "rnn_fwd_bwd": lambda: forward_backward_case(*_rnn_layer(), input_grad=False),
    "lstm_fwd": lambda: forward_case(*_gated_layer("lstm")),
    "lstm_fwd_bwd": lambda: forward_backward_case(*_gated_layer("lstm"), input_grad=False),
    "gru_fwd": lambda: forward_case(*_gated_layer("gru")),
    "gru_fwd_bwd": lambda: forward_backward_case(*_gated_layer("gru"), input_grad=False),
    "cnn_step_32": lambda: train_step_case(cnn(), nn.CrossEntropyLoss(),
                                           uniform((32, 1, 28, 28), 0, 1), labels(32)),
    "cnn_step_128": lambda: train_step_case(cnn(), nn.CrossEntropyLoss(),
                                            uniform((128, 1, 28, 28), 0, 1), labels(128)),
    "rnn_step_32": lambda: train_step_case(RnnClassifier(), nn.CrossEntropyLoss(),
                                           uniform((32, 28, 28), 0, 1), labels(32)),
    "autoencoder_step_256": lambda: (lambda x: train_step_case(
        autoencoder(), nn.BCEWithLogitsLoss(), x, x))(uniform((256, 784), 0, 1)),
    "lstm_step_32": lambda: train_step_case(
        nn.Sequential(_gated_layer("lstm")[0], keras_init(nn.Linear(128, 10))),
        nn.CrossEntropyLoss(), uniform((32, 28, 28), 0, 1), labels(32)),
    "gru_step_32": lambda: train_step_case(
        nn.Sequential(_gated_layer("gru")[0], keras_init(nn.Linear(128, 10))),
        nn.CrossEntropyLoss(), uniform((32, 28, 28), 0, 1), labels(32)),
    "gan_step_64": gan_step_case,
    "dcgan_step_128": lambda: gan_step_case(dcgan_parts, 128, (1, 28, 28)),
}


# --- whole epochs of the tutorial models on Fashion-MNIST (epoch times, peak RSS) -------------


def read_idx(path):
    """An IDX file (gzip-compressed or not) as a uint8 tensor of its declared shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return torch.frombuffer(bytearray(raw[4 + 4 * rank:]), dtype=torch.uint8).reshape(dims)


def load_fashion_mnist(directory):
    def part(images, labels_file):
        x = read_idx(os.path.join(directory, images + ".gz")).unsqueeze(1).float().div_(255)
        y = read_idx(os.path.join(directory, labels_file + ".gz")).long()
        return x, y
    return (*part("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            *part("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))


class LstmClassifier(nn.Module):
    """The `lstm` example's network: LSTM(128) over the 28 rows of an image [b, 1, 28, 28] ->
    Dense(10) logits; bidirectional: Bidirectional(LSTM(64)), the two last outputs concatenated.
    PyTorch's default initialisation (Keras's glorot/orthogonal/unit-forget-bias differ)."""

    def __init__(self, bidirectional=False):
        super().__init__()
        units = 64 if bidirectional else 128
        self.rnn = nn.LSTM(28, units, batch_first=True, bidirectional=bidirectional)
        self.dense = nn.Linear(128, 10)
        self.bidirectional = bidirectional

    def forward(self, x):
        out, _ = self.rnn(x.squeeze(1))
        if self.bidirectional:  # the forward direction's last step, the backward one's first
            half = out.shape[2] // 2
            last = torch.cat([out[:, -1, :half], out[:, 0, half:]], dim=1)
        else:
            last = out[:, -1]
        return self.dense(last)


class SequenceClassifier(nn.Module):
    """The rnn example's network on [b, 1, 28, 28]: SimpleRNN(32, relu) over the 28 rows ->
    Dense(10) logits."""

    def __init__(self):
        super().__init__()
        self.inner = RnnClassifier()

    def forward(self, x):
        return self.inner(x.squeeze(1))


def autoencoder_twin():
    return FlatInput(autoencoder())


class FlatInput(nn.Module):
    """A model on [b, 784] fed [b, 1, 28, 28] images."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.flatten(1))


# name: (model or GAN parts, kind, the example's batch size). Kinds: "classifier" (cross-entropy
# on the labels), "autoencoder" (binary cross-entropy against the input), "gan" (GAN::fit on
# images scaled to [-1, 1], flattened to [b, 784]), "dcgan" (the same on [b, 1, 28, 28]).
EPOCH_MODELS = {
    "cnn": (cnn, "classifier", 32),
    "rnn": (SequenceClassifier, "classifier", 32),
    "lstm": (lambda: LstmClassifier(False), "classifier", 32),
    "bilstm": (lambda: LstmClassifier(True), "classifier", 32),
    "autoencoder": (autoencoder_twin, "autoencoder", 256),
    "gan": (gan_parts, "gan", 64),
    "dcgan": (dcgan_parts, "dcgan", 128),
}


def train_epoch(model, opt, loss_fn, x, y, order, batch_size):
    """One shuffled pass of minibatch steps, as lamina's fit runs it; returns the mean loss."""
    model.train()
    total = 0.0
    for begin in range(0, x.shape[0], batch_size):
        idx = order[begin:begin + batch_size]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total / x.shape[0]


def gan_epoch(step, x, order, batch_size):
    """One shuffled pass of GAN steps (gan_step's discriminator then generator update) over
    the real images x; returns the last step's logs."""
    losses = (float("nan"),) * 4
    for begin in range(0, x.shape[0], batch_size):
        losses = step(x[order[begin:begin + batch_size]])
    return losses


def epoch_run(args):
    """Trains a tutorial model (--model) as lamina's example does (shuffled batches, the same
    optimizer; classifiers are evaluated on the test set at batch 256) and prints each epoch's
    time, then the peak RSS."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    start = time.perf_counter()
    x_train, y_train, x_test, y_test = load_fashion_mnist(args.data)
    build, kind, batch_size = EPOCH_MODELS[args.model]
    batch_size = args.batch_size or batch_size
    n = x_train.shape[0]
    if kind in ("gan", "dcgan"):
        real = x_train * 2 - 1
        if kind == "gan":
            real = real.flatten(1)
        step = make_gan_step(build)
    else:
        model = build()
        opt = adam(model.parameters())
        if kind == "autoencoder":
            logits_loss, target = nn.BCEWithLogitsLoss(), x_train
            loss_fn = lambda logits, x: logits_loss(logits, x.flatten(1))  # noqa: E731
        else:
            loss_fn, target = nn.CrossEntropyLoss(), y_train
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        order = torch.randperm(n)
        if kind in ("gan", "dcgan"):
            d_loss, g_loss, _, _ = gan_epoch(step, real, order, batch_size)
            result = f"d_loss {d_loss:.4f}, g_loss {g_loss:.4f}"
        else:
            result = f"loss {train_epoch(model, opt, loss_fn, x_train, target, order, batch_size):.4f}"
        print(f"epoch {epoch + 1}: {time.perf_counter() - t0:.2f} s, {result}", flush=True)
    if kind == "classifier":
        model.eval()
        correct = 0
        with torch.no_grad():
            for begin in range(0, x_test.shape[0], 256):
                logits = model(x_test[begin:begin + 256])
                correct += (logits.argmax(1) == y_test[begin:begin + 256]).sum().item()
        print(f"test accuracy {correct / x_test.shape[0]:.4f}")
    print(f"total {time.perf_counter() - start:.2f} s")
    # ru_maxrss is in kilobytes on Linux.
    print(f"ru_maxrss_kb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    epoch = sub.add_parser("epoch", aliases=["cnn-epoch"],
                           help="train a tutorial model on Fashion-MNIST; print epoch times and "
                                "the peak RSS")
    epoch.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    epoch.add_argument("--threads", type=int, default=2)
    epoch.add_argument("--epochs", type=int, default=1)
    epoch.add_argument("--batch-size", type=int, default=0,
                       help="default: the lamina example's (cnn, rnn, lstm 32; autoencoder 256; "
                            "gan 64; dcgan 128)")
    epoch.add_argument("--model", choices=sorted(EPOCH_MODELS), default="cnn",
                       help="the network of the lamina example of the same name (bilstm: lstm "
                            "--bidirectional)")
    args = parser.parse_args(argv)
    epoch_run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
