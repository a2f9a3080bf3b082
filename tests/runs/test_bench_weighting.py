"""bench/weighting.py: its variants and configs, and end to end on tiny models (shared data)."""

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.runs.conftest import load_bench, read_report, sweep_env, trainings
from tfmtl.training import validate

SCRIPT = REPO_ROOT / "bench" / "weighting.py"
TINY = ["training.steps=4", "training.eval_every=2", "training.checkpoint_every=2",
        "training.optimizer.schedule=constant", "model.encoders.shared.units=8",
        "model.embeddings.text.word_dim=8", "model.embeddings.text.char.units=8"]


def _config_module(name):
    spec = importlib.util.spec_from_file_location(f"_{name}", REPO_ROOT / "configs" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_weighting_and_representation_mode_is_a_variant_of_both_benchmarks():
    from tfmtl.runs import RunsError
    from tfmtl.training.weightings import WEIGHTINGS

    module = load_bench(SCRIPT, "weighting")
    for bench, singles in (("ud", ["single_upos", "single_xpos", "single_deprel",
                                   "single_feats"]), ("classification", ["mr", "subj", "sst"])):
        names = [v.name for v in module.build_sweep(bench, [0], [], "/data").variants]
        assert names[:len(singles)] == singles
        registered = set(WEIGHTINGS.names())  # (With those other test modules register.)
        assert {n for n in names if not n.endswith("_test")} == {
            *singles, *registered, "mgda_rep", "imtl_rep", "aligned_mtl_rep",
            "gradnorm_rep"} - {n for n in registered if n.endswith("_test")}
    with pytest.raises(RunsError, match="unknown variant 'pcgrad_rep' of ud"):
        module.build_sweep("ud", [0], ["equal", "pcgrad_rep"], "/data")


def _data_dir(name, request):
    """The corpora a config reads: UD EWT, or the deduplicated split tfmtl-data writes."""
    if name.startswith("weighting_ud"):
        return str(request.getfixturevalue("shared_data")("ud_english_ewt"))
    return str(request.getfixturevalue("sentiment_split"))


@pytest.mark.parametrize("name", ["weighting_ud.py", "weighting_classification.py"])
def test_every_variant_validates_and_trains_each_task_as_often_as_alone(name, request):
    module = _config_module(name)
    data_dir = _data_dir(name, request)
    steps = {}
    for variant in module.variants():
        raw = module.get_config(variant)
        raw.data_dir = data_dir
        config = validate(raw)
        assert config.training.weighting.get("gradients", "exact") == (
            "representation" if variant.endswith("_rep") else "exact")
        steps[variant] = config.training.steps
        if len(config.tasks) > 1:
            assert config.training.step == "all"
            assert config.training.weighting.type == variant.removesuffix("_rep")
    assert len(set(steps.values())) == 1, steps


def test_the_classification_baselines_are_the_sharing_benchmarks_runs(sentiment_split):
    weighting = _config_module("weighting_classification.py")
    sharing = _config_module("sharing_classification.py")
    resolved = []
    for task in ("mr", "subj", "sst"):
        for module in (weighting, sharing):
            raw = module.get_config(task)
            raw.data_dir = str(sentiment_split)
            resolved.append(validate(raw).to_dict())
        assert resolved[-2] == resolved[-1]


@pytest.mark.slow  # Six tiny trainings on UD EWT, then the same command again.
def test_ud_from_the_store(tmp_path, shared_data):
    shared_data("ud_english_ewt")
    variants = "single_upos,single_xpos,single_deprel,single_feats,equal,mgda_rep"
    args = [str(SCRIPT), "--bench=ud", f"--variants={variants}", "--workers=1",
            f"--runs_dir={tmp_path / 'store'}", f"--out={tmp_path / 'report'}",
            "--bootstrap=100", f"--results={tmp_path / 'results.jsonl.xz'}",
            *[f"--override={o}" for o in TINY]]
    first = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                           env=sweep_env(), cwd=REPO_ROOT, timeout=1200)
    assert first.returncode == 0, first.stderr[-3000:]
    lines = {line.split(" | ")[0]: line for line in first.stdout.splitlines()
             if line.startswith("| ")}
    assert {"| single-task", "| equal", "| mgda_rep"} <= set(lines)
    # Δm of a variant (two columns: test and dev) and its bootstrap interval.
    assert lines["| equal"].count("[") == 1 and "%" not in lines["| equal"]
    assert read_report(str(tmp_path / "report" / "ud"))["compute"]["trained"] == 6
    before = trainings(str(tmp_path / "store"))
    second = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                            env=sweep_env(), cwd=REPO_ROOT, timeout=1200)
    assert second.returncode == 0, second.stderr[-3000:]
    assert trainings(str(tmp_path / "store")) == before
    assert lines["| equal"] in second.stdout
