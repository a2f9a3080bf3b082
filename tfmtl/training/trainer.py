"""The multi-task training loop."""

from __future__ import annotations

import json
import os
import time

import keras
import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from tfmtl import config as config_lib
from tfmtl.config import ConfigError
from tfmtl.data.pipeline import default_bucket_boundaries, make_dataset
from tfmtl.experiment import CHECKPOINT_DIR, CONFIG_FILE, VOCAB_DIR, Experiment, from_json
from tfmtl.files import atomic_write_text, content_of, file_sha256, value_files
from tfmtl.training.callbacks import Run, make_callbacks
from tfmtl.training.callbacks.gradient_reversal import check_schedules
from tfmtl.training.callbacks.summaries import message
from tfmtl.training.checkpoints import Checkpoints, RunState
from tfmtl.training.distribute import make_strategy, sync_workers, worker_index
from tfmtl.training.evaluation import Evaluator, format_metrics
from tfmtl.training.optimizers import build_optimizer
from tfmtl.training.samplers import make_sampler
from tfmtl.training.steps import make_all_step, make_sampled_step
from tfmtl.training.validation import check_training, validate
from tfmtl.training.weightings import make_weighting

METRICS_FILE = "metrics.json"
COMMAND_FILE = "command.txt"
DATA_HASHES_FILE = "data_sha256.json"
TENSORBOARD_DIR = "tensorboard"

# Keys a resumed run may change: how long and how often, not what is trained.
_RESUMABLE_CHANGES = ("training.steps", "training.eval_every", "training.log_every",
                      "training.checkpoint_every", "training.keep_checkpoints",
                      "training.patience", "training.eval_batch_size")


def _data_files(flat: dict) -> list[str]:
    """Every data file a resolved config names (validation made the paths absolute)."""
    return sorted({path for key, value in flat.items() if key != "data_dir"
                   for path in value_files(value)})


_MISSING = object()


def check_resume(config: ml_collections.ConfigDict, workdir: str) -> bool:
    """True when `workdir` holds an earlier run of this config (to resume).

    Data files are compared by content: the SHA-256 of every data file is recorded in the
    workdir (``data_sha256.json``) when a run starts, so a file at another path with the
    same bytes (the corpus moved, or a run store's run resumes on another machine) is the
    same config, and a file edited in place is not; ``data_dir`` itself is not compared (the
    paths it resolved are). A key the earlier run's config lacks (a later tfmtl added it)
    holding its default is the same config too.

    Raises:
        ConfigError: when it holds a run of a different config.
    """
    from tfmtl.training.validation import config_defaults

    path = os.path.join(workdir, CONFIG_FILE)
    if not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as f:
        written = json.load(f)
    try:  # The earlier config as this tfmtl resolves it (a key a sampler no longer reads
        # at its default dropped, say); as written if it no longer validates.
        written = validate(from_json(json.dumps(written)), check_files=False).to_dict()
    except ConfigError:
        pass
    previous = json.loads(json.dumps(config_lib.flatten(written)))
    current = json.loads(json.dumps(config_lib.flatten(config.to_dict())))
    hashes = os.path.join(workdir, DATA_HASHES_FILE)
    recorded = {}
    if os.path.exists(hashes):
        with open(hashes, encoding="utf-8") as f:
            recorded = json.load(f)
    defaults = config_defaults(current)
    changed = []
    for key in sorted(previous.keys() | current.keys()):
        if key in _RESUMABLE_CHANGES or key == "data_dir":
            continue
        before, now = previous.get(key, _MISSING), current.get(key, _MISSING)
        if before is _MISSING and key in defaults and now == defaults[key]:
            continue  # Added by a later tfmtl, at its default.
        if _MISSING in (before, now) or content_of(before, recorded) != content_of(now):
            changed.append(key)
    if changed:
        raise ConfigError(
            f"config.{changed[0]}",
            f"{workdir} holds a run with a different config (differs in: {', '.join(changed)}); "
            "use a new --workdir, or the same config to resume",
        )
    return True


def _write_run_files(config: ml_collections.ConfigDict, workdir: str, command: str) -> None:
    atomic_write_text(os.path.join(workdir, CONFIG_FILE), config_lib.to_json(config))
    files = _data_files(config_lib.flatten(config.to_dict()))
    atomic_write_text(os.path.join(workdir, DATA_HASHES_FILE), json.dumps(
        {path: file_sha256(path) for path in files}, indent=1) + "\n")
    history = ""
    path = os.path.join(workdir, COMMAND_FILE)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            history = f.read()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    atomic_write_text(path, f"{history}# {stamp}\n{command}\n")


