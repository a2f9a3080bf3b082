r"""Golden training trajectories: per-step losses of one tree, and a comparison of two.

A refactor that must keep numerics identical is checked by training the same
configs for the same steps with the old and the new code on the same machine
and comparing every logged per-step loss (within 1e-5 relative):

    python bench/golden_trajectory.py --tree=/tmp/golden_old --label=a014ca9 \
        [--configs=quickstart,conll2000] [--steps=300] [--out_dir=runs/golden]
    python bench/golden_trajectory.py --tree=. --label=new
    python bench/golden_trajectory.py --compare a014ca9 new [--out_dir=runs/golden]

Each training is `python -m tfmtl.cli.train` in a subprocess run in the tree
(cwd and PYTHONPATH set to --tree, so that tree's own tfmtl package and config
files are used) with `--config.training.log_every=1`: the trainer then writes
the TensorBoard scalar `<task>/loss` at every step (for the tasks trained at
that step), which is read back from the event files. Evaluation and
checkpoints happen only at the last step. The tree needs the built native ops
in tfmtl/ops/; when it lacks them they are copied from this checkout's (a
message says so), and the run refuses to start if the tree's tfmtl would not
be the one imported or its native ops would not load (the silent fallback to
stock TensorFlow would change the numerics).

Writes `out_dir/LABEL/CONFIG.json` with the losses ({task: {step: loss}}), the
tree's commit, the CPU and the command; the training workdir stays beside it
under `out_dir/LABEL/workdirs/`. A config whose json exists is not rerun, so
an interrupted recording resumes where it stopped. `--compare OLD NEW` prints,
per config and task, the largest relative difference |new - old| / |old| and
exits 1 when one exceeds --rtol or when the (task, step) pairs differ.
"""

import glob
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time

from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENVIRON = dict(os.environ)  # The trainings' environment, before this process changes its own.
CONFIGS = {  # Name: config file relative to the tree.
    "quickstart": "configs/quickstart.py",
    "conll2000": "configs/conll2000_pos_chunk.py",
}

_TREE = flags.DEFINE_string("tree", None, "Checkout of the repository whose code is trained.")
_LABEL = flags.DEFINE_string("label", None, "Name of the recording (folder under --out_dir).")
_CONFIGS = flags.DEFINE_list("configs", list(CONFIGS), f"Configs: {', '.join(CONFIGS)}.")
_STEPS = flags.DEFINE_integer("steps", 300, "Training steps per config.")
_OUT_DIR = flags.DEFINE_string("out_dir", "runs/golden", "Folder for the recordings.")
_CONLL2000 = flags.DEFINE_string("conll2000_dir", "/work/shared/data/conll2000",
                                 "CoNLL-2000 folder (train.txt, test.txt).")
_COMPARE = flags.DEFINE_bool("compare", False, "Compare two recordings: --compare OLD NEW.")
_RTOL = flags.DEFINE_float("rtol", 1e-5, "Largest relative difference accepted by --compare.")


def cpu_info() -> dict:
    model, isa = platform.processor() or "unknown", []
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    isa = sorted(x for x in value.split()
                                 if x in ("avx2", "fma", "avx512f", "avx512bw", "avx512_bf16"))
                    break
    except OSError:
        pass
    return {"model": model, "isa": isa, "cpus": os.cpu_count()}


def ensure_native_ops(tree: str) -> list[str]:
    """Copies this checkout's built .so files into a tree that lacks them; returns the copied."""
    copied = []
    for source in sorted(glob.glob(os.path.join(REPO, "tfmtl", "ops", "*.so"))):
        target = os.path.join(tree, "tfmtl", "ops", os.path.basename(source))
        if os.path.abspath(source) != os.path.abspath(target) and not os.path.exists(target):
            shutil.copy2(source, target)
            copied.append(os.path.basename(source))
    if copied:
        print(f"{tree} lacked the built native ops: copied {', '.join(copied)} from "
              f"{os.path.join(REPO, 'tfmtl', 'ops')}", flush=True)
    return copied


