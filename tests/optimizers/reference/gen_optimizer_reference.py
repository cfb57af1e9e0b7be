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


# ---- Keras 3 forms of the optimizers added for issue 14, written from keras/src/optimizers/*.py.
# `lr_at(t)` is the learning rate of step t (t = 1, 2, ...); a number means a constant rate.

def rate(lr, t):
    return lr(t) if callable(lr) else lr


def keras_decayed(update, lr, weight_decay):
    """Keras 3's base-optimizer weight decay, p -= p * wd * lr, applied before `update`."""
    def decayed(p, g, s, t):
        return update(p - p * weight_decay * rate(lr, t), g, s, t)

    return decayed


def keras_nadam(lr, beta_1, beta_2, epsilon):
    def u(t):
        return beta_1 * (1.0 - 0.5 * 0.96**t)

    def update(p, g, s, t):
        u_product = 1.0
        for k in range(1, t + 1):
            u_product *= u(k)
        s["m"] = s["m"] + (g - s["m"]) * (1 - beta_1)
        s["v"] = s["v"] + (g * g - s["v"]) * (1 - beta_2)
        m_hat = u(t + 1) * s["m"] / (1 - u_product * u(t + 1)) + (1 - u(t)) * g / (1 - u_product)
        v_hat = s["v"] / (1 - beta_2**t)
        return p - m_hat * lr / (v_hat.sqrt() + epsilon)

    return update, lambda p: {"m": torch.zeros_like(p), "v": torch.zeros_like(p)}


def keras_adagrad(lr, initial_accumulator_value, epsilon):
    def update(p, g, s, t):
        s["a"] = s["a"] + g * g
        return p - rate(lr, t) * g / (s["a"] + epsilon).sqrt()

    return update, lambda p: {"a": torch.full_like(p, initial_accumulator_value)}


def keras_adadelta(lr, rho, epsilon):
    def update(p, g, s, t):
        s["g2"] = rho * s["g2"] + (1 - rho) * g * g
        delta = -(s["dx2"] + epsilon).sqrt() * g / (s["g2"] + epsilon).sqrt()
        s["dx2"] = rho * s["dx2"] + (1 - rho) * delta * delta
        return p + lr * delta

    return update, lambda p: {"g2": torch.zeros_like(p), "dx2": torch.zeros_like(p)}


def keras_adamax(lr, beta_1, beta_2, epsilon):
    def update(p, g, s, t):
        s["m"] = s["m"] + (g - s["m"]) * (1 - beta_1)
        s["u"] = torch.maximum(beta_2 * s["u"], g.abs())
        return p - lr * s["m"] / ((1 - beta_1**t) * (s["u"] + epsilon))

    return update, lambda p: {"m": torch.zeros_like(p), "u": torch.zeros_like(p)}


def keras_lion(lr, beta_1, beta_2):
    def update(p, g, s, t):
        p = p - rate(lr, t) * torch.sign(s["m"] * beta_1 + g * (1 - beta_1))
        s["m"] = s["m"] * beta_2 + g * (1 - beta_2)
        return p

    return update, lambda p: {"m": torch.zeros_like(p)}