def _train_dataset(experiment: Experiment, group: tuple[str, ...], index: int,
                   skip: int) -> tf.data.Dataset:
    t = experiment.config.training
    examples = experiment.train_examples(group)
    boundaries = None
    if t.buckets:
        boundaries = default_bucket_boundaries([len(e["words"]) for e in examples], t.buckets)
    dataset = make_dataset(
        examples, batch_size=t.batch_size, shuffle=True,
        seed=experiment.config.seed * 1009 + index, repeat=True, bucket_boundaries=boundaries,
    )
    return dataset.skip(skip)


def _group_sampler(experiment: Experiment, groups: list[tuple[str, ...]], reference: str):
    """The sampler over groups: a group weighs its largest mixing ratio and its size."""
    entries, sizes, reference_group = {}, {}, None
    for group in groups:
        name = "+".join(group)
        tasks = [experiment.task_by_name[task] for task in group]
        # Tasks that accompany another train in its batches: their ratio does not count.
        leaders = [task for task in tasks if task.accompanies is None] or tasks
        entries[name] = ml_collections.ConfigDict(
            {"mixing_ratio": max(task.config.mixing_ratio for task in leaders)}
        )
        sizes[name] = len(experiment.sentences(group[0], "train"))
        if reference in group:
            reference_group = name
    t = experiment.config.training
    return make_sampler(t.sampler, entries, sizes, reference_group, experiment.config.seed)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                       command: str = "") -> dict:
    """Trains the multi-task model `config` describes and evaluates its best checkpoint.

    Resumes from the newest checkpoint in `workdir` when there is one, so a
    killed run restarted with the same command continues where it stopped.

    Args:
        config: a resolved config (see :func:`tfmtl.training.validate`).
        workdir: folder for checkpoints, vocabularies, logs and metrics.
        command: the command line, recorded in the workdir.

    Returns:
        The final metrics: ``{"dev": {task: scores}, "test": {...}, ...}``.
    """
    check_training(config)
    workdir = os.path.abspath(workdir)
    resuming = check_resume(config, workdir)
    strategy = make_strategy(config.distribute)
    # Only the chief writes the workdir, and only once every worker has looked into it:
    # a worker still starting up would otherwise see a half-written run and "resume" it.
    sync_workers(strategy)
    chief = strategy.extended.should_checkpoint
    if chief:
        os.makedirs(workdir, exist_ok=True)
        _write_run_files(config, workdir, command)
    keras.utils.set_random_seed(config.seed)
    saved_vocabularies = resuming and os.path.isdir(os.path.join(workdir, VOCAB_DIR))
    experiment = (Experiment.load_vocabularies(config, workdir) if saved_vocabularies
                  else Experiment.create(config))
    if chief and not saved_vocabularies:
        experiment.save_vocabularies(workdir)
    _log_tasks(experiment)
    t = config.training
    with strategy.scope():
        # A run resuming from a checkpoint restores the word embedding from it: the
        # vector file is read only for a fresh start.
        restoring = resuming and tf.train.latest_checkpoint(
            os.path.join(workdir, CHECKPOINT_DIR)) is not None
        model = experiment.build_model(restoring=restoring)
        _log_parameters(experiment, model)
        weighting = make_weighting(t.weighting, experiment.tasks) if t.step == "all" else None
        if weighting is not None:
            weighting.build()
        optimizer = build_optimizer(t.optimizer, t.steps,
                                    loss_scaling=t.mixed_precision == "mixed_float16")
        # A weighting's trainable state (learned log-variances) trains with the model.
        optimizer.build([*model.model.trainable_variables,
                         *(weighting.trainable_variables if weighting is not None else ())])
        state = RunState()
    checkpoints = Checkpoints(workdir, model.model, optimizer, state, keep=t.keep_checkpoints,
                              chief=chief, extra={"weighting": weighting} if weighting else None,
                              worker=worker_index(strategy))
    if checkpoints.restore_latest():
        logging.info("resumed from step %d", int(state.step.numpy()))
    start = int(state.step.numpy())
    callbacks = make_callbacks(config)
    check_schedules(model.model, callbacks)
    step_fn, tasks_at = _make_steps(experiment, strategy, model, optimizer, weighting,
                                    callbacks, start)
    evaluator = Evaluator(experiment, model, t.eval_batch_size, losses=t.select == "loss")
    writer = (tf.summary.create_file_writer(os.path.join(workdir, TENSORBOARD_DIR)) if chief
              else tf.summary.create_noop_writer())
    run = Run(config, workdir, experiment, model, optimizer, state, checkpoints, writer, chief,
              start, start, stop=bool(state.stopped.numpy()), weighting=weighting)
    for callback in callbacks:
        callback.on_train_begin(run)
    while run.step < t.steps and not run.stop:
        logs = step_fn(run.step)
        run.step += 1
        logs["tasks"] = tasks_at(run.step - 1)
        for callback in callbacks:
            callback.on_step_end(run, logs)
        if run.step % t.eval_every == 0 or run.step == t.steps:
            results = evaluator.evaluate("dev")
            for callback in callbacks:
                callback.on_eval_end(run, results)
        if run.step % t.checkpoint_every == 0 or run.step == t.steps or run.stop:
            state.step.assign(run.step)
            checkpoints.save(run.step)
    for callback in callbacks:
        callback.on_train_end(run)
    return _final_evaluation(run, evaluator)


