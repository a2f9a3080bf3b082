"""The README's sweep section: its commands, its variants file and what it says is cached."""

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tfmtl.runs import NUMERICS_VERSION, Sweep, read_variants_file
from tfmtl.runs.run_identity import RESULT_FREE_KEYS
from tfmtl.runs.sweep import check_grid, parse_grid


def section() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Sweeps: .*?(?=^## )", readme, flags=re.M | re.S)
    assert match, "README.md has no '## Sweeps: ...' section"
    return match.group(0)


def sweep_commands() -> list[list[str]]:
    """Every tfmtl-sweep command of the section's sh blocks, as its arguments."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section(), flags=re.S):
        for command in block.replace("\\\n", " ").splitlines():
            words = command.split()
            if words and words[0] == "tfmtl-sweep":
                commands.append(words[1:])
    return commands


@pytest.fixture(scope="module")
def sweep_flags() -> set[str]:
    code = ("import json\nfrom absl import flags\nimport tfmtl.cli.sweep\n"
            "print(json.dumps(sorted(flags.FLAGS)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO_ROOT, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_the_commands_use_flags_tfmtl_sweep_has(sweep_flags):
    commands = sweep_commands()
    assert len(commands) >= 2  # Locally and through Ray.
    assert any("--executor=ray" in c for c in commands)
    for args in commands:
        values = dict(a.removeprefix("--").partition("=")[::2] for a in args)
        for name in values:
            assert name in sweep_flags or name.startswith("config."), f"no flag --{name}"
        config = values["config"]
        assert (REPO_ROOT / config.partition(":")[0]).is_file()
        grid = [a.removeprefix("--grid=") for a in args if a.startswith("--grid=")]
        check_grid(str(REPO_ROOT / config), grid, cwd=str(REPO_ROOT))
        assert len(parse_grid(grid)) * len(values["seeds"].split(",")) == 4  # "4 runs".


def test_the_variants_file_example_makes_a_sweep(tmp_path):
    example = re.search(r"```json\n(.*?)```", section(), flags=re.S).group(1)
    path = tmp_path / "variants.json"
    path.write_text(example)
    config = str(REPO_ROOT / "configs" / "conll2000_pos_chunk.py")
    variants, baseline = read_variants_file(str(path), default_config=config)
    sweep = Sweep(config, variants, seeds=[0], baseline=baseline, cwd=str(REPO_ROOT))
    assert sweep.baseline == "alone" and [c.variant for c in sweep.runs] == [
        "alone", "layer1", "wide"]
    assert sweep.runs[2].run.identity.config["model.encoders.shared.units"] == 256


def test_what_the_identity_leaves_out_is_documented():
    text = " ".join(section().split())
    for key in RESULT_FREE_KEYS:
        assert f"`{key}`" in text, key
    assert "`NUMERICS_VERSION`" in text and "tfmtl/runs/run_identity.py" in text
    assert "tests/runs/test_numerics_version.py" in text
    assert NUMERICS_VERSION >= 1
