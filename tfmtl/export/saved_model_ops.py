"""Listing the ops a SavedModel's graphs use."""

from __future__ import annotations

import os


def saved_model_ops(directory: str) -> set[str]:
    """Every op type in a SavedModel: its graphs' nodes and its function library's nodes.

    Nodes that call a function of the library by name are left out (they are
    functions, not ops).

    Raises:
        FileNotFoundError: `directory` has no ``saved_model.pb``.
    """
    from tensorflow.core.protobuf import saved_model_pb2

    path = os.path.join(directory, "saved_model.pb")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file; is {directory} a SavedModel?")
    saved_model = saved_model_pb2.SavedModel()
    with open(path, "rb") as f:
        saved_model.ParseFromString(f.read())
    ops: set[str] = set()
    functions: set[str] = set()
    for meta_graph in saved_model.meta_graphs:
        graph = meta_graph.graph_def
        ops.update(node.op for node in graph.node)
        for function in graph.library.function:
            functions.add(function.signature.name)
            ops.update(node.op for node in function.node_def)
    return ops - functions


def custom_ops(ops: set[str]) -> set[str]:
    """The ops of `ops` that come from a custom op library (namespaced ``Ns>Op`` or tfmtl's)."""
    return {op for op in ops if ">" in op or op.startswith("Tfmtl")}
