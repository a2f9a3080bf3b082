"""The two step kinds: ``sampled`` (one task group per step) and ``all`` (every group).

Both compute each task's named losses from the model's outputs on its batch
(:meth:`tfmtl.tasks.base.Task.losses`): a named loss is ``weight * total /
count`` with the count summed over replicas, so it is the global mean over
the step's batch whatever the number of replicas. A task's loss is the sum of
its named losses. The sharing schemes' losses and ``model.losses`` are added
once per step, and the per-task ones of the tasks the step trains (on their
batch); in an ``all`` step, whose model runs once per group, they are
the mean over the groups' batches (a penalty on the weights alone counts once,
as in a ``sampled`` step; one on the features, such as an adversarial loss,
sees every group's sentences). A step returns, per named loss, its summed total and count (over
replicas) for logging.

With a ``keras.optimizers.LossScaleOptimizer`` (``mixed_float16``) the backward passes
start from the loss scale instead of 1 (the gradient of the scaled loss, as its
``scale_loss`` would give), and the optimizer unscales the gradients, skips a step whose
gradients are not finite and adapts the scale. A gradient weighting combines unscaled
per-task gradients (the direction is scaled again for the optimizer: a power of two,
exactly), and a skipped step leaves the weighting's state as it was too. The losses are
float32 whatever the policy (the model's outputs are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import tensorflow as tf

from tfmtl.experiment import task_batch
from tfmtl.models.multitask_model import LOSSES, REPRESENTATIONS, TASK_LOSSES, MultiTaskModel
from tfmtl.training.callbacks import Callback, StepContext
from tfmtl.training.weightings.gradients import gram_matrix

SUM = tf.distribute.ReduceOp.SUM


def task_losses(tasks: Sequence, batch: Mapping, outputs: Mapping, stats: dict) -> dict:
    """Each task's loss on `batch` (a dict by task name); fills `stats` per named loss."""
    context = tf.distribute.get_replica_context()
    losses = {}
    for task in tasks:
        total_loss = None
        for name, loss in task.losses(task_batch(batch, task.name), outputs[task.name]).items():
            count = context.all_reduce(SUM, loss.count)
            value = loss.total / tf.maximum(count, 1.0)
            if loss.weight != 1.0:
                value = loss.weight * value
            total_loss = value if total_loss is None else total_loss + value
            stats[name] = (loss.total, loss.count)
        losses[task.name] = total_loss
    return losses


def extra_losses(outputs: Mapping, model: keras.Model, stats: dict, tasks: Sequence = ()):
    """The sharing schemes' named losses, the per-task ones of `tasks` (per name, the mean
    over those of `tasks` that have it) and the layers' ``model.losses``, summed (or
    None)."""
    total = None
    named = dict(outputs.get(LOSSES, {}))
    per_task: dict[str, list] = {}
    for task in tasks:
        for name, value in outputs.get(TASK_LOSSES, {}).get(task.name, {}).items():
            per_task.setdefault(name, []).append(value)
    for name, values in per_task.items():
        named[name] = values[0] if len(values) == 1 else tf.add_n(values) / len(values)
    for name, value in named.items():
        total = value if total is None else total + value
        stats[name] = (value, tf.constant(1.0))
    if model.losses:
        regularization = tf.add_n(model.losses)
        total = regularization if total is None else total + regularization
        stats["regularization"] = (regularization, tf.constant(1.0))
    return total


def _mean_over_groups(extras: list, extra_stats: list[dict], stats: dict):
    """The mean of the groups' extra losses (None when there are none); their named
    parts' means go into `stats` (a part that only some groups have counts as zero in
    the others, so the parts add up to the total)."""
    if all(extra is None for extra in extras):
        return None
    count = float(len(extras))
    names = list(dict.fromkeys(name for group in extra_stats for name in group))
    for name in names:
        value = tf.add_n([group[name][0] for group in extra_stats if name in group])
        stats[name] = (value / count if count > 1 else value, tf.constant(1.0))
    total = tf.add_n([extra for extra in extras if extra is not None])
    return total / count if count > 1 else total


