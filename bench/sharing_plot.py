r"""What a sluice (or cross-stitch) network learned to share: its alphas and betas, plotted.

    python bench/sharing_plot.py --workdir=WORKDIR --out=bench/results/sluice_tagging.png
    python bench/sharing_plot.py --bench=tagging --variant=sluice --seed=0 \
        [--runs_dir=runs/store] --out=bench/results/sluice_tagging.png

Reads the ``sharing/...`` scalars the run logged to TensorBoard (every
``log_every`` steps) and draws, per layer, the final alpha matrix (row: the
column, task and subspace, whose next input it makes; column: whose output it
mixes) as a heat map, each task's final betas (how much its head reads of each
layer) as bars, and every alpha's trajectory over training. Needs matplotlib
(``pip install matplotlib``).
"""

import os
import re
import sys

from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_WORKDIR = flags.DEFINE_string("workdir", "", "A trained run's workdir.")
_BENCH = flags.DEFINE_string("bench", "", "Or: a bench/sharing.py benchmark ...")
_VARIANT = flags.DEFINE_string("variant", "sluice", "... its variant ...")
_SEED = flags.DEFINE_integer("seed", 0, "... and seed (the run is found in the store).")
_RUNS_DIR = flags.DEFINE_string("runs_dir", os.path.join("runs", "store"), "The run store.")
_SPLIT_DIR = flags.DEFINE_string("split_dir", "runs/sentiment_split",
                                 "classification: the deduplicated split.")
_OUT = flags.DEFINE_string("out", "sluice.png", "The image to write.")


def sharing_scalars(workdir: str) -> dict[str, dict[int, float]]:
    """Every ``sharing/...`` TensorBoard scalar of a run: ``{tag: {step: value}}``."""
    import tensorflow as tf

    folder = os.path.join(workdir, "tensorboard")
    scalars: dict[str, dict[int, float]] = {}
    for name in sorted(os.listdir(folder)):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name)):
            for value in event.summary.value:
                if value.tag.startswith("sharing/"):
                    number = (value.simple_value if value.HasField("simple_value")
                              else float(tf.make_ndarray(value.tensor)))
                    scalars.setdefault(value.tag, {})[event.step] = number
    return scalars


def parse(scalars):
    """``(alphas, betas)``: per alpha layer ``{(row, column): {step: value}}``, per beta
    layer ``{index: {step: value}}``."""
    alphas, betas = {}, {}
    for tag, values in scalars.items():
        alpha = re.fullmatch(r"sharing/(.+_alpha_\d+)/(\d+)_(\d+)", tag)
        beta = re.fullmatch(r"sharing/(.+_beta)/(\d+)", tag)
        if alpha:
            alphas.setdefault(alpha.group(1), {})[(int(alpha.group(2)),
                                                   int(alpha.group(3)))] = values
        elif beta:
            betas.setdefault(beta.group(1), {})[int(beta.group(2))] = values
    return alphas, betas


def plot(workdir: str, out: str, labels=None) -> str:
    """Draws the run's alphas and betas into `out`; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    alphas, betas = parse(sharing_scalars(workdir))
    if not alphas:
        raise SystemExit(f"{workdir}: no sharing/..._alpha_ scalars (not a cross-stitch or "
                         "sluice run?)")
    layers = sorted(alphas, key=lambda name: int(name.rsplit("_", 1)[1]))
    columns = len(layers) + (1 if betas else 0) + 1
    figure, axes = plt.subplots(1, columns, figsize=(4.2 * columns, 4.0))
    size = 1 + max(max(r, c) for layer in layers for r, c in alphas[layer])
    ticks = labels if labels and len(labels) == size else [str(i) for i in range(size)]
    for ax, layer in zip(axes, layers, strict=False):
        matrix = np.zeros((size, size))
        for (r, c), values in alphas[layer].items():
            matrix[r, c] = values[max(values)]
        image = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=max(1.0, matrix.max()))
        for r in range(size):
            for c in range(size):
                ax.text(c, r, f"{matrix[r, c]:.2f}", ha="center", va="center",
                        color="white" if matrix[r, c] < 0.6 else "black", fontsize=8)
        ax.set_xticks(range(size), ticks, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(size), ticks, fontsize=8)
        ax.set_title(f"{layer} (final)")
        ax.set_xlabel("mixes the output of")
        ax.set_ylabel("into the input of")
        figure.colorbar(image, ax=ax, fraction=0.046)
    index = len(layers)
    if betas:
        ax = axes[index]
        names = sorted(betas)
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            entries = sorted(betas[name])
            finals = [betas[name][e][max(betas[name][e])] for e in entries]
            ax.bar(np.arange(len(entries)) + i * width, finals, width,
                   label=name.removesuffix("_beta"))
        ax.set_xticks(np.arange(max(len(b) for b in betas.values())) + 0.4 - width / 2,
                      [f"layer {i + 1}" for i in range(max(len(b) for b in betas.values()))])
        ax.set_title("betas (final): what each head reads")
        ax.legend(fontsize=8)
        index += 1
    ax = axes[index]
    for layer in layers:
        for (r, c), values in sorted(alphas[layer].items()):
            steps = sorted(values)
            ax.plot(steps, [values[s] for s in steps], lw=1,
                    ls="-" if r == c else "--", label=f"{layer} {r}<-{c}" if size <= 2 else None)
    ax.set_title("alphas over training (solid: diagonal)")
    ax.set_xlabel("step")
    if size <= 2:
        ax.legend(fontsize=7)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    figure.savefig(out, dpi=110)
    return out


def column_labels(workdir: str) -> list[str]:
    """The alpha rows' names: each task (config order of the columns), times its subspaces."""
    import json

    with open(os.path.join(workdir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    tasks = list(config["tasks"])
    sharing = config["model"]["sharing"]
    subspaces = config["model"]["schemes"].get(sharing, {}).get("subspaces", 1)
    return [f"{t}/{s}" if subspaces > 1 else t for t in tasks for s in range(subspaces)]


def main(argv):
    del argv
    workdir = _WORKDIR.value
    if not workdir:
        if not _BENCH.value:
            sys.exit("sharing_plot.py: give --workdir, or --bench with --variant and --seed")
        sys.path.insert(0, os.path.join(REPO, "bench"))
        import sharing

        from tfmtl.runs import RunStore

        data_dir = sharing.BENCHMARKS[_BENCH.value][2] or os.path.abspath(_SPLIT_DIR.value)
        sweep = sharing.build_sweep(_BENCH.value, [_SEED.value], [_VARIANT.value], data_dir)
        workdir = RunStore(_RUNS_DIR.value).workdir(sweep.runs[0].run.identity.id)
    print(plot(workdir, _OUT.value, column_labels(workdir)))


if __name__ == "__main__":
    app.run(main)
