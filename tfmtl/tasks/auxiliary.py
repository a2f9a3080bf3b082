"""What the auxiliary objectives share: training in the batches of the task they accompany."""

from __future__ import annotations

import ml_collections

from tfmtl.config import ConfigError
from tfmtl.tasks import data_source


class Accompanying:
    """A mixin for task types that may train on another task's sentences, in its batches.

    Adds the key ``accompanies``: the name of that task (its ``data`` is then
    copied into this entry, and :attr:`accompanies` puts this task in that
    task's training unit), or ``""`` to read this entry's own ``data``.
    Put it before the task base class: ``class X(Accompanying, Task)``.
    """

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        c = super().default_config()
        # The task whose training sentences (in its batches) this one reads; "" = this
        # entry's own data.
        c.accompanies = ""
        return c

    @classmethod
    def resolve_config(cls, entry, key, config, *, check_files):
        if entry.accompanies:
            if entry.accompanies not in config.tasks:
                raise ConfigError(f"{key}.accompanies", f"unknown task {entry.accompanies!r}; "
                                  f"known: {', '.join(config.tasks)}")
            main = config.tasks[entry.accompanies]
            if main.get("accompanies") or main is entry:
                raise ConfigError(f"{key}.accompanies", f"{entry.accompanies!r} accompanies a "
                                  "task itself; name a task with batches of its own")
            if entry.data.to_dict() not in (data_source.data_config().to_dict(),
                                            main.data.to_dict()):
                raise ConfigError(f"{key}.data", "set either accompanies (read that task's "
                                  "sentences) or data (sentences of its own), not both")
            entry.data = main.data.copy_and_resolve_references()
        super().resolve_config(entry, key, config, check_files=check_files)

    @property
    def accompanies(self) -> str | None:
        return self.config.accompanies or None


LOWERCASE = ("auto", "yes", "no")


def resolve_lowercase(entry, key: str, config) -> None:
    """Checks ``entry.lowercase`` and resolves "auto" to what the task's embeddings do."""
    if entry.lowercase not in LOWERCASE:
        raise ConfigError(f"{key}.lowercase", f"{entry.lowercase!r} is not one of "
                          f"{', '.join(LOWERCASE)}")
    if entry.lowercase == "auto":
        language = config.model.encoders[entry.encoder].language
        entry.lowercase = "yes" if config.model.embeddings[language].lowercase else "no"
