"""Changing a config default bumps NUMERICS_VERSION: the defaults, recorded.

A run's identity leaves out the keys that hold their default
(:mod:`tfmtl.runs.run_identity`), so that a key a later tfmtl adds does not
make every finished run a new one. The price: a default whose value changes
changes what every config that leaves it alone trains, with the same id. This
test holds that change to a bump of ``NUMERICS_VERSION``:
``config_defaults.json`` records every default of the base schema and of each
plug-in shipped in tfmtl (task types, weightings, callbacks, sharing schemes, samplers,
the language, encoder and decoder sections) for the current version. A changed or removed
default fails here until the version is bumped; then, or when keys were only
added, record the defaults again:

    python -m tests.runs.test_config_defaults
"""

import json
import sys

from tests.conftest import REPO_ROOT
from tfmtl.runs import NUMERICS_VERSION

LEDGER = REPO_ROOT / "tests" / "runs" / "config_defaults.json"


def current_defaults() -> dict[str, dict]:
    """``{schema: {dotted key: default}}`` of the base config and every shipped plug-in."""
    from tfmtl.config import base_config, decoder_config, embedding_config, encoder_config, flatten
    from tfmtl.models.sharing import SHARING
    from tfmtl.tasks import TASKS
    from tfmtl.training.callbacks import CALLBACKS
    from tfmtl.training.samplers import SAMPLERS
    from tfmtl.training.weightings import WEIGHTINGS

    schemas = {"base": base_config(), "embedding": embedding_config(),
               "encoder": encoder_config(), "decoder": decoder_config()}
    for kind, registry in (("task", TASKS), ("weighting", WEIGHTINGS), ("callback", CALLBACKS),
                           ("scheme", SHARING), ("sampler", SAMPLERS)):
        for name in registry.names():
            plugin = registry.get(name)
            if plugin.__module__.startswith("tfmtl."):  # Not the tests' own plug-ins.
                schemas[f"{kind}:{name}"] = plugin.default_config()
    return {name: json.loads(json.dumps(flatten(schema.to_dict())))
            for name, schema in sorted(schemas.items())}


# Base-schema sections whose keys belong to a kind of plug-in (its own schema holds them).
PLUGIN_SECTIONS = {"training.sampler.": "sampler", "training.weighting.": "weighting"}


def _moved(key: str, value, current: dict[str, dict]) -> bool:
    """Whether base key `key` moved, default unchanged, into the plug-ins' schemas: every
    shipped plug-in of its section that has the key has it with the same default."""
    for prefix, kind in PLUGIN_SECTIONS.items():
        if key.startswith(prefix):
            name = key[len(prefix):]
            holders = [schema[name] for label, schema in current.items()
                       if label.startswith(f"{kind}:") and name in schema]
            return bool(holders) and all(v == value and type(v) is type(value)
                                         for v in holders)
    return False


def changes(recorded: dict[str, dict], current: dict[str, dict]) -> tuple[list[str], list[str]]:
    """``(changed or removed defaults, added keys)``, each as readable lines. A base key
    that moved into its plug-ins' schemas with its default is neither."""
    changed, added = [], []
    for schema in sorted(recorded.keys() | current.keys()):
        old, new = recorded.get(schema, {}), current.get(schema, {})
        for key in sorted(old.keys() | new.keys()):
            if key not in new and schema == "base" and _moved(key, old[key], current):
                continue
            if key not in new:
                changed.append(f"{schema}: {key} removed (was {old[key]!r})")
            elif key not in old:
                added.append(f"{schema}: {key} added ({new[key]!r})")
            elif old[key] != new[key] or type(old[key]) is not type(new[key]):
                changed.append(f"{schema}: {key} changed from {old[key]!r} to {new[key]!r}")
    return changed, added


def test_defaults_change_only_with_a_numerics_version_bump():
    ledger = json.loads(LEDGER.read_text(encoding="utf-8"))
    changed, added = changes(ledger["defaults"], current_defaults())
    if ledger["numerics_version"] == NUMERICS_VERSION:
        assert not changed, (
            "config defaults changed, so configs that leave them alone train differently "
            "under the same run id; bump NUMERICS_VERSION in tfmtl/runs/run_identity.py, "
            "then run `python -m tests.runs.test_config_defaults`:\n" + "\n".join(changed))
    assert not changed and not added, (
        "the recorded defaults are out of date; record them with "
        "`python -m tests.runs.test_config_defaults`:\n" + "\n".join(changed + added))


def test_the_ledger_detects_a_changed_and_an_added_default():
    current = current_defaults()
    edited = json.loads(json.dumps(current))
    edited["base"]["training.steps"] += 1
    del edited["encoder"]["units"]
    changed, added = changes(edited, current)
    assert changed == [f"base: training.steps changed from {current['base']['training.steps'] + 1}"
                       f" to {current['base']['training.steps']}"]
    assert added == [f"encoder: units added ({current['encoder']['units']})"]


def test_a_key_moved_into_its_plugins_keeps_its_default_or_is_a_change():
    current = current_defaults()
    recorded = json.loads(json.dumps(current))
    recorded["base"]["training.sampler.cap"] = 0  # As the base schema once held it.
    assert changes(recorded, current) == ([], [])
    recorded["base"]["training.sampler.cap"] = 5  # Moved with another default: a change.
    assert changes(recorded, current)[0] == ["base: training.sampler.cap removed (was 5)"]


def record() -> None:
    ledger = json.loads(LEDGER.read_text(encoding="utf-8")) if LEDGER.exists() else None
    current = current_defaults()
    if ledger and ledger["numerics_version"] == NUMERICS_VERSION:
        changed, _ = changes(ledger["defaults"], current)
        if changed:
            sys.exit("refusing to record changed defaults under the same NUMERICS_VERSION; "
                     "bump it first:\n" + "\n".join(changed))
    LEDGER.write_text(json.dumps({"numerics_version": NUMERICS_VERSION, "defaults": current},
                                 indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"recorded {sum(map(len, current.values()))} defaults in {LEDGER}")


if __name__ == "__main__":
    record()
