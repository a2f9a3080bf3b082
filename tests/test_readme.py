"""The README documents every config key and the commands it promises."""

import re

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
