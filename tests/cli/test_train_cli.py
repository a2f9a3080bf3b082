"""tfmtl-train and tfmtl-evaluate end to end on the synthetic corpus."""

import json
import os

import pytest

from tests.cli_helpers import TINY_CONFIG, run_binary


def test_train_then_evaluate(tmp_path):
    workdir = str(tmp_path / "run")
    # A plug-in's key the config file does not hold is set all the same.
    result = run_binary("train", f"--config={TINY_CONFIG}", f"--workdir={workdir}",
                        "--config.training.steps=20", "--config.training.eval_every=10",
                        "--config.training.callbacks.gradient_reversal.steps=7")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["training"][
        "callbacks"] == {"gradient_reversal": {"steps": 7}}
    # Per-task dev metrics are printed during and after training.
    assert "step 10 dev chunk: " in result.stderr
    assert "dev pos: accuracy" in result.stderr and "test label: accuracy" in result.stderr
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["training"]["steps"] == 20

    result = run_binary("evaluate", f"--workdir={workdir}", "--split=dev", "--tasks=pos")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("dev pos: accuracy")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    report = json.loads((tmp_path / "run" / "eval_dev.json").read_text())
    assert report["metrics"]["pos"] == metrics["dev"]["pos"]


def test_bad_config_key_is_rejected_with_its_name(tmp_path):
    result = run_binary("train", f"--config={TINY_CONFIG}", f"--workdir={tmp_path}",
                        "--config.training.stepz=20")
    assert result.returncode != 0
    assert "stepz" in result.stderr


@pytest.mark.parametrize("binary", ["train", "sweep"])
@pytest.mark.parametrize("override, message", [
    # A misspelled leaf, then a misspelled section (ml_collections raises a KeyError there).
    ("--config.model.encoders.shared.unitz=3",
     "config.model.encoders.shared.unitz: unknown key; close matches: units"),
    ("--config.model.encoder.units=3",
     "config.model.encoder: unknown key; close matches: encoders, decoders"),
    ("--config.training.batch_size.x=3",
     "config.training.batch_size: holds 16 (int), not a section with a key 'x'"),
    ("--config.model.decoders.a.units=3",
     "config.model.decoders.a: unknown key; config.model.decoders has no keys"),
])
def test_a_misspelled_override_is_one_line_naming_the_key_and_close_matches(
        tmp_path, binary, override, message):
    where = [f"--workdir={tmp_path}"] if binary == "train" else [f"--runs_dir={tmp_path}"]
    result = run_binary(binary, f"--config={TINY_CONFIG}", *where, "--config.training.steps=3",
                        override)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert f"tfmtl-{binary}: error: {message}\n" in result.stderr
    assert not os.listdir(tmp_path)


def test_bad_config_value_is_rejected_with_its_name(tmp_path):
    result = run_binary("train", f"--config={TINY_CONFIG}", f"--workdir={tmp_path}",
                        "--config.tasks.pos.layer=7")
    assert result.returncode == 2
    assert "tfmtl-train: error: config.tasks.pos.layer: 7 is not a layer" in result.stderr


def test_missing_data_file_is_named(tmp_path):
    config = tmp_path / "config.py"
    config.write_text(
        "from tfmtl.config import base_config\nfrom tfmtl.experiment import task_config\n"
        "def get_config():\n"
        "    c = base_config()\n"
        "    c.tasks.pos = task_config('tagging', data=dict(format='conll', column='1',\n"
        f"        train={str(tmp_path / 'missing.txt')!r}))\n"
        "    return c\n"
    )
    result = run_binary("train", f"--config={config}", f"--workdir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert "config.tasks.pos.data.train: no such file" in result.stderr


def test_evaluate_on_a_folder_that_is_not_a_workdir(tmp_path):
    result = run_binary("evaluate", f"--workdir={tmp_path}")
    assert result.returncode == 2
    assert "config.json: no such file" in result.stderr


@pytest.mark.parametrize("override, message", [
    ("model.schemes.soft.wieght=0.1", "config.model.schemes.soft.wieght: unknown key; close "
     "matches: weight"),
    ("model.schemes.soft.weight=heavy", "config.model.schemes.soft.weight: 'heavy' is not of "
     "its default's type (float: 0.001)"),
    ("model.schemes.sofft.weight=0.1", "config.model.schemes.sofft: unknown sharing scheme"),
    ("training.callbacks.gradient_reversal.stepz=3",
     "config.training.callbacks.gradient_reversal.stepz: unknown key; close matches: steps"),
])
def test_a_bad_plugin_override_is_one_line(tmp_path, override, message):
    result = run_binary("train", f"--config={TINY_CONFIG}", f"--workdir={tmp_path / 'run'}",
                        "--config.model.sharing=soft", f"--config.{override}")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"tfmtl-train: error: {message}")
    assert "Traceback" not in result.stderr
