#!/usr/bin/python3
"""Reference values for lamina's Keras metrics, computed by hand from Keras 3's definitions.

PyTorch has no Keras metrics, so every value here is written out from Keras's formulas with
torch float64 arithmetic (keras/src/metrics/accuracy_metrics.py, confusion_metrics.py and
metrics_utils.py); nothing calls Keras. Run with Debian's PyTorch:
    /usr/bin/python3 tests/metrics/reference/gen_metrics_reference.py
It rewrites metrics.txt beside this script; tests/metrics/metrics_test.cpp reads it.

Format: tests/support/reference.py (one tensor a line). Each case stores
  <case>.options  [metric, p1, p2, p3, p4]: metric an index into METRICS (the C++ test keeps
                  the same list); p1 = threshold (binary_accuracy, precision, recall), k (top-k)
                  or num_thresholds (auc); for auc p2 = curve (0 ROC, 1 PR), p3 = summation
                  method (0 interpolation, 1 minoring, 2 majoring), p4 = from_logits
  <case>.y_pred, <case>.y_true
  <case>.weight   one weight per sample (all ones: the test passes no weights)
  <case>.batches  the batch sizes the samples are fed in, in order (one update per batch:
                  the metric accumulates across them as Keras's stateful metrics do)
  <case>.result   the metric's result after the last batch
  auc cases also <case>.tp, .fp, .tn, .fn: the accumulated counts per threshold.

Every prediction is a multiple of 1/64 (exact in float32 and float64) so that the float and
the double tests see the same comparisons; the ties that matter are written in on purpose:
predictions equal to a threshold (0.5 for binary accuracy, precision and recall; 0.25, 0.5,
0.75 and the ends 0 and 1 for AUC with few thresholds), tied top scores for argmax (Keras's
argmax takes the first) and scores tied at the k-th place for top-k (Keras's in_top_k counts
them all in).
"""

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from reference import ReferenceWriter  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.manual_seed(20261203)

METRICS = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "precision",
           "recall", "auc"]
EPSILON = 1e-7  # keras.backend.epsilon()

writer = ReferenceWriter(os.path.join(HERE, "metrics.txt"))


def probs(*shape):
    """Probabilities that are multiples of 1/64."""
    return torch.randint(0, 65, shape).double() / 64


def weights_of(n, weighted):
    """Sample weights 0.5, 1, 1.5 or 2 (the first one 0 when n > 4: a masked sample)."""
    if not weighted:
        return torch.ones(n)
    w = torch.randint(1, 5, (n,)).double() / 2
    if n > 4:
        w[0] = 0.0
    return w


# --- MeanMetricWrapper: per-sample values (the mean over a sample's positions), then the
# weighted mean sum(w v) / sum(w) over every sample of every batch -----------------------------

def mean_over_samples(values, w):
    """values [n, ...] -> Keras's reduce_to_samplewise_values + Mean: sum_i w_i mean(v_i) / sum w."""
    per_sample = values.reshape(values.shape[0], -1).mean(dim=1)
    return float((per_sample * w).sum() / w.sum())


def binary_accuracy(y_pred, y_true, threshold):
    # keras: equal(y_true, cast(y_pred > threshold)), elementwise
    return (y_true == (y_pred > threshold).double()).double()


def categorical_accuracy(y_pred, y_true):
    # keras: equal(argmax(y_true, -1), argmax(y_pred, -1)); argmax takes the first maximum
    return (first_argmax(y_true) == first_argmax(y_pred)).double()


def sparse_categorical_accuracy(y_pred, labels):
    # keras: equal(y_true, argmax(y_pred, -1)), labels [batch] or [batch, steps]
    return (labels.long() == first_argmax(y_pred)).double()


def first_argmax(x):
    """Index of the first maximum along the last axis (numpy's and Keras's argmax)."""
    flat = x.reshape(-1, x.shape[-1])
    out = torch.tensor([int(next(i for i, v in enumerate(row) if v == row.max()))
                        for row in flat])
    return out.reshape(x.shape[:-1])


def in_top_k(y_pred, targets, k):
    # keras (jax backend): rank = 1 + number of scores strictly greater than the target's;
    # the target is in the top k when rank <= k, so ties at the k-th place count as in
    at_target = torch.gather(y_pred, -1, targets.long().unsqueeze(-1))
    return ((y_pred > at_target).sum(dim=-1) < k).double()


