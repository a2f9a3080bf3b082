"""Build and install tfmtl.

The Python package is plain setuptools. The native ops (ops/) are added to
this build by the native-ops work: see ops/README.md once it exists.
"""

import setuptools

setuptools.setup(
    name="tfmtl",
    version="0.1.0",
    description="Multi-task learning for NLP with TensorFlow/Keras: shared LSTM stacks, "
    "task mixing, auxiliary objectives, native ops and SavedModel export.",
    python_requires=">=3.11,<3.12",
    packages=setuptools.find_packages(include=["tfmtl", "tfmtl.*"]),
    install_requires=[
        "tensorflow==2.21.*",
        "tensorflow-text==2.21.*",
        "absl-py>=2.1",
        "ml-collections>=1.0",
        "numpy>=1.26",
    ],
    extras_require={
        "test": ["pytest>=8", "ruff>=0.6"],
    },
    entry_points={
        "console_scripts": [
            "tfmtl-train=tfmtl.cli.train:run",
            "tfmtl-evaluate=tfmtl.cli.evaluate:run",
            "tfmtl-data=tfmtl.cli.data:run",
        ],
    },
)