def _log_tasks(experiment: Experiment) -> None:
    for task in experiment.tasks:
        n = len(experiment.sentences(task.name, "train"))
        layers = experiment.config.model.encoders[task.config.encoder].layers
        logging.info("task %s (%s): %d training sentences, %d labels, encoder %s layer %d",
                     task.name, task.config.type, n, len(task.labels), task.config.encoder,
                     task.layer(layers))


def parameter_counts(model) -> dict[str, int]:
    """Trainable parameters of a MultiTaskModel: ``total``, ``shared`` (on more than one
    task's path), each task's own (``task/<name>``) and ``other`` (on no task's path:
    a sharing scheme's discriminator, mixing weights that only losses read)."""
    def size(variables):
        return int(sum(np.prod(v.shape) for v in variables))

    counts = {"total": size(model.model.trainable_variables),
              "shared": size(model.shared_variables)}
    for name, variables in model.task_variables.items():
        counts[f"task/{name}"] = size(variables)
    counts["other"] = counts["total"] - sum(v for k, v in counts.items() if k != "total")
    return counts


def _log_parameters(experiment: Experiment, model) -> None:
    m = experiment.config.model
    schemes = sorted({e.sharing or m.sharing for n, e in m.encoders.items()
                      if any(t.config.encoder == n for t in experiment.tasks)})
    counts = parameter_counts(model)
    tasks = ", ".join(f"{k[5:]} {v:,}" for k, v in counts.items() if k.startswith("task/"))
    logging.info("parameters (sharing %s): %s trainable; shared %s; own: %s; other %s",
                 ", ".join(schemes), f"{counts['total']:,}", f"{counts['shared']:,}", tasks,
                 f"{counts['other']:,}")


def _make_steps(experiment, strategy, model, optimizer, weighting, callbacks, start):
    """The step function ``step(i) -> logs`` of the config's step kind, and
    ``tasks_at(i)``: the tasks step i trains."""
    t = experiment.config.training
    input_names = experiment.featurizer.input_names()
    if t.step == "all":
        groups = experiment.groups(True)
        iterators = [iter(strategy.experimental_distribute_dataset(
            _train_dataset(experiment, tuple(task.name for task in group), index, start)))
            for index, group in enumerate(groups)]
        train_step = make_all_step(strategy, groups, model, optimizer, input_names, weighting,
                                   callbacks)
        names = [task.name for task in experiment.tasks]

        def all_step(step):
            stats, in_step = train_step(iterators)
            return {"losses": _numpy(stats), "in_step": {
                k: {n: float(v) for n, v in values.items()} for k, values in in_step.items()}}

        return all_step, lambda step: names
    reference = config_lib.reference_task(experiment.config)
    groups = [tuple(task.name for task in group) for group in experiment.groups(t.joint)]
    sampler = _group_sampler(experiment, groups, reference)
    logging.info("sampling probabilities: %s",
                 ", ".join(f"{n} {p:.3f}" for n, p in zip(sampler.names, sampler.p, strict=True)))
    consumed = sampler.counts(start)
    iterators, steps = [], []
    for index, group in enumerate(groups):
        dataset = _train_dataset(experiment, group, index, int(consumed[index]))
        iterators.append(iter(strategy.experimental_distribute_dataset(dataset)))
        steps.append(make_sampled_step(
            strategy, [experiment.task_by_name[name] for name in group],
            model.submodel(group), optimizer, input_names,
        ))

    def sampled_step(step):
        index = sampler.task_at(step)
        return {"losses": _numpy(steps[index](iterators[index]))}

    return sampled_step, lambda step: list(groups[sampler.task_at(step)])


def _numpy(stats) -> dict:
    return {name: (float(total), float(count)) for name, (total, count) in stats.items()}


def _final_evaluation(run: Run, evaluator: Evaluator) -> dict:
    run.checkpoints.restore_best()
    final = {
        "reference_task": config_lib.reference_task(run.config),
        "best_step": int(run.state.best_step.numpy()),
        "steps": run.step,
        "stopped_early": run.stop,
        "dev": evaluator.evaluate("dev"),
        "test": evaluator.evaluate("test"),
    }
    if run.chief:
        atomic_write_text(os.path.join(run.workdir, METRICS_FILE),
                          json.dumps(final, indent=2) + "\n")
    run.checkpoints.close()
    message(f"best checkpoint: step {final['best_step']}")
    for split in ("dev", "test"):
        if final[split]:
            message(format_metrics(final[split], split))
    return final
