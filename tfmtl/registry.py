"""Name-to-implementation registries that discover their plug-ins.

Every extension point of tfmtl (task types, sharing schemes, task samplers,
LSTM implementations) is a :class:`Registry` bound to one package. Adding an
implementation means adding one file to that package that decorates its class
with ``@REGISTRY.register("name")``: the registry imports every module of its
package the first time it is asked for a name, so nothing else needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """A registry of named implementations living in one package.

    Args:
        kind: what the registry holds, used in error messages ("task type").
        package: dotted name of the package whose modules register entries.

    Example:
        TASKS = Registry("task type", "tfmtl.tasks")

        @TASKS.register("tagging")
        class Tagging(Task): ...

        TASKS.get("tagging")  # -> Tagging
    """

    def __init__(self, kind: str, package: str):
        self.kind = kind
        self.package = package
        self._entries: dict[str, T] = {}
        self._discovered = False

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            existing = self._entries.get(name)
            if existing is not None and existing is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice: {existing} and {obj}")
            self._entries[name] = obj
            return obj

        return decorator

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{self.package}.{module.name}")

    def get(self, name: str) -> T:
        self._discover()
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        self._discover()
        return name in self._entries