def mean_case(name, metric, p1, y_pred, y_true, fn, batches, weighted):
    w = weights_of(y_pred.shape[0], weighted)
    assert sum(batches) == y_pred.shape[0]
    # A mean of per-sample values accumulates across batches to the mean over all samples.
    result = mean_over_samples(fn(y_pred, y_true), w)
    emit_case(name, [METRICS.index(metric), p1, 0, 0, 0], y_pred, y_true, w, batches, result)


def emit_case(name, options, y_pred, y_true, w, batches, result):
    writer.options(name, options)
    writer.emit(f"{name}.y_pred", y_pred)
    writer.emit(f"{name}.y_true", y_true)
    writer.emit(f"{name}.weight", w)
    writer.emit(f"{name}.batches", torch.tensor(batches, dtype=torch.float64))
    writer.emit(f"{name}.result", torch.tensor(result))


def one_hot(labels, classes):
    return torch.nn.functional.one_hot(labels.long(), classes).double()


# binary_accuracy: [6, 3] with predictions exactly at the threshold (0.5 > 0.5 is false).
y_pred = probs(6, 3)
y_pred[0, 0], y_pred[2, 1], y_pred[5, 2] = 0.5, 0.5, 0.75
y_true = torch.randint(0, 2, (6, 3)).double()
mean_case("binary", "binary_accuracy", 0.5, y_pred, y_true,
          lambda p, t: binary_accuracy(p, t, 0.5), [4, 2], False)
mean_case("binary_weighted_075", "binary_accuracy", 0.75, y_pred, y_true,
          lambda p, t: binary_accuracy(p, t, 0.75), [1, 3, 2], True)

# categorical_accuracy: [5, 4] with a tied top score (the first wins), and a sequence
# output [3, 2, 4].
y_pred = probs(5, 4)
y_pred[1] = torch.tensor([0.25, 0.5, 0.5, 0.0])
y_pred[3] = torch.tensor([0.75, 0.0, 0.75, 0.75])
labels = torch.tensor([0, 2, 3, 0, 1])
labels[0] = int(first_argmax(y_pred[0:1])[0])
mean_case("categorical", "categorical_accuracy", 0, y_pred, one_hot(labels, 4),
          categorical_accuracy, [2, 3], True)
seq_pred = probs(3, 2, 4)
seq_labels = torch.randint(0, 4, (3, 2))
seq_labels[0, 0] = int(first_argmax(seq_pred[0, 0]))
mean_case("categorical_sequence", "categorical_accuracy", 0, seq_pred, one_hot(seq_labels, 4),
          categorical_accuracy, [1, 2], True)

# sparse_categorical_accuracy: same data with integer labels ([5] and [3, 2]).
mean_case("sparse", "sparse_categorical_accuracy", 0, y_pred, labels.double(),
          sparse_categorical_accuracy, [2, 3], True)
mean_case("sparse_sequence", "sparse_categorical_accuracy", 0, seq_pred, seq_labels.double(),
          sparse_categorical_accuracy, [3], False)

# top-k: k = 2 over 5 classes with ties straddling the 2nd place, and the default k = 5 over
# 7 classes.
y_pred = probs(6, 5)
y_pred[0] = torch.tensor([0.5, 0.25, 0.25, 0.25, 0.0])  # label 3: one greater, tied 2nd: in
y_pred[1] = torch.tensor([0.5, 0.5, 0.25, 0.0, 0.0])    # label 2: two greater: out
y_pred[2] = torch.tensor([0.5, 0.5, 0.5, 0.5, 0.5])     # all tied: in
labels = torch.tensor([3, 2, 4, 0, 1, 2])
mean_case("top_k2", "top_k_categorical_accuracy", 2, y_pred, one_hot(labels, 5),
          lambda p, t: in_top_k(p, first_argmax(t), 2), [3, 3], True)
mean_case("sparse_top_k2", "sparse_top_k_categorical_accuracy", 2, y_pred, labels.double(),
          lambda p, t: in_top_k(p, t, 2), [2, 4], False)
y_pred = probs(8, 7)
labels = torch.randint(0, 7, (8,))
mean_case("top_k5", "top_k_categorical_accuracy", 5, y_pred, one_hot(labels, 7),
          lambda p, t: in_top_k(p, first_argmax(t), 5), [8], False)
