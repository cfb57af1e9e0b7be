#!/usr/bin/python3
"""Writes optimizer_reference.txt: 10-step PyTorch trajectories for lamina's optimizer tests.

Run with Debian's python3-torch:  /usr/bin/python3 tests/optimizers/reference/gen_optimizer_reference.py

The problem (all float64): parameters w [2] and b [1], data x [4, 2] and y [4, 2],
    loss = sum((w * x + b - y)^2) / 8        (w and b broadcast over the rows of x)
Each trajectory `<case>/w` is [10, 2] and `<case>/b` is [10, 1]: row k holds the parameter after
step k + 1 (one gradient and one optimizer step per row, starting from w0 and b0).

lamina implements Keras 3's update rules. Where those coincide with torch.optim's algebraically
the reference is torch.optim itself; where they differ only in the placement of epsilon, the
torch.optim cases use eps = 0 (then Adam and RMSprop are the same algebra in both libraries) and
the Keras forms with Keras's epsilon are written out below with torch ops. `gap/...` entries
record (as [1] tensors) the largest difference between torch.optim with Keras's epsilon and the
Keras form, so the tests can state how far apart the two conventions are on this problem.

Line format, one tensor per line:  name rank d0 .. d{rank-1} v0 v1 ...  (values as repr()).
"""

import os

import torch

torch.set_default_dtype(torch.float64)
STEPS = 10

X = torch.tensor([[1.0, -2.0], [0.5, 1.5], [-1.0, 0.25], [2.0, -0.5]])
Y = torch.tensor([[0.3, -1.1], [0.9, 0.2], [-0.4, 0.6], [1.7, -0.8]])
W0 = torch.tensor([0.5, -0.3])
B0 = torch.tensor([0.1])


def loss_of(w, b):
    r = w * X + b - Y
    return (r * r * 0.125).sum()


def gradients(w, b):
    w = w.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    loss_of(w, b).backward()
    return w.grad, b.grad


def run_torch(make_optimizer):
    """Trajectory of a torch.optim optimizer: ([STEPS, 2], [STEPS, 1])."""
    w = W0.clone().requires_grad_(True)
    b = B0.clone().requires_grad_(True)
    opt = make_optimizer([w, b])
    ws, bs = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss_of(w, b).backward()
        opt.step()
        ws.append(w.detach().clone())
        bs.append(b.detach().clone())
    return torch.stack(ws), torch.stack(bs)


def run_manual(update, make_state):
    """Trajectory of a hand-written update(param, grad, state, t) with t = 1, 2, ..."""
    params = [W0.clone(), B0.clone()]
    states = [make_state(p) for p in params]
    ws, bs = [], []
    for t in range(1, STEPS + 1):
        grads = gradients(*params)
        params = [update(p, g, s, t) for p, g, s in zip(params, grads, states)]
        ws.append(params[0].clone())
        bs.append(params[1].clone())
    return torch.stack(ws), torch.stack(bs)


def keras_sgd(lr, momentum, nesterov):
    def update(p, g, s, t):
        s["v"] = s["v"] * momentum - g * lr
        return p + (s["v"] * momentum - g * lr if nesterov else s["v"])

    return update, lambda p: {"v": torch.zeros_like(p)}


def keras_adam(lr, beta_1, beta_2, epsilon, amsgrad):
    def update(p, g, s, t):
        alpha = lr * (1 - beta_2**t) ** 0.5 / (1 - beta_1**t)
        s["m"] = s["m"] + (g - s["m"]) * (1 - beta_1)
        s["v"] = s["v"] + (g * g - s["v"]) * (1 - beta_2)
        v = s["v"]
        if amsgrad:
            s["v_hat"] = torch.maximum(s["v_hat"], s["v"])
            v = s["v_hat"]
        return p - s["m"] * alpha / (v.sqrt() + epsilon)

    def state(p):
        return {"m": torch.zeros_like(p), "v": torch.zeros_like(p), "v_hat": torch.zeros_like(p)}

    return update, state


def keras_rmsprop(lr, rho, momentum, epsilon, centered):
    def update(p, g, s, t):
        s["v"] = rho * s["v"] + (1 - rho) * g * g
        if centered:
            s["a"] = rho * s["a"] + (1 - rho) * g
            denominator = s["v"] - s["a"] * s["a"] + epsilon
        else:
            denominator = s["v"] + epsilon
        increment = lr * g / denominator.sqrt()
        if momentum > 0:
            s["mom"] = momentum * s["mom"] + increment
            return p - s["mom"]
        return p - increment

    def state(p):
        return {"v": torch.zeros_like(p), "a": torch.zeros_like(p), "mom": torch.zeros_like(p)}

    return update, state


def max_diff(a, b):
    return max((a[0] - b[0]).abs().max().item(), (a[1] - b[1]).abs().max().item())


