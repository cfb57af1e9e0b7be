#!/usr/bin/python3
"""lamina against PyTorch on the CPU, side by side on the same machine.

Runs lamina's Google Benchmark binaries (layers_bench, training_bench) and the same models in
PyTorch (benchmarks/pytorch_models.py: same shapes, batch sizes, data distributions and math;
NCHW convolutions, PyTorch's native layout), interleaved case by case (lamina, PyTorch,
lamina, PyTorch, ...) so that a change in the machine's load hits both sides alike, on the
same number of threads. Prints the median wall-clock time of each side per case and the ratio
lamina / PyTorch, then the peak RSS of one training epoch of the tutorial CNN on
Fashion-MNIST for both (lamina: the `cnn` example under /usr/bin/time -v; PyTorch:
pytorch_models.py epoch, ru_maxrss).

    /usr/bin/python3 benchmarks/compare_pytorch.py [--build-dir build/release/benchmarks]
        [--threads 2] [--repetitions 5] [--quick]

With --whole-epochs it compares what a user times instead: whole training epochs on
Fashion-MNIST of each tutorial model, lamina's example (its history.csv's seconds per epoch)
against the same network trained the same way by pytorch_models.py epoch, interleaved run by
run, with the GFLOP/s each side reaches against the FMA peak that benchmarks/peak_bench
measures:

    /usr/bin/python3 benchmarks/compare_pytorch.py --whole-epochs [--threads 2,1]
        [--epoch-runs 3] [--epochs-per-run 1] [--only REGEX]

Needs Debian's python3-torch under /usr/bin/python3 (with libopenblas0-openmp installed so that
PyTorch does not use the reference BLAS). Not part of the test suite. Results and the
commands used for them: docs/PERFORMANCE.md.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import pytorch_models  # noqa: E402

# (label, lamina binary, lamina benchmark name, PyTorch case in pytorch_models.CASES)
CASES = [
    ("Dense 128x784x128 fwd", "layers_bench", "BM_DenseForward/128x784x128", "dense_fwd"),
    ("Dense 128x784x128 fwd+bwd", "layers_bench", "BM_DenseForwardBackward/128x784x128",
     "dense_fwd_bwd"),
    ("Conv2D conv1 fwd", "layers_bench", "BM_Conv2DForward/conv1", "conv1_fwd"),
    ("Conv2D conv2 fwd", "layers_bench", "BM_Conv2DForward/conv2", "conv2_fwd"),
    ("Conv2D conv1 fwd+bwd", "layers_bench", "BM_Conv2DForwardBackward/conv1", "conv1_fwd_bwd"),
    ("Conv2D conv2 fwd+bwd", "layers_bench", "BM_Conv2DForwardBackward/conv2", "conv2_fwd_bwd"),
    ("MaxPooling2D pool1 fwd", "layers_bench", "BM_MaxPooling2DForward/pool1", "pool1_fwd"),
    ("MaxPooling2D pool2 fwd", "layers_bench", "BM_MaxPooling2DForward/pool2", "pool2_fwd"),
    ("MaxPooling2D pool1 fwd+bwd", "layers_bench", "BM_MaxPooling2DForwardBackward/pool1",
     "pool1_fwd_bwd"),
    ("MaxPooling2D pool2 fwd+bwd", "layers_bench", "BM_MaxPooling2DForwardBackward/pool2",
     "pool2_fwd_bwd"),
    ("SimpleRNN(32) 28 steps fwd", "layers_bench", "BM_SimpleRNNForward/b32_t28_f28_u32",
     "rnn_fwd"),
    ("SimpleRNN(32) 28 steps fwd+bwd", "layers_bench",
     "BM_SimpleRNNForwardBackward/b32_t28_f28_u32", "rnn_fwd_bwd"),
    ("LSTM(128) 28 steps fwd", "layers_bench", "BM_LSTMForward/b32_t28_f28_u128", "lstm_fwd"),
    ("LSTM(128) 28 steps fwd+bwd", "layers_bench", "BM_LSTMForwardBackward/b32_t28_f28_u128",
     "lstm_fwd_bwd"),
    ("GRU(128) 28 steps fwd", "layers_bench", "BM_GRUForward/b32_t28_f28_u128", "gru_fwd"),
    ("GRU(128) 28 steps fwd+bwd", "layers_bench", "BM_GRUForwardBackward/b32_t28_f28_u128",
     "gru_fwd_bwd"),
    ("CNN train step, batch 32", "training_bench", "BM_CnnTrainStep/32", "cnn_step_32"),
    ("CNN train step, batch 128", "training_bench", "BM_CnnTrainStep/128", "cnn_step_128"),
    ("RNN train step, batch 32", "training_bench", "BM_RnnTrainStep/32", "rnn_step_32"),
    ("Autoencoder train step, batch 256", "training_bench", "BM_AutoencoderTrainStep/256",
     "autoencoder_step_256"),
    ("GAN train step, batch 64", "training_bench", "BM_GanTrainStep/64", "gan_step_64"),
    ("LSTM(128) train step, batch 32", "training_bench", "BM_LstmTrainStep/32", "lstm_step_32"),
    ("GRU(128) train step, batch 32", "training_bench", "BM_GruTrainStep/32", "gru_step_32"),
    ("DCGAN train step, batch 128", "training_bench", "BM_DcganTrainStep/128", "dcgan_step_128"),
]

# lamina's Dense against raw Eigen GEMMs of the same FLOPs (no PyTorch side).
EIGEN_PAIRS = [
    ("Dense 128x784x128 fwd", "BM_DenseForward/128x784x128",
     "BM_DenseRawEigenForward/128x784x128"),
    ("Dense 128x784x128 fwd+bwd", "BM_DenseForwardBackward/128x784x128",
     "BM_DenseRawEigenForwardBackward/128x784x128"),
]

UNIT_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


# --- whole epochs -----------------------------------------------------------------------------
# FLOPs of one training step, per sample, counting the multiply-adds of the dense, convolution
# and recurrent products as 2 flops each (a convolution's as the direct convolution's, whatever
# algorithm runs): forward, the weights' gradients, and the inputs' gradients of every layer but
# the first (whose input is data). Elementwise work (activations, pooling, normalisation, the
# optimizer) is left out. Each layer is given by its multiply-adds per sample.


def conv_macs(out_h, out_w, k, cin, cout):
    return out_h * out_w * k * k * cin * cout


def recurrent_macs(steps, features, units, gates):
    """Input and recurrent products of `steps` steps: [features + units] x [gates * units]."""
    return steps * (features + units) * gates * units


def train_flops(macs, input_grad=False):
    """2 flops per multiply-add, three products per layer in training (two for the first)."""
    return 2 * (3 * sum(macs) - (0 if input_grad else macs[0]))


CNN_MACS = [conv_macs(26, 26, 3, 1, 32), conv_macs(11, 11, 3, 32, 64), 1600 * 64, 64 * 10]
GAN_G, GAN_D = [100 * 256, 256 * 784], [784 * 256, 256]
DCGAN_G = [100 * 7 * 7 * 128, conv_macs(7, 7, 4, 128, 64), conv_macs(14, 14, 4, 64, 1)]
DCGAN_D = [conv_macs(14, 14, 4, 1, 64), conv_macs(7, 7, 4, 64, 128), 7 * 7 * 128]


def gan_train_flops(g, d):
    """GAN::train_step per real sample: G forward for the fakes (no graph), D trained on the
    real and the fake batch; then G forward, D forward and backward down to its input (D's
    weight gradients are computed too, then discarded), G backward."""
    fwd_g, fwd_d = 2 * sum(g), 2 * sum(d)
    d_step = fwd_g + 2 * train_flops(d)
    g_step = 3 * fwd_d + train_flops(g)
    return d_step + g_step


# (label, lamina example, its batch size, pytorch_models.py epoch --model, training FLOPs per
# sample). The examples run with their defaults otherwise.
EPOCH_CASES = [
    ("CNN, batch 32", "cnn", 32, "cnn", train_flops(CNN_MACS)),
    ("CNN, batch 128", "cnn", 128, "cnn", train_flops(CNN_MACS)),
    ("RNN (SimpleRNN(32)), batch 32", "rnn", 32, "rnn",
     train_flops([recurrent_macs(28, 28, 32, 1), 32 * 10])),
    ("Autoencoder, batch 256", "autoencoder", 256, "autoencoder",
     train_flops([784 * 32, 32 * 784])),
    ("GAN (MLP), batch 64", "gan", 64, "gan", gan_train_flops(GAN_G, GAN_D)),
    ("LSTM(128), batch 32", "lstm", 32, "lstm",
     train_flops([recurrent_macs(28, 28, 128, 4), 128 * 10])),
    ("DCGAN, batch 128", "dcgan", 128, "dcgan", gan_train_flops(DCGAN_G, DCGAN_D)),
]
TRAIN_SAMPLES = 60000


def measure_peak(build_dir, threads):
    """The FMA peak in GFLOP/s at `threads` threads (benchmarks/peak_bench: the best vector width,
    median of 3 repetitions), or None when peak_bench is missing."""
    binary = os.path.join(build_dir, "peak_bench")
    if not os.access(binary, os.X_OK):
        print(f"  no {binary}: no peak to compare with")
        return None
    out = subprocess.run([binary, f"--benchmark_filter=BM_FmaPeak.*/{threads}/",
                          "--benchmark_format=json", "--benchmark_repetitions=3",
                          "--benchmark_min_time=0.3"],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS=str(threads))).stdout
    rates = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            rates[b["run_name"]] = b["FLOPS"] / 1e9
    for name, rate in sorted(rates.items()):
        print(f"  {name}: {rate:.1f} GFLOP/s")
    return max(rates.values()) if rates else None


def lamina_epochs(binary, batch, threads, epochs, data):
    """Runs a lamina example for `epochs` epochs; returns the seconds of each (history.csv)."""
    with tempfile.TemporaryDirectory() as out_dir:
        cmd = [binary, "--epochs", str(epochs), "--batch-size", str(batch), "--threads",
               str(threads), "--data", data, "--out", out_dir]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"compare_pytorch: {' '.join(cmd)} failed ({run.returncode}):\n"
                     f"{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
        with open(os.path.join(out_dir, "history.csv")) as f:
            rows = [line.strip().split(",") for line in f if line.strip()]
    column = rows[0].index("seconds")
    return [float(r[column]) for r in rows[1:]]


def torch_epochs(model, batch, threads, epochs, data):
    """Runs pytorch_models.py epoch; returns the seconds of each epoch."""
    cmd = [sys.executable, os.path.join(HERE, "pytorch_models.py"), "epoch", "--model", model,
           "--batch-size", str(batch), "--threads", str(threads), "--epochs", str(epochs),
           "--data", data]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"compare_pytorch: {' '.join(cmd)} failed ({run.returncode}):\n"
                 f"{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return [float(m.group(1)) for m in re.finditer(r"^epoch \d+: ([\d.]+) s", run.stdout, re.M)]


def epoch_comparison(args):
    """Whole Fashion-MNIST training epochs of each tutorial model, lamina's example against the
    same network trained the same way in PyTorch, interleaved run by run."""
    examples_dir = os.path.join(args.build_dir, os.pardir, "examples")
    cases = [c for c in EPOCH_CASES if re.search(args.only, c[0])]
    for _, example, _, _, _ in cases:
        if not os.access(os.path.join(examples_dir, example), os.X_OK):
            sys.exit(f"compare_pytorch: no example {example} in {examples_dir}; build it first")
    peaks = {}
    for threads in args.threads:
        print(f"FMA peak at {threads} thread(s) (peak_bench):")
        peaks[threads] = measure_peak(args.build_dir, threads)
    with open("/proc/loadavg") as f:
        print(f"Load average before: {' '.join(f.read().split()[:3])}; {args.epoch_runs} runs of "
              f"{args.epochs_per_run} epoch(s) per case, side and thread count, interleaved")
    times = {}
    started = time.perf_counter()
    for run in range(args.epoch_runs):
        for label, example, batch, model, _ in cases:
            for threads in args.threads:
                times.setdefault((label, threads, "lamina"), []).extend(lamina_epochs(
                    os.path.join(examples_dir, example), batch, threads, args.epochs_per_run,
                    args.data))
                times.setdefault((label, threads, "PyTorch"), []).extend(torch_epochs(
                    model, batch, threads, args.epochs_per_run, args.data))
        print(f"  run {run + 1}/{args.epoch_runs} done ({time.perf_counter() - started:.0f} s)",
              file=sys.stderr)
    with open("/proc/loadavg") as f:
        print(f"Load average after: {' '.join(f.read().split()[:3])}")
    summary = []
    for threads in args.threads:
        peak = peaks[threads]
        print(f"\n== whole epochs, {threads} thread(s); peak {peak:.0f} GFLOP/s ==" if peak else
              f"\n== whole epochs, {threads} thread(s) ==")
        header = (f"| {'model':30s} | {'lamina s':>8s} | {'PyTorch s':>9s} | {'ratio':>5s} "
                  f"| {'GFLOP':>6s} | {'lamina GFLOP/s':>14s} | {'% peak':>6s} "
                  f"| {'PyTorch GFLOP/s':>15s} |")
        print("Median seconds per epoch over the runs' epochs; GFLOP: the products of one "
              "training epoch (60,000 samples)")
        print(header)
        print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
        for label, _, _, _, flops in cases:
            lamina_s = statistics.median(times[label, threads, "lamina"])
            torch_s = statistics.median(times[label, threads, "PyTorch"])
            gflop = flops * TRAIN_SAMPLES / 1e9
            share = f"{100 * gflop / lamina_s / peak:6.1f}" if peak else f"{'?':>6s}"
            print(f"| {label:30s} | {lamina_s:8.2f} | {torch_s:9.2f} | {lamina_s / torch_s:5.2f} "
                  f"| {gflop:6.0f} | {gflop / lamina_s:14.1f} | {share} "
                  f"| {gflop / torch_s:15.1f} |")
            summary.append({"case": label, "threads": threads, "lamina_s": lamina_s,
                            "pytorch_s": torch_s, "gflop": gflop, "peak_gflops": peak,
                            "lamina_epochs": times[label, threads, "lamina"],
                            "pytorch_epochs": times[label, threads, "PyTorch"]})
    return summary


def run_lamina(binary, names, min_time, threads):
    """Runs the benchmarks `names` of `binary` once; returns ({name: (wall ms, cpu ms)}, context).

    OMP_NUM_THREADS is how an OpenMP build of Eigen would be told the thread count; a build
    without OpenMP runs on one thread whatever it says (the context reports which)."""
    pattern = "^(" + "|".join(re.escape(n) for n in names) + ")$"
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([binary, f"--benchmark_filter={pattern}", "--benchmark_format=json",
                          f"--benchmark_min_time={min_time}"],
                         check=True, capture_output=True, text=True, env=env).stdout
    report = json.loads(out)
    times = {}
    for b in report["benchmarks"]:
        scale = UNIT_TO_MS[b["time_unit"]]
        times[b["name"]] = (b["real_time"] * scale, b["cpu_time"] * scale)
    missing = set(names) - set(times)
    if missing:
        sys.exit(f"compare_pytorch: {binary} has no benchmark named {sorted(missing)}")
    return times, report["context"]


def time_torch(step, min_time):
    """Wall and process CPU milliseconds per call of step(), Google Benchmark style: after two
    warm-up calls, calls it until min_time seconds of wall time have passed."""
    step()
    step()
    n = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while True:
        step()
        n += 1
        wall = time.perf_counter() - wall0
        if wall >= min_time:
            break
    return wall / n * 1e3, (time.process_time() - cpu0) / n * 1e3


def blas_libraries():
    """The BLAS / LAPACK / oneDNN shared objects mapped into this process (after a GEMM ran),
    with symlinks (Debian's alternatives) resolved."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if re.search(r"blas|lapack|mkl|dnnl|gomp", os.path.basename(path)):
                found.add(f"{path} -> {os.path.realpath(path)}"
                          if os.path.realpath(path) != path else path)
    return sorted(found)


def print_environment(threads):
    torch.set_num_threads(threads[0])
    print(f"PyTorch {torch.__version__} on {sys.executable} (Python {sys.version.split()[0]}), "
          f"threads {','.join(map(str, threads))}; torch's parallel_info() at "
          f"set_num_threads({threads[0]}):")
    keep = ("at::get_num_threads", "at::get_num_interop_threads", "OpenMP", "omp_get_max_threads",
            "MKL", "MKL-DNN", "ATen parallel backend", "hardware_concurrency")
    for line in torch.__config__.parallel_info().splitlines():
        if line.strip().startswith(keep):
            print("  " + line.strip())
    blas = re.search(r"BLAS_INFO=([^,]*)", torch.__config__.show())
    print(f"  BLAS_INFO (build) = {blas.group(1) if blas else '?'}; mkldnn enabled: "
          f"{torch.backends.mkldnn.is_available()}; libraries mapped:")
    for lib in blas_libraries():
        print("    " + lib)


def max_rss_kb(time_v_stderr):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_v_stderr)
    return int(m.group(1)) if m else None


