"""The README documents every config key and the commands it promises."""

import re

import pytest

from tests.conftest import REPO_ROOT
from tfmtl.config import base_config
from tfmtl.tasks import TASKS


def _keys(config, prefix=""):
    for key, value in config.items():
        if hasattr(value, "items"):
            yield from _keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def test_every_config_key_is_in_the_config_reference():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([\w.]+)` \|", readme, flags=re.M))
    top = {k for k in _keys(base_config()) if not k.startswith("tasks")}
    task_keys = set()
    for name in TASKS.names():
        task_type = TASKS.get(name)
        if task_type.__module__.startswith("tfmtl."):  # Not the test-defined types.
            task_keys |= set(_keys(task_type.default_config()))
    missing = sorted((top | task_keys) - documented)
    assert not missing, f"README's config reference lacks: {missing}"


def test_the_two_setup_commands_are_make_targets():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("quickstart", "test"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, flags=re.M)
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.slow  # Trains and exports through the binaries (about 45 s).
def test_the_readme_lines_add_the_language_model_to_the_quickstart(tmp_path):
    """The lines the README shows, added to configs/quickstart.py, train and export (with no
    language-model head in the export)."""
    import tensorflow as tf

    from tests.cli_helpers import run_binary

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Auxiliary objectives", 1)[1]
    lines = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    source = (REPO_ROOT / "configs" / "quickstart.py").read_text(encoding="utf-8")
    assert source.count("    return config\n") == 1
    config = tmp_path / "quickstart_lm.py"
    config.write_text(source.replace("    return config\n", lines + "    return config\n"))
    workdir = tmp_path / "run"
    result = run_binary("train", f"--config={config}", f"--workdir={workdir}",
                        "--config.training.steps=20", "--config.training.eval_every=20",
                        "--config.training.checkpoint_every=20",
                        "--config.tasks.chunk.data.sentences=300")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "lm/forward" in result.stderr + result.stdout
    exported = run_binary("export", f"--workdir={workdir}", f"--export_base={tmp_path / 'e'}",
                          "--name=qs")
    assert exported.returncode == 0, exported.stderr[-3000:]
    served = tf.saved_model.load(str(tmp_path / "e" / "qs" / "1"))
    outputs = served.signatures["serving_default"].structured_outputs
    assert any(k.startswith("chunk_") for k in outputs)
    assert not any(k.startswith("lm_") for k in outputs)
