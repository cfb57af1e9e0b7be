#!/usr/bin/python3
"""Reference values for lamina's activation layers LeakyReLU, ELU, ReLU and Softmax, computed by
PyTorch in float64.

Run with Debian's PyTorch:  /usr/bin/python3 tests/layers/reference/gen_activation_layers_reference.py
It rewrites activation_layers.txt beside this script; tests/layers/activation_test.cpp reads it.

Format (written by tests/support/reference.py, read by tests/support/reference.hpp): one tensor
per line, `name rank d0 ... v0 v1 ...`. Each case stores its input `<case>.x`, its options
`<case>.options`, a random `<case>.upstream`, the output `<case>.y` and `<case>.dx`, the
gradient of sum(y * upstream). Options:
  leaky_relu: [negative_slope]      (Keras 3's layer default is 0.3)
  elu:        [alpha]
  relu:       [negative_slope, max_value (nan for none), threshold]
  softmax:    [axis]                (counted over the whole input, batch axis 0)

PyTorch has LeakyReLU, ELU, ReLU and Softmax, but not Keras's ReLU with a threshold: those cases
are computed by hand from keras.activations.relu's code, min(x, max_value) for x > threshold and
negative_slope * (x - threshold) otherwise (torch.where and torch.clamp, differentiated by
autograd). The other cases use torch.nn.functional.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from reference import ReferenceWriter  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.manual_seed(20261203)

writer = ReferenceWriter(os.path.join(HERE, "activation_layers.txt"))
emit, options = writer.emit, writer.options


def keras_relu(x, negative_slope, max_value, threshold):
    """keras.activations.relu, by hand (see the module docstring)."""
    top = x if max_value is None else torch.clamp(x, max=max_value)
    return torch.where(x > threshold, top, negative_slope * (x - threshold))


def case(name, f, opts, shape=(2, 3, 4)):
    x = (torch.randn(shape) * 4).requires_grad_()
    y = f(x)
    upstream = torch.rand(y.shape) * 2 - 1
    y.backward(upstream)
    emit(f"{name}.x", x)
    options(name, opts)
    emit(f"{name}.upstream", upstream)
    emit(f"{name}.y", y)
    emit(f"{name}.dx", x.grad)


case("leaky_relu_default", lambda x: F.leaky_relu(x, 0.3), [0.3])
case("leaky_relu_b", lambda x: F.leaky_relu(x, 0.05), [0.05])
case("elu_default", lambda x: F.elu(x, 1.0), [1.0])
case("elu_b", lambda x: F.elu(x, 0.5), [0.5])
case("relu_default", F.relu, [0.0, math.nan, 0.0])
case("relu_max6", lambda x: keras_relu(x, 0.0, 6.0, 0.0), [0.0, 6.0, 0.0])
case("relu_all", lambda x: keras_relu(x, 0.1, 4.0, 0.5), [0.1, 4.0, 0.5])
case("relu_slope_threshold", lambda x: keras_relu(x, 0.2, None, 1.0), [0.2, math.nan, 1.0])
case("softmax_last", lambda x: F.softmax(x, -1), [-1.0])
case("softmax_axis1", lambda x: F.softmax(x, 1), [1.0])
case("softmax_axis_neg2", lambda x: F.softmax(x, -2), [-2.0], shape=(2, 3, 4, 2))

writer.write()