def timed_run(side, cmd):
    """Runs cmd under /usr/bin/time -v; returns (completed process, wall seconds), or None after
    printing why it failed."""
    cmd = ["/usr/bin/time", "-v"] + cmd
    print(f"  {side + ':':8s} " + " ".join(cmd))
    t0 = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if run.returncode != 0:
        print(f"    failed ({run.returncode}):\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
        return None
    return run, wall


def rss_comparison(args):
    """Peak RSS (and wall time) of one CNN training epoch on Fashion-MNIST, both sides."""
    threads = args.rss_threads or args.threads[0]
    print(f"\nPeak RSS of {args.rss_epochs} training epoch(s) of the tutorial CNN (batch 32, "
          f"then the test set evaluated at batch 256) on {args.data}, {threads} thread(s):")
    results = {}
    cnn = args.cnn or os.path.join(args.build_dir, os.pardir, "examples", "cnn")
    if os.path.exists(cnn):
        with tempfile.TemporaryDirectory() as out_dir:
            done = timed_run("lamina", [cnn, "--epochs", str(args.rss_epochs), "--batch-size",
                                        "32", "--threads", str(threads), "--data", args.data,
                                        "--out", out_dir])
        if done:
            run, wall = done
            results["lamina"] = (max_rss_kb(run.stderr), wall)
            for line in run.stdout.splitlines():
                if line.startswith(("Epoch", "Test")) or "/step" in line:
                    print("    " + line.strip().split("\r")[-1])
    else:
        print(f"  lamina:  no cnn example at {cnn} (build it, or pass --cnn PATH); skipped")
    done = timed_run("PyTorch", [sys.executable, os.path.join(HERE, "pytorch_models.py"),
                                 "epoch", "--epochs", str(args.rss_epochs), "--threads",
                                 str(threads), "--data", args.data])
    if done:
        run, wall = done
        for line in run.stdout.splitlines():
            print("    " + line)
        m = re.search(r"ru_maxrss_kb (\d+)", run.stdout)
        results["PyTorch"] = (int(m.group(1)) if m else max_rss_kb(run.stderr), wall)
    for side, (kb, wall) in results.items():
        print(f"  {side:8s} peak RSS {kb / 1024:8.1f} MiB   whole run {wall:7.1f} s wall")
    if len(results) == 2:
        print(f"  ratio lamina / PyTorch peak RSS: "
              f"{results['lamina'][0] / results['PyTorch'][0]:.2f}")


def fmt_ms(ms):
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.1f}"


