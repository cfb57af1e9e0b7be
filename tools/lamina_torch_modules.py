"""What torch_to_lamina.py and lamina_to_torch.py share: the activation names both sides know,
and modules that behave as lamina's (and Keras's) layers inside an nn.Sequential where PyTorch
has no single module that does: SimpleRNN, LSTM and GRU (nn.RNN, nn.LSTM and nn.GRU return a
tuple, which the next module cannot take), GlobalAveragePooling2D, GlobalMaxPooling2D and Reshape.

A module saved whole (torch.save(module)) that holds one of these needs this directory on
sys.path when it is loaded again; a state_dict does not.
"""
import numpy as np
import torch
from torch import nn

# lamina activation name -> PyTorch module class, with the parameters lamina's activation has
# (lamina's leaky_relu has Keras 3's slope 0.2 and elu alpha 1). softmax is over the features
# (the channels of an image), see softmax_dim().
_ACTIVATION_MODULES = {
    "relu": lambda: nn.ReLU(),
    "sigmoid": lambda: nn.Sigmoid(),
    "tanh": lambda: nn.Tanh(),
    "leaky_relu": lambda: nn.LeakyReLU(negative_slope=0.2),
    "elu": lambda: nn.ELU(alpha=1.0),
    "softplus": lambda: nn.Softplus(),
    "selu": lambda: nn.SELU(),
    "gelu": lambda: nn.GELU(),  # exact (erf), Keras's default
    "silu": lambda: nn.SiLU(),
    "swish": lambda: nn.SiLU(),
    "mish": lambda: nn.Mish(),
    "hard_sigmoid": lambda: nn.Hardsigmoid(),  # Keras 3's relu6(x + 3) / 6
    "softsign": lambda: nn.Softsign(),
    "relu6": lambda: nn.ReLU6(),
}
LAMINA_ACTIVATIONS = ("linear", "softmax") + tuple(_ACTIVATION_MODULES)


def softmax_dim(lamina_shape):
    """The PyTorch dim of lamina's softmax (over the last axis) for a per-sample lamina shape:
    the channels (dim 1) of an NCHW image [h, w, c], else the last dim."""
    return 1 if len(lamina_shape) == 3 else -1


def activation_module(name, lamina_shape):
    """The PyTorch module computing lamina activation `name` on a batch of per-sample lamina
    shape `lamina_shape` (None for "linear"); ValueError for a name lamina does not know."""
    if name == "linear":
        return None
    if name == "softmax":
        return nn.Softmax(dim=softmax_dim(lamina_shape))
    if name not in _ACTIVATION_MODULES:
        raise ValueError(f"unknown lamina activation '{name}'; known: "
                         f"{', '.join(LAMINA_ACTIVATIONS)}")
    return _ACTIVATION_MODULES[name]()


def activation_name(module, lamina_shape):
    """The lamina activation name of PyTorch activation `module` (on per-sample lamina shape
    `lamina_shape`), None when `module` is no activation; ValueError when it is one whose
    parameters lamina's activation does not have."""
    def need(ok, what):
        if not ok:
            raise ValueError(f"{type(module).__name__} with {what}: lamina's activation differs")

    if isinstance(module, nn.ReLU):
        return "relu"
    if isinstance(module, nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, nn.Tanh):
        return "tanh"
    if isinstance(module, nn.LeakyReLU):
        need(module.negative_slope == 0.2, f"negative_slope={module.negative_slope} (lamina: 0.2)")
        return "leaky_relu"
    if isinstance(module, nn.ELU):
        need(module.alpha == 1.0, f"alpha={module.alpha} (lamina: 1.0)")
        return "elu"
    if isinstance(module, nn.Softplus):
        # Above the threshold PyTorch returns x; lamina log1p(exp(x)) differs by < e^-threshold.
        need(module.beta == 1 and module.threshold >= 20,
             f"beta={module.beta}, threshold={module.threshold} (lamina: beta 1, no threshold)")
        return "softplus"
    if isinstance(module, nn.GELU):
        need(module.approximate == "none", f"approximate='{module.approximate}' (lamina's "
             "activation \"gelu\" is the exact form)")
        return "gelu"
    for cls, name in ((nn.SELU, "selu"), (nn.SiLU, "silu"), (nn.Mish, "mish"),
                      (nn.Hardsigmoid, "hard_sigmoid"), (nn.Softsign, "softsign"),
                      (nn.ReLU6, "relu6")):
        if isinstance(module, cls):
            return name
    if isinstance(module, nn.Softmax):
        rank = len(lamina_shape) + 1  # with the batch axis
        dim = module.dim
        need(dim is not None, "dim=None")
        dim = dim % rank
        want = softmax_dim(lamina_shape) % rank
        need(dim == want, f"dim={module.dim} on a batch of per-sample shape "
                          f"{list(lamina_shape)} (lamina's softmax is over dim {want})")
        return "softmax"
    return None


