"""Build and install tfmtl.

The Python package is plain setuptools. The native ops (ops/: C++ and CUDA
kernels, the TensorFlow op library and the pybind11 modules) are compiled by
build_ext into tfmtl/ops/ (see ops/README.md and ops/native_build.py); build
with TensorFlow and pybind11 installed and without build isolation:
`pip install --no-build-isolation -e .`.
"""

import os
import sys

import setuptools

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops"))
from native_build import BuildNative, native_extensions  # noqa: E402

setuptools.setup(
    name="tfmtl",
    version="0.1.0",
    description="Multi-task learning for NLP with TensorFlow/Keras: shared LSTM stacks, "
    "task mixing, auxiliary objectives, native ops and SavedModel export.",
    python_requires=">=3.11,<3.12",
    packages=setuptools.find_packages(include=["tfmtl", "tfmtl.*"]),
    ext_modules=native_extensions(),
    cmdclass={"build_ext": BuildNative},
    install_requires=[
        "tensorflow==2.21.*",
        "tensorflow-text==2.21.*",
        "tensorflow-serving-api==2.21.*",
        "tensorboard>=2.20",
        "absl-py>=2.1",
        "ml-collections>=1.0",
        "numpy>=1.26",
        # BLEU of the sequence-to-sequence tasks (tfmtl.metrics.bleu).
        "sacrebleu>=2.4",
        # Subword vocabularies, trained at data-preparation time (tfmtl.data.subwords).
        "sentencepiece>=0.2",
    ],
    extras_require={
        # tfmtl-sweep --executor=ray (tfmtl.runs.RayExecutor).
        "ray": ["ray>=2.40"],
        # bench/sharing_plot.py draws the learned sharing weights; tfmtl.grouping.plots
        # the grouping heatmap and budget curve.
        "bench": ["matplotlib>=3.8"],
        # The Ray executor's test starts a local Ray instance, so the tests need Ray too;
        # the gradient weightings are tested against SciPy's solvers; the grouping tests
        # draw the heatmap and budget curve (tfmtl.grouping.plots); make test-slow runs two
        # tests at a time with pytest-xdist.
        "test": ["pytest>=8", "pytest-xdist>=3.5", "ruff>=0.6", "import-linter>=2.1",
                 "ray>=2.40", "scipy>=1.11", "matplotlib>=3.8"],
    },
    entry_points={
        "console_scripts": [
            "tfmtl-train=tfmtl.cli.train:run",
            "tfmtl-evaluate=tfmtl.cli.evaluate:run",
            "tfmtl-data=tfmtl.cli.data:run",
            "tfmtl-export=tfmtl.cli.export:run",
            "tfmtl-predict=tfmtl.cli.predict:run",
            "tfmtl-sweep=tfmtl.cli.sweep:run",
            "tfmtl-group=tfmtl.cli.group:run",
        ],
    },
)