def main():
    optim = torch.optim
    cases = {}
    gaps = {}

    # SGD: torch's buffer is g-scaled (buf = m buf + g; p -= lr buf), Keras's is lr-scaled
    # (v = m v - lr g); equal for a constant lr. Checked against the Keras form below.
    sgd_cases = {
        "sgd": (0.1, 0.0, False),
        "sgd_momentum": (0.05, 0.9, False),
        "sgd_nesterov": (0.05, 0.9, True),
    }
    for name, (lr, mom, nest) in sgd_cases.items():
        cases[name] = run_torch(lambda p: optim.SGD(p, lr=lr, momentum=mom, nesterov=nest))
        keras = run_manual(*keras_sgd(lr, mom, nest))
        gaps[f"gap/{name}_torch_vs_keras"] = max_diff(cases[name], keras)

    # Adam: with eps = 0 torch.optim.Adam and Keras's Adam are the same algebra.
    cases["adam_eps0"] = run_torch(lambda p: optim.Adam(p, lr=0.1, eps=0.0))
    cases["adam_amsgrad_eps0"] = run_torch(
        lambda p: optim.Adam(p, lr=0.1, betas=(0.9, 0.9), eps=0.0, amsgrad=True))
    cases["adam_noamsgrad_eps0"] = run_torch(
        lambda p: optim.Adam(p, lr=0.1, betas=(0.9, 0.9), eps=0.0, amsgrad=False))
    gaps["gap/adam_eps0_torch_vs_keras"] = max_diff(
        cases["adam_eps0"], run_manual(*keras_adam(0.1, 0.9, 0.999, 0.0, False)))
    # Keras defaults (epsilon 1e-7): the Keras form, and how far torch.optim.Adam(eps=1e-7) is.
    cases["adam_keras"] = run_manual(*keras_adam(0.1, 0.9, 0.999, 1e-7, False))
    cases["adam_torch_eps1e-7"] = run_torch(lambda p: optim.Adam(p, lr=0.1, eps=1e-7))
    gaps["gap/adam_torch_eps1e-7_vs_keras"] = max_diff(cases["adam_torch_eps1e-7"],
                                                       cases["adam_keras"])
    cases["adam_amsgrad_keras"] = run_manual(*keras_adam(0.1, 0.9, 0.9, 1e-7, True))

    # RMSprop: torch alpha is Keras rho; with eps = 0 and constant lr the algebra is the same.
    cases["rmsprop_eps0"] = run_torch(lambda p: optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0))
    cases["rmsprop_centered_momentum_eps0"] = run_torch(
        lambda p: optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0, momentum=0.5, centered=True))
    gaps["gap/rmsprop_centered_momentum_eps0_torch_vs_keras"] = max_diff(
        cases["rmsprop_centered_momentum_eps0"], run_manual(*keras_rmsprop(0.01, 0.9, 0.5, 0.0, True)))
    cases["rmsprop_keras"] = run_manual(*keras_rmsprop(0.01, 0.9, 0.0, 1e-7, False))
    cases["rmsprop_centered_momentum_keras"] = run_manual(*keras_rmsprop(0.01, 0.9, 0.5, 1e-7, True))
    cases["rmsprop_torch_eps1e-7"] = run_torch(lambda p: optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-7))
    gaps["gap/rmsprop_torch_eps1e-7_vs_keras"] = max_diff(cases["rmsprop_torch_eps1e-7"],
                                                          cases["rmsprop_keras"])

    def line(name, t):
        t = t.detach()
        dims = " ".join(str(d) for d in t.shape)
        values = " ".join(repr(float(v)) for v in t.reshape(-1).tolist())
        return f"{name} {t.dim()} {dims} {values}".replace("  ", " ") + "\n"

    # The minimiser, from the normal equations of the 8 residuals in the unknowns (w0, w1, b).
    design = torch.zeros(8, 3)
    for i in range(4):
        for j in range(2):
            design[2 * i + j, j] = X[i, j]
            design[2 * i + j, 2] = 1.0
    solution = torch.linalg.lstsq(design, Y.reshape(-1, 1)).solution.reshape(-1)
    w_opt, b_opt = solution[:2], solution[2:]

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizer_reference.txt")
    with open(path, "w") as out:
        out.write("# Written by gen_optimizer_reference.py (PyTorch " + torch.__version__ + "); "
                  "see its docstring for the problem and the cases.\n")
        out.write(line("x", X) + line("y", Y) + line("w0", W0) + line("b0", B0))
        out.write(line("optimum/w", w_opt) + line("optimum/b", b_opt))
        out.write(line("optimum/loss", loss_of(w_opt, b_opt).reshape(1)))
        for name, (ws, bs) in cases.items():
            out.write(line(f"{name}/w", ws) + line(f"{name}/b", bs))
        for name, gap in gaps.items():
            out.write(line(name, torch.tensor([gap])))
    for name, gap in gaps.items():
        print(f"{name}: {gap:.3e}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
