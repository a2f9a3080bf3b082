"""TF Serving's model config file (``models.config``): one entry per exported model name."""

from __future__ import annotations

import os

MODELS_CONFIG = "models.config"


def read_models_config(path: str):
    """Parses a ``model_config_list`` file; an empty config when `path` does not exist.

    Raises:
        ValueError: the file is not a valid ``ModelServerConfig`` text proto, or holds a
            ``custom_model_config``.
    """
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    if not os.path.exists(path):
        return config
    from google.protobuf import text_format

    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as e:
        raise ValueError(f"{path}: not a TF Serving model config ({e}); fix or remove it") from None
    if config.WhichOneof("config") == "custom_model_config":
        raise ValueError(f"{path}: holds a custom_model_config, not a model_config_list")
    return config


def update_models_config(path: str, name: str, base_path: str) -> str:
    """Adds or updates model `name` (served from `base_path`) in a ``model_config_list`` file.

    Other models already listed keep their entries and settings; the file is
    replaced atomically, so a server polling it never reads half a file.

    Args:
        path: the config file (created when missing).
        name: the model's name, as clients ask for it.
        base_path: the folder holding the model's numbered versions (made absolute).

    Returns:
        The text written.

    Raises:
        ValueError: the existing file is not a valid model config (see
            :func:`read_models_config`).
    """
    from google.protobuf import text_format

    from tfmtl.files import atomic_write_text

    config = read_models_config(path)
    entries = config.model_config_list.config
    for entry in entries:
        if entry.name == name:
            break
    else:
        entry = entries.add()
        entry.name = name
    entry.base_path = os.path.abspath(base_path)
    entry.model_platform = "tensorflow"
    text = text_format.MessageToString(config)
    atomic_write_text(path, text)
    return text