def native_ops_digests(tree: str) -> dict:
    digests = {}
    for path in sorted(glob.glob(os.path.join(tree, "tfmtl", "ops", "*.so"))):
        with open(path, "rb") as f:
            digests[os.path.basename(path)] = hashlib.sha256(f.read()).hexdigest()[:16]
    return digests


def check_tree(tree: str, env: dict) -> None:
    """Fails unless the tree's own tfmtl is imported there and its native ops load."""
    probe = ("import tfmtl, tfmtl.ops.loader as l; "
             "print(tfmtl.__file__); print(l.load_library() is not None)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tree, env=env, check=True,
                            capture_output=True, text=True)
    path, loaded = result.stdout.split()[-2:]
    if not os.path.abspath(path).startswith(os.path.join(tree, "")):
        raise SystemExit(f"the subprocess imports tfmtl from {path}, not from {tree}")
    if loaded != "True":
        raise SystemExit(f"the native ops of {tree} do not load:\n{result.stderr[-2000:]}")


def read_losses(tensorboard_dir: str) -> dict:
    """{task: {step: loss}} from the `<task>/loss` scalars of the event files."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # This process only reads files.
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    losses, seen = {}, set()
    for path in sorted(glob.glob(os.path.join(tensorboard_dir, "events.out.tfevents.*"))):
        for data in tf.data.TFRecordDataset(path):
            event = event_pb2.Event.FromString(data.numpy())
            for value in event.summary.value:
                if not value.tag.endswith("/loss"):
                    continue
                if value.HasField("tensor"):
                    loss = float(tf.make_ndarray(value.tensor))
                else:
                    loss = float(value.simple_value)
                task, step = value.tag[:-len("/loss")], int(event.step)
                if (task, step) in seen:
                    raise SystemExit(f"{tensorboard_dir}: two losses for {task} at step {step}")
                seen.add((task, step))
                losses.setdefault(task, {})[str(step)] = loss
    return {task: dict(sorted(steps.items(), key=lambda kv: int(kv[0])))
            for task, steps in sorted(losses.items())}


def record(name: str, tree: str, label_dir: str, copied_ops: list[str]) -> None:
    out_path = os.path.join(label_dir, f"{name}.json")
    if os.path.exists(out_path):
        print(f"{name}: {out_path} exists, not rerun", flush=True)
        return
    overrides = [f"--config.training.steps={_STEPS.value}", "--config.training.log_every=1",
                 f"--config.training.eval_every={_STEPS.value}",
                 f"--config.training.checkpoint_every={_STEPS.value}"]
    if name == "conll2000":
        data_dir = os.path.abspath(_CONLL2000.value)
        if not os.path.exists(os.path.join(data_dir, "train.txt")):
            print(f"{name}: SKIPPED, no CoNLL-2000 data in {data_dir} (--conll2000_dir)",
                  flush=True)
            return
        overrides.append(f"--config.data_dir={data_dir}")
    workdir = os.path.join(label_dir, "workdirs", name)
    if os.path.exists(workdir):  # An interrupted run: start afresh, not from its checkpoints.
        shutil.rmtree(workdir)
    os.makedirs(workdir)
    command = [sys.executable, "-m", "tfmtl.cli.train",
               f"--config={os.path.join(tree, CONFIGS[name])}", f"--workdir={workdir}",
               *overrides]
    env = dict(ENVIRON, PYTHONPATH=tree)
    print(f"{name}: (cd {tree} && PYTHONPATH={tree} {' '.join(command)})", flush=True)
    log_path = os.path.join(workdir, "train.log")
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        result = subprocess.run(command, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    wall = time.monotonic() - start
    if result.returncode:
        with open(log_path, encoding="utf-8") as log:
            print(log.read()[-4000:], file=sys.stderr)
        raise SystemExit(f"{name}: training failed (exit {result.returncode}); log: {log_path}")
    losses = read_losses(os.path.join(workdir, "tensorboard"))
    if not losses:
        raise SystemExit(f"{name}: no <task>/loss scalars under {workdir}/tensorboard")
    commit = subprocess.run(["git", "-C", tree, "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", tree, "status", "--porcelain", "--untracked-files=no"],
                           check=True, capture_output=True, text=True).stdout.strip()
    payload = {
        "config": name, "config_file": CONFIGS[name], "steps": _STEPS.value,
        "tree": tree, "commit": commit, "tracked_changes": bool(dirty),
        "cpu": cpu_info(), "python": sys.version.split()[0],
        "command": command, "cwd": tree, "env": {"PYTHONPATH": tree},
        "native_ops_sha256": native_ops_digests(tree), "native_ops_copied_now": copied_ops,
        "wall_s": round(wall, 1), "losses": losses,
    }
    tmp_path = out_path + ".tmp"
    with open(tmp_path, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")
    os.replace(tmp_path, out_path)
    counts = ", ".join(f"{task} {len(steps)}" for task, steps in losses.items())
    print(f"{name}: {wall:.0f} s; losses logged: {counts}; wrote {out_path}", flush=True)


def run_recording() -> None:
    if not _TREE.value or not _LABEL.value:
        raise app.UsageError("give --tree and --label (or --compare OLD NEW)")
    unknown = [c for c in _CONFIGS.value if c not in CONFIGS]
    if unknown:
        raise app.UsageError(f"unknown configs: {', '.join(unknown)}; use {', '.join(CONFIGS)}")
    tree = os.path.abspath(_TREE.value)
    copied = ensure_native_ops(tree)
    check_tree(tree, dict(ENVIRON, PYTHONPATH=tree))
    label_dir = os.path.abspath(os.path.join(_OUT_DIR.value, _LABEL.value))
    os.makedirs(label_dir, exist_ok=True)
    for name in _CONFIGS.value:  # One at a time: the trainings share the machine's cores.
        record(name, tree, label_dir, copied)


def load(label: str, name: str) -> dict | None:
    path = os.path.join(_OUT_DIR.value, label, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def compare(old_label: str, new_label: str) -> bool:
    """Prints the table; returns whether every config matches."""
    ok = True
    rows = []
    for name in CONFIGS:
        old, new = load(old_label, name), load(new_label, name)
        if old is None and new is None:
            continue
        if old is None or new is None:
            missing = old_label if old is None else new_label
            rows.append((name, "-", "0", "-", f"no {name}.json in {missing}"))
            ok = False
            continue
        if old["cpu"] != new["cpu"]:
            print(f"warning: {name}: recorded on different CPUs ({old['cpu']} vs {new['cpu']})")
        for task in sorted(set(old["losses"]) | set(new["losses"])):
            a, b = old["losses"].get(task, {}), new["losses"].get(task, {})
            common = sorted(set(a) & set(b), key=int)
            only = sorted(set(a) ^ set(b), key=int)
            worst, first_over = 0.0, None
            for step in common:
                diff = abs(b[step] - a[step]) / max(abs(a[step]), 1e-12)
                worst = max(worst, diff)
                if diff > _RTOL.value and first_over is None:
                    first_over = step
            note = first_over or "-"
            if only:
                note = (f"{note}; steps in one only: {len(only)} (first {only[0]})")
            ok &= first_over is None and not only
            rows.append((name, task, str(len(common)), f"{worst:.3g}", note))
    if not rows:
        raise SystemExit(f"no recordings under {_OUT_DIR.value}/{{{old_label},{new_label}}}")
    print(f"\n{old_label} -> {new_label} (relative tolerance {_RTOL.value:g})\n")
    print("| config | task | steps compared | max relative diff | first step over |")
    print("|---|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\nOK: trajectories match" if ok else "\nMISMATCH")
    return ok


def main(argv):
    if _COMPARE.value:
        if len(argv) != 3:
            raise app.UsageError("usage: --compare OLD NEW")
        sys.exit(0 if compare(argv[1], argv[2]) else 1)
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    run_recording()


if __name__ == "__main__":
    app.run(main)