def thread_counts(text):
    counts = [int(t) for t in text.split(",")]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected positive thread counts, got {text!r}")
    return counts


def print_table(cases, lamina_runs, torch_runs, eigen_runs, threads, context):
    openmp = context.get("lamina_openmp", "?")
    eigen_threads = context.get("lamina_eigen_threads", "?")
    print(f"\n== {threads} thread(s) ==")
    print(f"lamina: Eigen threads {eigen_threads}, OpenMP {openmp}"
          + ("" if openmp == "yes" else
             f" -> lamina runs SINGLE-THREADED (OMP_NUM_THREADS={threads} has no effect on it)")
          + f"; PyTorch: torch.set_num_threads({threads})")
    med = statistics.median
    header = (f"| {'case':34s} | {'lamina ms':>10s} | {'PyTorch ms':>10s} "
              f"| {'lamina/PyTorch':>14s} | {'lamina CPU ms':>13s} | {'PyTorch CPU ms':>14s} |")
    print("Median over the repetitions of the wall-clock time per call (CPU: lamina's main "
          "thread, PyTorch's whole process)")
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    summary = []
    for label, _, name, case in cases:
        lr, tr = lamina_runs[name, threads], torch_runs[case, threads]
        lw, lc = med(r[0] for r in lr), med(r[1] for r in lr)
        tw, tc = med(r[0] for r in tr), med(r[1] for r in tr)
        summary.append({"case": label, "threads": threads, "lamina_ms": lw, "pytorch_ms": tw,
                        "lamina_cpu_ms": lc, "pytorch_cpu_ms": tc, "lamina_runs": lr,
                        "pytorch_runs": tr})
        print(f"| {label:34s} | {fmt_ms(lw):>10s} | {fmt_ms(tw):>10s} | {lw / tw:14.2f} "
              f"| {fmt_ms(lc):>13s} | {fmt_ms(tc):>14s} |")
    pairs = [p for p in EIGEN_PAIRS if (p[2], threads) in eigen_runs]
    if pairs:
        print("lamina's Dense against raw Eigen GEMMs of the same FLOPs (median wall ms, same "
              "process, right after each other)")
        for label, name, eigen in pairs:
            lw = med(r[0] for r in lamina_runs[name, threads])
            ew = med(r[0] for r in eigen_runs[eigen, threads])
            print(f"  {label:28s} lamina {fmt_ms(lw):>8s}  Eigen {fmt_ms(ew):>8s}  "
                  f"ratio {lw / ew:.2f}")
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default="build/release/benchmarks",
                        help="directory of layers_bench and training_bench")
    parser.add_argument("--threads", type=thread_counts, default=[2],
                        help="threads for both sides (torch.set_num_threads; OMP_NUM_THREADS "
                             "for lamina, which only an OpenMP build honours); a comma-separated "
                             "list such as 2,1 measures each count, interleaved (default 2)")
    parser.add_argument("--repetitions", type=int, default=5,
                        help="interleaved measurements of each case per side; medians reported")
    parser.add_argument("--min-time", type=float, default=0.5,
                        help="seconds each measurement runs (Google Benchmark's min_time)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2 repetitions of 0.1 s, no RSS run")
    parser.add_argument("--only", default="", help="regex: run only the cases whose label matches")
    parser.add_argument("--skip-rss", action="store_true", help="skip the peak-RSS epochs")
    parser.add_argument("--rss-epochs", type=int, default=1)
    parser.add_argument("--rss-threads", type=int, default=0,
                        help="threads of the RSS epochs (default: the first of --threads)")
    parser.add_argument("--cnn", default="",
                        help="lamina's cnn example (default: BUILD_DIR/../examples/cnn)")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                        help="Fashion-MNIST IDX files for the RSS epochs")
    parser.add_argument("--json", default="", help="also write all measurements to this file")
    parser.add_argument("--whole-epochs", action="store_true",
                        help="compare whole Fashion-MNIST training epochs of each tutorial model "
                             "(the examples against pytorch_models.py epoch) instead of steps")
    parser.add_argument("--epoch-runs", type=int, default=3,
                        help="interleaved runs of each side per model (--whole-epochs)")
    parser.add_argument("--epochs-per-run", type=int, default=1,
                        help="epochs of each run (--whole-epochs); medians over all of them")
    args = parser.parse_args()
    if args.quick:
        args.repetitions, args.min_time, args.skip_rss = 2, 0.1, True

    print_environment(args.threads)
    if args.whole_epochs:
        summary = epoch_comparison(args)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"threads": args.threads, "epochs": summary}, f, indent=1)
        return
    cases = [c for c in CASES if re.search(args.only, c[0])]
    binaries = {}
    for _, binary, _, _ in cases:
        path = os.path.join(args.build_dir, binary)
        if not os.access(path, os.X_OK):
            sys.exit(f"compare_pytorch: {path} not found; build the benchmarks (Release) first")
        binaries[binary] = path
    steps = {case: pytorch_models.make_case(case) for _, _, _, case in cases}
    with open("/proc/loadavg") as f:
        print(f"Load average before: {' '.join(f.read().split()[:3])}; {args.repetitions} "
              f"repetitions of {args.min_time} s per case, side and thread count")

    lamina_runs, torch_runs, eigen_runs, contexts = {}, {}, {}, {}
    started = time.perf_counter()
    for rep in range(args.repetitions):
        for label, binary, name, case in cases:
            # The raw Eigen twins of Dense run in the same lamina process, right after it.
            extra = [e for (_, n, e) in EIGEN_PAIRS if n == name]
            for threads in args.threads:
                times, contexts[threads] = run_lamina(binaries[binary], [name] + extra,
                                                      args.min_time, threads)
                lamina_runs.setdefault((name, threads), []).append(times[name])
                for e in extra:
                    eigen_runs.setdefault((e, threads), []).append(times[e])
                torch.set_num_threads(threads)
                torch_runs.setdefault((case, threads), []).append(
                    time_torch(steps[case], args.min_time))
        print(f"  repetition {rep + 1}/{args.repetitions} done "
              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    with open("/proc/loadavg") as f:
        print(f"Load average after: {' '.join(f.read().split()[:3])}")
    context = next(iter(contexts.values()))
    print(f"lamina benchmarks: {context.get('host_name', '?')}, {context.get('num_cpus', '?')} "
          f"CPUs at {context.get('mhz_per_cpu', '?')} MHz, library build type "
          f"{context.get('library_build_type', '?')} (Google Benchmark's own)")

    summary = []
    for threads in args.threads:
        summary += print_table(cases, lamina_runs, torch_runs, eigen_runs, threads,
                               contexts[threads])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "lamina_context": contexts, "cases": summary,
                       "eigen": {f"{k[0]}@{k[1]}": v for k, v in eigen_runs.items()}},
                      f, indent=1)
    if not args.skip_rss:
        rss_comparison(args)


if __name__ == "__main__":
    main()
