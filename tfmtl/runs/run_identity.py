"""What identifies a run: what its config sets, the content of its data, the numerics version.

Two requests are the same run, and share one entry of the run store, exactly
when their identities hash equal. The identity holds:

* the resolved config (what ``tfmtl-train`` writes as ``config.json``: every
  default filled in), less :data:`RESULT_FREE_KEYS` (the keys that only change
  how often a run logs and saves checkpoints: a resumed run gives the same
  weights as an uninterrupted one, so they cannot change a result), less every
  key that holds its default (:func:`tfmtl.training.validation.config_defaults`),
  and less ``data_dir``;
* in place of each data file the config names, the SHA-256 of its bytes: an
  edited corpus is a new run, the same corpus at another path is the same run;
* :data:`NUMERICS_VERSION` and the ``major.minor`` versions of TensorFlow and of Keras
  (installed separately: a Keras release can change an initializer or an optimizer's
  arithmetic). The machine (its CPU), the exact versions and the tfmtl commit are recorded
  in each attempt of a run's record (``run_worker.provenance``), not identified by: a run
  is bit for bit on one machine, and across CPUs it differs by float rounding only.

Leaving the defaults out keeps a run's id when a later version of tfmtl adds
a config key (a new feature, off by default): a benchmark's runs stay valid
as features land, so a baseline is trained once. The price is a rule that
``tests/runs/test_config_defaults.py`` holds: changing the default of an
existing key changes what every config that leaves it alone trains, so it
bumps :data:`NUMERICS_VERSION`.

``training.eval_every``, ``training.patience`` and
``training.eval_batch_size`` stay in the identity (when set) although they are
about evaluation: the best checkpoint, whose test scores a run reports, is
chosen among the evaluations ``eval_every`` and ``patience`` schedule, and the
evaluation batch shapes the padded tensors the scores come from.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
from collections.abc import Mapping
from typing import Any

import ml_collections

from tfmtl.config import flatten
from tfmtl.files import content_of

NUMERICS_VERSION = 1
"""Bumped by every change to tfmtl that changes what an unchanged config trains or scores
(a new initializer, a fixed loss, another sampler draw, a metric fix): runs recorded
under an older version are then new runs, trained again rather than reused. Changes
that keep every result bit for bit (speed, logging, refactoring) leave it alone.

History: 1, the first run store. Kept at 1 through the change of 2026-12-02 that
averages an ``all`` step's extra losses over its groups (it was the first group's): no
shipped scheme has losses, so no run of a shipped config changed."""

RESULT_FREE_KEYS = ("training.log_every", "training.checkpoint_every",
                    "training.keep_checkpoints")
"""Config keys left out of a run's identity: they cannot change its results."""

_ID_LENGTH = 16


@dataclasses.dataclass(frozen=True)
class RunIdentity:
    """A run's id and the canonical description it is the hash of.

    Attributes:
        id: the first 16 hex digits of the SHA-256 of ``payload`` as canonical JSON.
        payload: ``{"numerics_version", "tensorflow", "keras", "config": {dotted key: value}}``
            (:func:`identity_config`).
    """

    id: str
    payload: Mapping[str, Any]

    @property
    def config(self) -> Mapping[str, Any]:
        return self.payload["config"]


#: Sections of user-named entries whose names enter the identity (``"model.encoders":
#: ["shared"]``, left out at these defaults): an entry whose keys all hold their defaults (a
#: callback at its defaults) leaves no other trace, yet it changes what trains.
NAMED_SECTIONS = {"model.embeddings": ["text"], "model.encoders": ["shared"],
                  "model.decoders": [], "training.callbacks": []}


def _section_names(tree: Mapping[str, Any], flat: Mapping[str, Any], section: str) -> list:
    node: Any = tree
    for part in section.split("."):
        if not isinstance(node, Mapping) or part not in node:
            node = None
            break
        node = node[part]
    if isinstance(node, Mapping):
        return sorted(node)
    prefix = section + "."  # A flat config (dotted keys).
    return sorted({key[len(prefix):].split(".", 1)[0] for key in flat if key.startswith(prefix)})


def identity_config(config: ml_collections.ConfigDict | Mapping[str, Any]) -> dict[str, Any]:
    """The flat, JSON-normalised config that enters the identity: the keys not at their
    default (nor result-free, nor ``data_dir``), data files replaced by their content hash
    (:func:`tfmtl.files.content_of`; ``missing:<path>`` for an absent one: such a run fails),
    and the names of the :data:`NAMED_SECTIONS` entries when they are not the defaults."""
    from tfmtl.runs import _core  # Loads TensorFlow (the plug-ins' schemas).

    tree = config.to_dict() if isinstance(config, ml_collections.ConfigDict) else config
    flat = json.loads(json.dumps(flatten(tree)))  # tuples -> lists, as config.json has them
    defaults = _core.config_defaults(flat)
    kept = {}
    for key in sorted(flat):
        value = flat[key]
        if key in RESULT_FREE_KEYS or key == "data_dir":
            continue
        if key in defaults and defaults[key] == value and type(defaults[key]) is type(value):
            continue
        kept[key] = content_of(value)
    for section, default in NAMED_SECTIONS.items():
        names = _section_names(tree, flat, section)
        if names != default:
            kept[section] = names
    return dict(sorted(kept.items()))


def _version(package: str) -> str:
    """A package's ``major.minor`` version (``"none"`` when it is not installed)."""
    try:
        version = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "none"
    return ".".join(version.split(".")[:2])


def run_identity(config: ml_collections.ConfigDict | Mapping[str, Any],
                 numerics_version: int = NUMERICS_VERSION) -> RunIdentity:
    """The identity of the run of a resolved config (see the module docstring)."""
    payload = {
        "numerics_version": numerics_version,
        "tensorflow": _version("tensorflow"),
        "keras": _version("keras"),
        "config": identity_config(config),
    }
    return RunIdentity(payload_id(payload), payload)


def payload_id(payload: Mapping[str, Any]) -> str:
    """The id of an identity payload: the first 16 hex digits of its canonical JSON's SHA-256."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:_ID_LENGTH]