mean_case("sparse_top_k5", "sparse_top_k_categorical_accuracy", 5, y_pred, labels.double(),
          lambda p, t: in_top_k(p, t, 5), [5, 3], True)


# --- Precision and Recall: weighted true/false positive counts over every element of every
# batch, at one threshold (y_pred > threshold is a predicted positive; y_true != 0 a positive),
# each element weighted by its sample's weight; result tp / (tp + fp) or tp / (tp + fn) ---------

def confusion_at(y_pred, y_true, w, threshold):
    we = w.reshape(-1, *([1] * (y_pred.dim() - 1))).expand_as(y_pred)
    predicted, positive = y_pred > threshold, y_true != 0
    tp = float((we * (predicted & positive)).sum())
    fp = float((we * (predicted & ~positive)).sum())
    fn = float((we * (~predicted & positive)).sum())
    tn = float((we * (~predicted & ~positive)).sum())
    return tp, fp, tn, fn


def divide_no_nan(a, b):
    return 0.0 if b == 0 else a / b


y_pred = probs(8, 3)
y_pred[0, 0], y_pred[3, 2], y_pred[6, 1] = 0.5, 0.5, 0.25
y_true = torch.randint(0, 2, (8, 3)).double()
for metric in ("precision", "recall"):
    for threshold, weighted, batches in ((0.5, False, [3, 5]), (0.25, True, [2, 2, 4])):
        w = weights_of(8, weighted)
        tp, fp, tn, fn = confusion_at(y_pred, y_true, w, threshold)
        result = divide_no_nan(tp, tp + (fp if metric == "precision" else fn))
        name = f"{metric}_{'weighted' if weighted else 'plain'}_{int(threshold * 100)}"
        emit_case(name, [METRICS.index(metric), threshold, 0, 0, 0], y_pred, y_true, w, batches,
                  result)


# --- AUC: Keras's thresholds [-eps, 1/(n-1), ..., (n-2)/(n-1), 1 + eps]; confusion counts at
# each (y_pred clipped to [0, 1], y_pred > t is positive), accumulated over the batches; then
# the Riemann sum of metrics_utils / AUC.result (and interpolate_pr_auc for PR) --------------

def keras_thresholds(n):
    return [0.0 - EPSILON] + [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)] + [1.0 + EPSILON]


def auc_counts(y_pred, y_true, w, n):
    """Counts per threshold by the definition (p > t), checked against Keras's bucket algorithm
    (_update_confusion_matrix_variables_optimized) which lamina implements."""
    p = y_pred.clamp(0.0, 1.0)
    counts = [confusion_at(p, y_true, w, t) for t in keras_thresholds(n)]
    tp, fp, tn, fn = (torch.tensor(c) for c in zip(*counts))
    # The optimized algorithm: bucket = max(ceil(p (n - 1)) - 1, 0), reversed cumulative sums.
    we = w.reshape(-1, *([1] * (y_pred.dim() - 1))).expand_as(y_pred).reshape(-1)
    bucket = (torch.ceil(p.reshape(-1) * (n - 1)) - 1).clamp(min=0).long()
    positive = (y_true.reshape(-1) != 0).double()
    pos = torch.zeros(n).index_add_(0, bucket, positive * we)
    neg = torch.zeros(n).index_add_(0, bucket, (1 - positive) * we)
    tp_b = pos.flip(0).cumsum(0).flip(0)
    fp_b = neg.flip(0).cumsum(0).flip(0)
    assert torch.equal(tp, tp_b) and torch.equal(fp, fp_b), "bucket algorithm disagrees"
    assert torch.equal(fn, pos.sum() - tp_b) and torch.equal(tn, neg.sum() - fp_b)
    return tp, fp, tn, fn


