"""Hard sharing hands each task the features of the layers up to its own."""

import keras


def test_each_task_reads_the_layers_up_to_its_own():
    from tests import tiny_config
    from tfmtl.experiment import Experiment
    from tfmtl.models.sharing import SHARING
    from tfmtl.training.validation import validate

    config = validate(tiny_config.get_config(tasks=("chunk", "pos")))  # chunk 2, pos 1.
    tasks = Experiment.create(config).tasks
    scheme = SHARING.get("hard")("shared", config.model.encoders.shared, 0, None)
    embedded = keras.Input((None, 8))
    mask = keras.Input((None,), dtype="bool")
    seen = {}

    def head(task, features):
        seen[task.name] = features.output(-1)
        return {"logits": features.output(-1)}

    shared = scheme(embedded, mask, tasks, head)
    assert shared.features["pos"].num_layers == 1  # Not the stack above it, built later.
    assert shared.features["chunk"].num_layers == 2
    for name in ("chunk", "pos"):
        assert shared.features[name].output(-1) is seen[name]