def run_keras_sgd_global_clipnorm(lr, clip):
    """SGD with Keras 3's global_clipnorm: every gradient times clip / max(global norm, clip)."""
    params = [W0.clone(), B0.clone()]
    ws, bs = [], []
    for _ in range(STEPS):
        grads = gradients(*params)
        norm = sum((g * g).sum() for g in grads).sqrt()
        scale = clip / torch.maximum(norm, torch.tensor(clip))
        params = [p - lr * g * scale for p, g in zip(params, grads)]
        ws.append(params[0].clone())
        bs.append(params[1].clone())
    return torch.stack(ws), torch.stack(bs)


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

    # ---- Issue 14's optimizers. Where torch.optim has the same rule the reference is torch.optim
    # (checked against the Keras form, the gap printed and stored); where the two differ in
    # epsilon's placement, torch.optim runs with eps = 0 and the Keras form with Keras's epsilon
    # is written out above with torch arithmetic.
    # AdamW: torch decays p *= 1 - lr wd before its Adam step, as Keras 3's base optimizer does.
    cases["adamw_eps0"] = run_torch(lambda p: optim.AdamW(p, lr=0.1, eps=0.0, weight_decay=0.1))
    adam_update, adam_state = keras_adam(0.1, 0.9, 0.999, 0.0, False)
    gaps["gap/adamw_eps0_torch_vs_keras"] = max_diff(
        cases["adamw_eps0"], run_manual(keras_decayed(adam_update, 0.1, 0.1), adam_state))
    adam_update, adam_state = keras_adam(0.1, 0.9, 0.999, 1e-7, False)
    cases["adamw_keras"] = run_manual(keras_decayed(adam_update, 0.1, 0.1), adam_state)
    # Nadam: torch.optim.NAdam with momentum_decay = 1 has Keras's schedule u_t = b1 (1 - 0.5 0.96^t)
    # and Keras's epsilon placement, but PyTorch 1.13 multiplies mu_t into the product twice
    # (mu_product_next = mu_product * mu * mu_next, where Keras has U_t * u_{t+1}), so the
    # reference is the Keras form; the gap to torch is stored to show the two are not the same.
    cases["nadam_keras"] = run_manual(*keras_nadam(0.1, 0.9, 0.999, 1e-7))
    gaps["gap/nadam_torch_vs_keras"] = max_diff(
        run_torch(lambda p: optim.NAdam(p, lr=0.1, eps=1e-7, momentum_decay=1.0)),
        cases["nadam_keras"])
    # Adagrad: torch adds eps outside the square root, Keras inside.
    cases["adagrad_eps0"] = run_torch(
        lambda p: optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=0.0))
    gaps["gap/adagrad_eps0_torch_vs_keras"] = max_diff(
        cases["adagrad_eps0"], run_manual(*keras_adagrad(0.1, 0.1, 0.0)))
    cases["adagrad_keras"] = run_manual(*keras_adagrad(0.1, 0.1, 1e-7))
    # Adadelta: the same rule in both (epsilon inside both square roots).
    cases["adadelta"] = run_torch(lambda p: optim.Adadelta(p, lr=0.5, rho=0.9, eps=1e-6))
    gaps["gap/adadelta_torch_vs_keras"] = max_diff(cases["adadelta"],
                                                   run_manual(*keras_adadelta(0.5, 0.9, 1e-6)))
    # Adamax: torch adds eps to |g| inside the max, Keras to u in the denominator.
    cases["adamax_eps0"] = run_torch(lambda p: optim.Adamax(p, lr=0.1, eps=0.0))
    gaps["gap/adamax_eps0_torch_vs_keras"] = max_diff(
        cases["adamax_eps0"], run_manual(*keras_adamax(0.1, 0.9, 0.999, 0.0)))
    cases["adamax_keras"] = run_manual(*keras_adamax(0.1, 0.9, 0.999, 1e-7))
    # Lion: not in PyTorch 1.13; the Keras form only.
    cases["lion"] = run_manual(*keras_lion(0.01, 0.9, 0.99))
    # A learning-rate schedule drives the new optimizers too: Keras's
    # ExponentialDecay(0.01, decay_steps=3, decay_rate=0.5) is 0.01 * 0.5^((t - 1) / 3) at step t.
    cases["lion_exponential_decay"] = run_manual(
        *keras_lion(lambda t: 0.01 * 0.5 ** ((t - 1) / 3), 0.9, 0.99))
    # Weight decay in the base optimizer: for plain SGD torch's coupled L2 term,
    # p -= lr (g + wd p), is exactly Keras's decoupled p -= p wd lr; p -= lr g.
    cases["sgd_weight_decay"] = run_torch(lambda p: optim.SGD(p, lr=0.1, weight_decay=0.5))
    sgd_update, sgd_state = keras_sgd(0.1, 0.0, False)
    gaps["gap/sgd_weight_decay_torch_vs_keras"] = max_diff(
        cases["sgd_weight_decay"], run_manual(keras_decayed(sgd_update, 0.1, 0.5), sgd_state))
    # ... and with Adagrad (no torch equivalent: torch's Adagrad weight_decay is an L2 term).
    adagrad_update, adagrad_state = keras_adagrad(0.1, 0.1, 1e-7)
    cases["adagrad_weight_decay_keras"] = run_manual(keras_decayed(adagrad_update, 0.1, 0.5),
                                                     adagrad_state)
    # global_clipnorm (torch's clip_grad_norm_ adds 1e-6 to the norm, so the Keras form).
    cases["sgd_global_clipnorm"] = run_keras_sgd_global_clipnorm(0.1, 0.1)

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
