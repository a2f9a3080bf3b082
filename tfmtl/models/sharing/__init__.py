"""Parameter sharing schemes: how tasks share the encoder.

A scheme is called on the shared embedded inputs, builds every task's head
(``task.build_head(features, mask)``) on the features the task reads, and
returns each task's logits. Add one by writing a module in this package:

    @SHARING.register("mine")
    class MySharing:
        def __init__(self, model_config): ...
        def __call__(self, embedded, mask, tasks) -> dict[str, KerasTensor]: ...
"""

from tfmtl.registry import Registry

SHARING = Registry("sharing scheme", "tfmtl.models.sharing")

__all__ = ["SHARING"]