def auc_result(tp, fp, tn, fn, curve, summation):
    n = len(tp)
    dnn = lambda a, b: torch.where(b == 0, torch.zeros_like(a), a / torch.where(b == 0, 1.0, b))
    if curve == "PR" and summation == "interpolation":
        # keras AUC.interpolate_pr_auc (Davis & Goadrich 2006)
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = dnn(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = torch.where((p[: n - 1] > 0) & (p[1:] > 0),
                                   dnn(p[: n - 1], torch.clamp(p[1:], min=0)),
                                   torch.ones_like(p[1:]))
        return float(dnn(prec_slope * (dtp + intercept * torch.log(safe_p_ratio)),
                         torch.clamp(tp[1:] + fn[1:], min=0)).sum())
    recall = dnn(tp, tp + fn)
    if curve == "ROC":
        x, y = dnn(fp, fp + tn), recall
    else:
        x, y = recall, dnn(tp, tp + fp)
    if summation == "interpolation":
        heights = (y[: n - 1] + y[1:]) / 2
    elif summation == "minoring":
        heights = torch.minimum(y[: n - 1], y[1:])
    else:
        heights = torch.maximum(y[: n - 1], y[1:])
    return float(((x[: n - 1] - x[1:]) * heights).sum())


CURVES = ["ROC", "PR"]
SUMMATIONS = ["interpolation", "minoring", "majoring"]


def auc_case(name, y_pred, y_true, batches, weighted, n=200, curve="ROC",
             summation="interpolation", logits=None):
    w = weights_of(y_pred.shape[0], weighted)
    assert sum(batches) == y_pred.shape[0]
    tp, fp, tn, fn = auc_counts(y_pred, y_true, w, n)  # counts add up across batches
    result = auc_result(tp, fp, tn, fn, curve, summation)
    options = [METRICS.index("auc"), n, CURVES.index(curve), SUMMATIONS.index(summation),
               int(logits is not None)]
    emit_case(name, options, logits if logits is not None else y_pred, y_true, w, batches,
              result)
    for key, value in (("tp", tp), ("fp", fp), ("tn", tn), ("fn", fn)):
        writer.emit(f"{name}.{key}", value)


# Default AUC (200 thresholds, ROC, interpolation) over three batches, unweighted and weighted;
# positives score higher on average.
y_true = torch.randint(0, 2, (40, 1)).double()
y_pred = ((torch.rand(40, 1) * 0.7 + 0.3 * y_true) * 64).floor() / 64
y_pred[0, 0], y_pred[1, 0] = 0.0, 1.0
auc_case("auc_default", y_pred, y_true, [16, 16, 8], False)
auc_case("auc_weighted", y_pred, y_true, [16, 16, 8], True)
# Predictions exactly at the thresholds and tied with each other (5 thresholds: 0.25 steps).
y_pred = torch.tensor([[0.0, 0.25], [0.25, 0.5], [0.5, 0.5], [0.75, 1.0], [1.0, 0.125],
                       [0.5, 0.75], [0.25, 0.0]])
y_true = torch.tensor([[0, 0], [1, 0], [1, 0], [1, 1], [1, 0], [0, 1], [0, 1]]).double()
auc_case("auc_ties5", y_pred, y_true, [3, 4], False, n=5)
auc_case("auc_ties3_weighted", y_pred, y_true, [7], True, n=3)
auc_case("auc_ties5_minoring", y_pred, y_true, [2, 5], False, n=5, summation="minoring")
auc_case("auc_ties5_majoring", y_pred, y_true, [2, 5], True, n=5, summation="majoring")
# PR curve: interpolation (Keras's interpolate_pr_auc), minoring, majoring.
y_true = torch.randint(0, 2, (30, 1)).double()
y_pred = ((torch.rand(30, 1) * 0.6 + 0.4 * y_true) * 64).floor() / 64
auc_case("auc_pr", y_pred, y_true, [10, 20], False, curve="PR")
auc_case("auc_pr_weighted", y_pred, y_true, [30], True, n=50, curve="PR")
auc_case("auc_pr_minoring", y_pred, y_true, [30], False, n=20, curve="PR", summation="minoring")
auc_case("auc_pr_majoring", y_pred, y_true, [15, 15], True, n=20, curve="PR",
         summation="majoring")
# from_logits: logits whose sigmoids are far from any of 10 thresholds' edges.
logits = torch.tensor([[-3.0], [-1.0], [0.3], [2.0], [-0.4], [1.2], [4.0], [-2.2]])
y_true = torch.tensor([[0], [0], [1], [1], [0], [1], [1], [1]]).double()
auc_case("auc_logits", torch.sigmoid(logits), y_true, [4, 4], False, n=10, logits=logits)

writer.write()
