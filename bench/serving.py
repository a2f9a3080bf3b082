"""Benchmark: serving an exported model on CPU, against the Keras model in memory.

Workload: the exported model loaded with ``tf.saved_model.load`` and called
through its ``serving_default`` signature (raw text in: in-graph tokenization,
vocabulary lookups, the model, every task's labels and probabilities out), for

  * one sentence of 20 tokens: p50 and p99 latency;
  * batches of 64 sentences of 20 tokens: sentences per second;

and the same for the trained Keras model in memory (the training build; the
training featurizer's TokenEncoder, the one the export runs too, and the model
under one ``tf.function``; argmax and softmax per task). Both run on the CPU
(GPUs hidden). The two are measured in interleaved rounds, since the machine
may be shared, and the table gives medians over all rounds.

Usage:
  python -m tfmtl.cli.train --config=configs/quickstart.py --workdir=/tmp/qs
  python bench/serving.py --workdir=/tmp/qs [--saved_model=DIR] [--threads=N]
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""  # CPU only.

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TOKENS = 20
BATCH = 64


def sentences(experiment, count: int) -> list[list[str]]:
    """`count` sentences of exactly TOKENS tokens from the dev data (sentences concatenated)."""
    stream = [t for task in experiment.tasks for s in experiment.sentences(task.name, "dev")
              for t in s.tokens]
    if len(stream) < count * TOKENS:
        stream = stream * (count * TOKENS // max(len(stream), 1) + 1)
    return [stream[i * TOKENS:(i + 1) * TOKENS] for i in range(count)]


def exported_runner(path: str):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 (for exports made with --tokenizer_ops=tensorflow_text)

    function = tf.saved_model.load(path).signatures["serving_default"]

    def run(texts):
        return function(text=tf.constant(texts))

    return run


def keras_runner(workdir: str):
    """The trained Keras model in memory, as training evaluates it, on token lists."""
    import tensorflow as tf

    from tfmtl.experiment import Experiment, restore_model

    experiment = Experiment.restore(workdir)
    model = experiment.build_model()
    restore_model(workdir, model.model, "best")
    featurizer = experiment.featurizer
    tasks = experiment.tasks
    tokens_spec = tf.RaggedTensorSpec([None, None], tf.string, ragged_rank=1)

    @tf.function(input_signature=[tokens_spec])
    def predict(tokens):
        outputs = model.model(featurizer.encoder(tokens), training=False)
        return {t.name: (t.predict(outputs[t.name]), tf.nn.softmax(outputs[t.name]["logits"]))
                for t in tasks}

    def run(batch: list[list[str]]):
        return predict(tf.ragged.constant(batch, dtype=tf.string))

    return experiment, run


def measure(function, argument, repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds of each of `repeats` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        function(argument)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="a trained workdir (the quickstart's)")
    parser.add_argument("--saved_model", help="its export (default: exported to a temp folder)")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow intra- and inter-op threads (0: TensorFlow's default)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=100, help="calls per round")
    args = parser.parse_args(argv)

    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    path = args.saved_model
    if path is None:
        from tfmtl.export.exporter import export_saved_model

        base = tempfile.mkdtemp(prefix="tfmtl-bench-")
        path = export_saved_model(args.workdir, base, "bench").path
    experiment, keras_run = keras_runner(args.workdir)
    export_run = exported_runner(path)
    batch = sentences(experiment, BATCH)
    single = batch[:1]
    texts = [" ".join(tokens) for tokens in batch]
    cases = {
        ("export", 1): (export_run, texts[:1]),
        ("export", BATCH): (export_run, texts),
        ("keras", 1): (keras_run, single),
        ("keras", BATCH): (keras_run, batch),
    }
    for function, argument in cases.values():  # Warm up: tracing, lookups, allocations.
        measure(function, argument, 10)
    times = {key: [] for key in cases}
    cpu_times = {key: [] for key in cases}
    for _ in range(args.rounds):
        for key, (function, argument) in cases.items():
            repeats = args.repeats if key[1] == 1 else max(args.repeats // 5, 5)
            wall, cpu = measure(function, argument, repeats)
            times[key] += wall
            cpu_times[key] += cpu

    load = os.getloadavg()
    print(f"serving benchmark: {os.cpu_count()} CPUs, threads "
          f"{args.threads or 'default'}, load average {load[0]:.1f}; "
          f"sentences of {TOKENS} tokens; {args.rounds} rounds")
    print(f"model: {os.path.abspath(args.workdir)}; export: {path}")
    print("wall-clock medians (p99 for one sentence); CPU: process CPU time per call, which "
          "other processes on the machine do not inflate")
    header = (f"{'':8} {'1 sentence p50 ms':>18} {'p99 ms':>8} {'CPU ms':>7} {'sent/s (1)':>11} "
              f"{'batch-64 p50 ms':>16} {'CPU ms':>7} {'sent/s (64)':>12} {'64 vs 1':>8}")
    print(header)
    results = {}
    for name in ("export", "keras"):
        one = np.array(times[(name, 1)]) * 1000
        many = np.array(times[(name, BATCH)]) * 1000
        p50, p99 = np.percentile(one, 50), np.percentile(one, 99)
        batch_p50 = np.percentile(many, 50)
        cpu_one = np.percentile(np.array(cpu_times[(name, 1)]) * 1000, 50)
        cpu_many = np.percentile(np.array(cpu_times[(name, BATCH)]) * 1000, 50)
        rate_one, rate_many = 1000 / p50, BATCH * 1000 / batch_p50
        results[name] = (p50, rate_many / rate_one)
        print(f"{name:8} {p50:18.2f} {p99:8.2f} {cpu_one:7.2f} {rate_one:11.0f} "
              f"{batch_p50:16.2f} {cpu_many:7.2f} {rate_many:12.0f} {rate_many / rate_one:7.1f}x")
    p50, ratio = results["export"]
    print(f"bars: export 1-sentence p50 {p50:.2f} ms (< 5 ms: "
          f"{'met' if p50 < 5 else 'NOT met'}); batch-64 throughput {ratio:.1f}x one-sentence "
          f"(>= 20x: {'met' if ratio >= 20 else 'NOT met'})")
    command = ["python", "bench/serving.py", f"--workdir={args.workdir}",
               f"--rounds={args.rounds}", f"--repeats={args.repeats}"]
    if args.saved_model:
        command.append(f"--saved_model={args.saved_model}")
    if args.threads:
        command.append(f"--threads={args.threads}")
    print("reproduce: " + shlex.join(command))


if __name__ == "__main__":
    main()
