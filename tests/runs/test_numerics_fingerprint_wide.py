"""NUMERICS_VERSION is bumped when results change, on every path a run's numbers take.

``test_numerics_version.py`` holds the version to the mini config's results; this
test widens it to the code paths the mini config does not take: each variant of
``fingerprint_variants.py`` (every sharing scheme, the ``all`` step with a static
weighting, the fused LSTM, a unidirectional stack, label embeddings, the CRF
output, the language-model and log-frequency objectives) trains a few steps
of the tiny config, and every loss it logs (the tasks', their auxiliary ones,
the schemes' penalties) and its dev scores must be those
``numerics_fingerprint_wide.json`` records for this numerics version. A change
that moves them fails until the version is bumped and the variant recorded
again (the failure prints its new entry; ``python -m
tests.runs.test_numerics_fingerprint_wide [VARIANT ...]`` records them).
Losses within a relative 1e-4 (float rounding differs a little between CPUs),
scores within 1e-6.
"""

import json

import pytest

from tests.conftest import REPO_ROOT
from tests.runs.fingerprint_variants import VARIANTS, get_config
from tests.runs.test_numerics_version import differences
from tfmtl.runs import NUMERICS_VERSION

FINGERPRINT = REPO_ROOT / "tests" / "runs" / "numerics_fingerprint_wide.json"


def variant_fingerprint(variant: str, workdir: str) -> dict:
    from tests.cli_helpers import logged_scalars
    from tfmtl.training.trainer import train_and_evaluate
    from tfmtl.training.validation import validate

    metrics = train_and_evaluate(validate(get_config(variant)), workdir)
    losses: dict[str, dict[str, float]] = {}
    for tag, steps in logged_scalars(workdir).items():
        if tag.endswith("/loss"):
            losses[tag[:-len("/loss")]] = {str(s): v for s, v in sorted(steps.items())}
    return {"losses": dict(sorted(losses.items())), "metrics": {"dev": metrics["dev"]},
            "best_step": metrics["best_step"]}


def test_every_variant_is_recorded_for_this_numerics_version():
    recorded = json.loads(FINGERPRINT.read_text())
    assert recorded["numerics_version"] == NUMERICS_VERSION, (
        f"{FINGERPRINT.name} was recorded under numerics version "
        f"{recorded['numerics_version']}, not {NUMERICS_VERSION}: record every variant again")
    assert sorted(recorded["variants"]) == sorted(VARIANTS)


@pytest.mark.slow  # Twelve short trainings (about 10 s each).
@pytest.mark.parametrize("variant", VARIANTS)
def test_a_variants_results_are_those_of_this_numerics_version(tmp_path, variant):
    actual = variant_fingerprint(variant, str(tmp_path / "run"))
    assert len(actual["losses"]) >= 2  # Every task's loss, at least.
    recorded = json.loads(FINGERPRINT.read_text())
    expected = recorded["variants"].get(variant)
    found = (["not recorded"] if expected is None
             else differences(expected, actual) if recorded["numerics_version"] ==
             NUMERICS_VERSION else ["recorded under another numerics version"])
    assert not found, (
        f"Variant {variant!r}'s results changed:\n  " + "\n  ".join(found[:20]) + "\nIf "
        "the change is meant to change results, bump NUMERICS_VERSION in tfmtl/runs/"
        f"run_identity.py and record this as variants.{variant} in {FINGERPRINT.name}:\n"
        + json.dumps(actual, indent=1))


def record(variants=VARIANTS) -> None:
    """Trains `variants` and writes their fingerprints (under this numerics version)."""
    import tempfile

    recorded = (json.loads(FINGERPRINT.read_text()) if FINGERPRINT.is_file()
                else {"numerics_version": NUMERICS_VERSION, "variants": {}})
    if recorded["numerics_version"] != NUMERICS_VERSION:
        recorded = {"numerics_version": NUMERICS_VERSION, "variants": {}}
    for variant in variants:
        with tempfile.TemporaryDirectory() as folder:
            recorded["variants"][variant] = variant_fingerprint(variant, folder + "/run")
    FINGERPRINT.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":  # python -m tests.runs.test_numerics_fingerprint_wide [VARIANT...]
    import sys

    record(sys.argv[1:] or VARIANTS)
