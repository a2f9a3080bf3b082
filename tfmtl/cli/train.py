r"""tfmtl-train: trains a multi-task model from a config.

    tfmtl-train --config=configs/quickstart.py --workdir=runs/quickstart \
        [--config.training.steps=2000 ...]

Writes checkpoints, vocabularies, TensorBoard logs, the resolved config, the
command line and metrics.json into the workdir. Run the same command again
to resume a killed run.
"""

import shlex
import sys

from tfmtl.cli.common import config_flags_parser, quiet_tensorflow, run_main

quiet_tensorflow()

from absl import app, flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Config file (e.g. configs/quickstart.py); override keys with "
    "--config.KEY=VALUE.", lock_config=False)
_WORKDIR = flags.DEFINE_string("workdir", None, "Folder for checkpoints, logs and metrics.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")

    def body():
        from tfmtl.training.trainer import train_and_evaluate
        from tfmtl.training.validation import validate

        config = validate(_CONFIG.value)
        train_and_evaluate(config, _WORKDIR.value, command=shlex.join(sys.argv))

    run_main("tfmtl-train", body)


def run():
    app.run(main, flags_parser=config_flags_parser("tfmtl-train"))


if __name__ == "__main__":
    run()