def _loss_scale(optimizer):
    """The dynamic loss scale of a ``LossScaleOptimizer`` (as a tensor), else None."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return tf.convert_to_tensor(optimizer.dynamic_scale)
    return None


def _gradient(tape, target, sources, scale):
    """`target`'s gradients on `sources`; with a loss `scale`, those of ``scale * target``
    (the backward pass starts from `scale`)."""
    if scale is None:
        return tape.gradient(target, sources)
    return tape.gradient(target, sources, output_gradients=scale)


def _unscale(g, scale):
    """Gradient `g` (a tensor, IndexedSlices or None) divided by the loss `scale`."""
    if isinstance(g, tf.IndexedSlices):
        return tf.IndexedSlices(g.values / scale, g.indices, g.dense_shape)
    return None if g is None else g / scale


def _all_finite(grads):
    """Whether every replica's gradients are finite (a loss-scaled step is applied)."""
    context = tf.distribute.get_replica_context()
    finite = tf.reduce_all([
        tf.reduce_all(tf.math.is_finite(g.values if isinstance(g, tf.IndexedSlices) else g))
        for g in grads if g is not None])
    return context.all_reduce(SUM, tf.cast(tf.logical_not(finite), tf.float32)) == 0.0


def _apply(optimizer, grads, variables) -> None:
    optimizer.apply_gradients(
        [(g, v) for g, v in zip(grads, variables, strict=True) if g is not None]
    )


def _reduce(strategy, stats):
    return {name: (strategy.reduce(SUM, total, axis=None), strategy.reduce(SUM, count, axis=None))
            for name, (total, count) in stats.items()}


def make_sampled_step(strategy: tf.distribute.Strategy, tasks: Sequence, model: keras.Model,
                      optimizer: keras.optimizers.Optimizer, input_names: tuple[str, ...]):
    """The train step of one group of tasks trained on the same batches.

    The group's loss is the sum of its tasks' losses, each times its
    ``loss_weight``. Heads and layers the group does not reach get no update.

    Args:
        strategy: the distribution strategy.
        tasks: the tasks of the group (one, unless trained jointly).
        model: a model computing the group's outputs (see ``MultiTaskModel.submodel``).
        optimizer: the optimizer, built on all the model's variables.
        input_names: the model's input features.

    Returns:
        ``train_step(iterator) -> {loss name: (total, count)}``.
    """
    variables = model.trainable_variables

    def replica_step(batch):
        scale = _loss_scale(optimizer)
        features = {name: batch[name] for name in input_names}
        stats = {}
        with tf.GradientTape() as tape:
            outputs = model(features, training=True)
            losses = task_losses(tasks, batch, outputs, stats)
            loss = 0.0
            for task in tasks:
                loss += task.config.loss_weight * losses[task.name]
            extra = extra_losses(outputs, model, stats, tasks)
            if extra is not None:
                loss += extra
        _apply(optimizer, _gradient(tape, loss, variables, scale), variables)
        return stats

    @tf.function
    def train_step(iterator):
        return _reduce(strategy, strategy.run(replica_step, args=(next(iterator),)))

    return train_step