class _Recurrent(nn.Module):
    """A one-layer, one-direction, batch_first recurrent module `self.rnn` whose output is the
    whole sequence [batch, time, units] with return_sequences, else the last step [batch, units].
    input: [batch, time, features]. Its parameters are those of `self.rnn`."""

    def __init__(self, rnn, return_sequences):
        super().__init__()
        self.rnn = rnn
        self.return_sequences = return_sequences

    def forward(self, x):
        out, _ = self.rnn(x)
        return out if self.return_sequences else out[:, -1]

    def extra_repr(self):
        return f"return_sequences={self.return_sequences}"


class SimpleRNN(_Recurrent):
    """Keras's SimpleRNN: a one-layer nn.RNN (batch_first), see _Recurrent."""

    def __init__(self, input_size, units, nonlinearity="tanh", bias=True, return_sequences=False):
        super().__init__(nn.RNN(input_size, units, num_layers=1, nonlinearity=nonlinearity,
                                bias=bias, batch_first=True), return_sequences)


class LSTM(_Recurrent):
    """Keras's LSTM (tanh, sigmoid gates): a one-layer nn.LSTM (batch_first), see _Recurrent.
    Both use the gate order i, f, g (Keras's c), o."""

    def __init__(self, input_size, units, bias=True, return_sequences=False):
        super().__init__(nn.LSTM(input_size, units, num_layers=1, bias=bias, batch_first=True),
                         return_sequences)


class GRU(_Recurrent):
    """Keras 3's GRU (tanh, sigmoid gates, reset_after): a one-layer nn.GRU (batch_first), see
    _Recurrent. Keras orders the gates z, r, h, PyTorch r, z, n."""

    def __init__(self, input_size, units, bias=True, return_sequences=False):
        super().__init__(nn.GRU(input_size, units, num_layers=1, bias=bias, batch_first=True),
                         return_sequences)


class _GlobalPooling2D(nn.Module):
    """A reduction over height and width of [batch, channels, height, width]: [batch, channels],
    or [batch, channels, 1, 1] with keepdims."""

    def __init__(self, keepdims=False):
        super().__init__()
        self.keepdims = keepdims

    def extra_repr(self):
        return f"keepdims={self.keepdims}"


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Keras's GlobalAveragePooling2D on NCHW images (see _GlobalPooling2D)."""

    def forward(self, x):
        return x.mean(dim=(2, 3), keepdim=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Keras's GlobalMaxPooling2D on NCHW images (see _GlobalPooling2D)."""

    def forward(self, x):
        return x.amax(dim=(2, 3), keepdim=self.keepdims)


class Reshape(nn.Module):
    """Keras's Reshape on PyTorch's layout: each sample is reshaped in lamina's (channels_last)
    order, so an image input [channels, height, width] is first seen as [height, width,
    channels], and an image output (a target of rank 3) is handed on as [channels, height,
    width]. target_shape is lamina's, without -1."""

    def __init__(self, target_shape, image_input=False):
        super().__init__()
        self.target_shape = [int(d) for d in target_shape]
        self.image_input = image_input

    def forward(self, x):
        if self.image_input:
            x = x.permute(0, 2, 3, 1)
        x = x.reshape([x.shape[0]] + self.target_shape)
        if len(self.target_shape) == 3:
            x = x.permute(0, 3, 1, 2)
        return x.contiguous()

    def extra_repr(self):
        return f"target_shape={self.target_shape}, image_input={self.image_input}"



def gru_gate_order(a, units):
    """`a` with the first two gate blocks of `units` rows swapped: Keras's GRU gate order z, r, h
    to PyTorch's r, z, n and back (the swap is its own inverse). a: [3 units, ...]."""
    u = units
    return np.concatenate([a[u:2 * u], a[:u], a[2 * u:]])


def same_padding(n, k, s):
    """(output size, total padding) of TensorFlow's (and lamina's) "same" convolution along an
    axis of size n with kernel k and stride s: ceil(n / s), and the padding that gives it
    (half before, the odd one after)."""
    out = -(-n // s)
    return out, max((out - 1) * s + k - n, 0)
