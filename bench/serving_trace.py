"""Where an exported model's time goes: per-op CPU time of one serving call, as TF Serving runs it.

Loads the SavedModel with the TF1 loader and runs ``serving_default`` with
``Session.run`` (what TF Serving's C++ server does), traced with
``RunOptions.FULL_TRACE``, and prints the session's p50 latency, the summed
op time of one call and the ops that take most of it, for one sentence and
for a batch of 64 sentences of 20 tokens (random words of the vocabulary).
The summed op time over the machine's cores is a floor for the call's
latency, which bounds the batch-64 / one-sentence throughput ratio.

    python bench/serving_trace.py --saved_model=exports/quickstart/1
"""

from __future__ import annotations

import argparse
import collections
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""  # CPU only.

import numpy as np  # noqa: E402

TOKENS = 20


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saved_model", required=True, help="an exported version folder")
    parser.add_argument("--batches", default="1,64", help="batch sizes")
    parser.add_argument("--repeats", type=int, default=100, help="timed calls per batch size")
    parser.add_argument("--traces", type=int, default=20, help="traced calls per batch size")
    parser.add_argument("--top", type=int, default=12, help="ops listed")
    args = parser.parse_args(argv)

    import tensorflow as tf
    import tensorflow_text  # noqa: F401 (exports may use its ops)

    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph)
    with graph.as_default():
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], args.saved_model)
    signature = meta_graph.signature_def["serving_default"]
    fetches = {key: tensor.name for key, tensor in signature.outputs.items()}
    with open(os.path.join(args.saved_model, "assets", "words.txt"), encoding="utf-8") as f:
        words = [w for w in f.read().split("\n")[2:] if w][:500]
    rng = np.random.default_rng(0)
    cores = os.cpu_count() or 1
    for batch in (int(b) for b in args.batches.split(",")):
        texts = np.array([" ".join(rng.choice(words, TOKENS)) for _ in range(batch)], object)
        feeds = {signature.inputs["text"].name: texts}
        for _ in range(10):
            session.run(fetches, feeds)
        wall = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            session.run(fetches, feeds)
            wall.append(time.perf_counter() - start)
        options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
        per_op: collections.Counter = collections.Counter()
        for _ in range(args.traces):
            metadata = tf.compat.v1.RunMetadata()
            session.run(fetches, feeds, options=options, run_metadata=metadata)
            for device in metadata.step_stats.dev_stats:
                for node in device.node_stats:
                    kind = node.timeline_label.split(" = ")[-1].split("(")[0]
                    name = node.node_name.split(":")[0].rsplit("/", 3)[-3:]
                    per_op[f"{'/'.join(name)} [{kind}]"] += node.all_end_rel_micros
        total = sum(per_op.values()) / args.traces / 1000
        p50 = float(np.median(wall)) * 1000
        print(f"batch {batch}: Session.run p50 {p50:.2f} ms; op time per call {total:.2f} ms "
              f"(floor on {cores} cores: {total / cores:.2f} ms)")
        for name, micros in per_op.most_common(args.top):
            print(f"  {micros / args.traces / 1000:7.3f} ms  {name}")


if __name__ == "__main__":
    main()