def make_all_step(strategy: tf.distribute.Strategy, groups: Sequence[tuple], multitask:
                  MultiTaskModel, optimizer: keras.optimizers.Optimizer,
                  input_names: tuple[str, ...], weighting, callbacks: Sequence = ()):
    """The train step that takes one batch of every group and weighs the tasks' losses.

    A loss weighting combines the tasks' losses into one; a gradient weighting
    (``needs_gradients``) gets each task's gradient on the shared variables,
    all-reduced over replicas, and returns their combination, while each
    task's own variables follow its own loss (in the ``representation`` mode it gets
    the Gram matrix of the tasks' gradients on the shared encoder's output instead:
    see :func:`_representation_combination`). A weighting that declares
    ``needs_reevaluation`` then gets the tasks' losses on the same batches with the
    updated weights (see :func:`_reevaluate`). Callbacks' ``in_step`` hooks run
    in the step, in replica context.

    Args:
        strategy: the distribution strategy.
        groups: the groups, each a tuple of tasks reading the same batches.
        multitask: the model (its ``model`` computes every output).
        optimizer: the optimizer.
        input_names: the model's input features.
        weighting: the :class:`tfmtl.training.weightings.Weighting`.
        callbacks: callbacks whose ``in_step`` runs in the step.

    Returns:
        ``train_step(iterators) -> ({loss name: (total, count)}, {callback: {name: value}})``.
    """
    representation = weighting.needs_gradients and weighting.gradient_mode == "representation"
    model = multitask.representation_model() if representation else multitask.model
    # A weighting's own trainable variables (learned log-variances) follow the loss too.
    variables = [*model.trainable_variables, *weighting.trainable_variables]
    shared_ids = {id(v) for v in multitask.shared_variables}
    hooks = [c for c in callbacks if type(c).in_step is not Callback.in_step]

    def replica_step(*batches):
        stats, losses, outputs = {}, {}, {}
        extras, extra_stats, representations = [], [], []
        scale = _loss_scale(optimizer)
        if scale is not None:  # Put back if the step is skipped.
            weighting_state = [v for v in weighting.variables if not v.trainable]
            weighting_before = [tf.identity(v) for v in weighting_state]
        if weighting.needs_reevaluation:
            state = _snapshot(model.non_trainable_variables)
        with tf.GradientTape(persistent=bool(hooks) or weighting.needs_gradients) as tape:
            for group, batch in zip(groups, batches, strict=True):
                key = tuple(task.name for task in group)
                features = {name: batch[name] for name in input_names}
                outputs[key] = model(features, training=True)
                if representation:
                    outputs[key] = dict(outputs[key])
                    read = outputs[key].pop(REPRESENTATIONS)
                    representations.append([read[task.name] for task in group])
                losses.update(task_losses(group, batch, outputs[key], stats))
                extra_stats.append({})
                extras.append(extra_losses(outputs[key], model, extra_stats[-1], group))
            extra = _mean_over_groups(extras, extra_stats, stats)
            if weighting.needs_gradients:
                # The tasks' own variables follow the plain sum (recorded on the tape).
                loss = tf.add_n(list(losses.values()))
            else:
                loss = weighting.combine(losses)
            if extra is not None:
                loss += extra
        if representation:
            grads = _representation_combination(tape, losses, loss, extra, variables,
                                                shared_ids, weighting, representations, scale)
        elif weighting.needs_gradients:
            grads = _gradient_combination(tape, losses, loss, extra, variables, shared_ids,
                                          weighting, scale)
        else:
            grads = _gradient(tape, loss, variables, scale)
        in_step = {}
        context = StepContext(multitask, dict(zip([tuple(t.name for t in g) for g in groups],
                                                  batches, strict=True)),
                              losses, outputs, tape, optimizer)
        for callback in hooks:
            result = callback.in_step(context)
            if result:
                in_step[type(callback).__name__] = result
        if scale is not None:
            applied = _all_finite(grads)
        _apply(optimizer, grads, variables)
        if weighting.needs_reevaluation:
            weighting.update_after_step(losses, _reevaluate(groups, batches, model,
                                                            input_names, state))
        if scale is not None:
            for variable, value in zip(weighting_state, weighting_before, strict=True):
                variable.assign(tf.where(applied, variable, value))
        return stats, in_step

    @tf.function
    def train_step(iterators):
        batches = [next(iterator) for iterator in iterators]
        stats, in_step = strategy.run(replica_step, args=tuple(batches))
        reduced = {name: {k: strategy.reduce(SUM, v, axis=None) for k, v in values.items()}
                   for name, values in in_step.items()}
        return _reduce(strategy, stats), reduced

    return train_step


def _snapshot(variables) -> list:
    return [tf.identity(v.value) for v in variables]


def _reevaluate(groups, batches, model, input_names, state) -> dict:
    """Each task's loss on the step's `batches` with the updated weights (forward only).

    The forward passes replay the step's own: in training mode (as the losses before the
    update were taken, and as FAMO's official code re-evaluates), with the model's
    non-trainable state (its dropout seed generators, running statistics) set back to
    `state`, its value when the step began, so every layer draws the dropout masks the
    step's passes drew and starts from the statistics they started from. A loss's change
    is then the update's alone: fresh masks (the official code's) would add the difference
    of two dropout draws, often larger than one step's progress, and inference mode the
    gap between dropout and none. The state is put back afterwards, so the run goes on as
    it would without this; both are functions of the checkpointed state, so a resumed run
    replays them bit for bit."""
    variables = model.non_trainable_variables
    after = _snapshot(variables)
    for variable, value in zip(variables, state, strict=True):
        variable.assign(value)
    losses = {}
    for group, batch in zip(groups, batches, strict=True):
        outputs = model({name: batch[name] for name in input_names}, training=True)
        losses.update(task_losses(group, batch, outputs, {}))
    losses = {name: tf.stop_gradient(value) for name, value in losses.items()}
    for variable, value in zip(variables, after, strict=True):
        variable.assign(value)
    return losses


def _gradient_combination(tape, losses, total, extra, variables, shared_ids, weighting,
                          scale=None):
    """Per-task gradients on the shared variables, all-reduced and combined by `weighting`;
    the other variables follow `total` (the sum of the losses and `extra`), and the shared
    ones get `extra`'s gradient on top. Every loss must have been computed on `tape`. With a
    loss `scale`, every gradient returned is scaled, but the weighting sees the unscaled
    per-task gradients."""
    context = tf.distribute.get_replica_context()
    replicas = tf.cast(context.num_replicas_in_sync, tf.float32)
    shared = [v for v in variables if id(v) in shared_ids]
    own = [v for v in variables if id(v) not in shared_ids]
    per_task = {}
    for name, value in losses.items():
        grads = _gradient(tape, value, shared, scale)
        # The optimizer sums the replicas' gradients again: reduce here, divide back there.
        per_task[name] = [None if g is None else context.all_reduce(SUM, g) for g in grads]
        if scale is not None:
            per_task[name] = [_unscale(g, scale) for g in per_task[name]]
    combined = weighting.combine_gradients(losses, per_task)
    own_grads = iter(_gradient(tape, total, own, scale))
    if extra is not None:
        extra_grads = iter(_gradient(tape, extra, shared, scale))
    combined = iter(combined)
    grads = []
    for v in variables:
        if id(v) in shared_ids:
            g = next(combined)
            g = None if g is None else g / replicas
            if g is not None and scale is not None:
                g = g * scale
            if extra is not None:
                e = next(extra_grads)
                g = e if g is None else (g if e is None else g + e)
            grads.append(g)
        else:
            grads.append(next(own_grads))
    return grads


def _representation_combination(tape, losses, total, extra, variables, shared_ids, weighting,
                                representations, scale=None):
    """The ``representation`` gradient mode (Sener and Koltun's MGDA-UB, generalised): each
    task's gradient on the encoder tensors its head reads (a backward pass through its head
    alone), their Gram matrix, the coefficients ``alpha`` the weighting makes of it, and
    one backward pass of ``sum_i alpha_i L_i`` (and `extra`) to the shared variables; the
    other variables follow `total`, as in :func:`_gradient_combination`.

    `representations` holds, per group, each of its tasks' tensors. Tasks reading the same
    tensors (one encoder layer, one batch) share their space; tensors of other groups
    (other batches) or other encoders count as zero in a task's gradient, so the
    representation is all of them side by side and tasks on different ones are
    orthogonal in it. The Gram matrix is summed over replicas: each holds its own share of
    the examples, and the global inner product is the sum of the replicas' ones.
    """
    context = tf.distribute.get_replica_context()
    names = weighting.task_names
    tensors, seen = [], set()
    for group in representations:
        for tensor in tf.nest.flatten(group):
            if id(tensor) not in seen:
                seen.add(id(tensor))
                tensors.append(tensor)
    per_task = {}
    for name in names:
        grads = _gradient(tape, losses[name], tensors, scale)
        per_task[name] = [g if scale is None else _unscale(g, scale) for g in grads]
    gram = context.all_reduce(SUM, gram_matrix(per_task, names))
    alpha = tf.stop_gradient(tf.cast(weighting.representation_alpha(gram, losses), tf.float32))
    shared = [v for v in variables if id(v) in shared_ids]
    own = [v for v in variables if id(v) not in shared_ids]
    targets = [losses[name] for name in names]
    weights = [alpha[i] for i in range(len(names))]
    if extra is not None:
        targets.append(extra)
        weights.append(tf.constant(1.0))
    if scale is not None:
        weights = [w * scale for w in weights]
    shared_grads = iter(tape.gradient(targets, shared, output_gradients=weights))
    own_grads = iter(_gradient(tape, total, own, scale))
    return [next(shared_grads) if id(v) in shared_ids else next(own_grads) for v in variables]
