"""Sentences in, one readable record per sentence out: batching, decoding and formatting."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from tfmtl.export.client import ClientError, Predictor

DEFAULT_SIGNATURE = "serving_default"
TOKENS_SIGNATURE = "tokens"
_COMMON = ("tokens", "lengths", "num_tokens", "truncated")


def signature_for(tasks: Sequence[str] | None, pretokenized: bool) -> tuple[str, str]:
    """(signature, input name) serving `tasks` (None: all) from text or tokens."""
    if tasks and len(tasks) == 1:
        return (f"{tasks[0]}_tokens", "tokens") if pretokenized else (tasks[0], "text")
    return (TOKENS_SIGNATURE, "tokens") if pretokenized else (DEFAULT_SIGNATURE, "text")


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def task_output_keys() -> tuple[str, ...]:
    """Every key a task type serves (the ``serving_schema`` of each registered type), longest
    first."""
    from tfmtl.tasks import TASKS

    keys = {key for name in TASKS.names() for key in TASKS.get(name).serving_schema}
    return tuple(sorted(keys, key=lambda key: (-len(key), key)))


def split_outputs(outputs: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Groups ``<task>_<key>`` outputs by task name (keys: :func:`task_output_keys`)."""
    keys = task_output_keys()
    tasks: dict[str, dict[str, np.ndarray]] = {}
    for name, value in outputs.items():
        if name in _COMMON:
            continue
        for key in keys:
            task = name.removesuffix(f"_{key}")
            if task and task != name:
                tasks.setdefault(task, {})[key] = value
                break
    return tasks


def records(sentences: Sequence[bytes], outputs: dict[str, np.ndarray], *,
            tasks: Sequence[str] | None = None, probabilities: bool = False) -> list[dict]:
    """One JSON-ready record per sentence from a signature's outputs.

    A record holds ``text``, ``tokens``, ``num_tokens``, ``truncated`` and
    ``tasks``: per task, ``{"labels": [...], "scores": [...]}`` for a token task
    or ``{"label": ..., "score": ...}`` for a sentence task (``null`` label for a
    sentence without tokens), plus label probabilities when asked. Tasks come in
    the order of `tasks`, by name when it is None.
    """
    missing = [key for key in ("tokens", "lengths") if key not in outputs]
    if missing:
        raise ClientError(f"the model's answer lacks {', '.join(missing)}; is it a tfmtl export?")
    by_task = split_outputs(outputs)
    if tasks:
        unknown = [t for t in tasks if t not in by_task]
        if unknown:
            raise ClientError(f"--tasks: the model has no task {', '.join(unknown)}; it has "
                              f"{', '.join(sorted(by_task))}")
        by_task = {t: by_task[t] for t in tasks}
    else:
        by_task = dict(sorted(by_task.items()))
    result = []
    for row, sentence in enumerate(sentences):
        length = int(outputs["lengths"][row])
        record = {
            "text": _text(sentence),
            "tokens": [_text(t) for t in outputs["tokens"][row][:length]],
            "num_tokens": int(outputs.get("num_tokens", outputs["lengths"])[row]),
            "truncated": bool(outputs["truncated"][row]) if "truncated" in outputs else False,
            "tasks": {},
        }
        for task, values in by_task.items():
            labels = values["labels"][row]
            scores = values["scores"][row]
            classes = [_text(c) for c in values["classes"][row]] if "classes" in values else []
            entry: dict = {}
            if np.ndim(labels) == 1:
                entry["labels"] = [_text(x) for x in labels[:length]]
                entry["scores"] = [round(float(x), 6) for x in scores[:length]]
                if probabilities and classes:
                    entry["probabilities"] = [
                        {c: round(float(p), 6) for c, p in zip(classes, token, strict=True)}
                        for token in values["probabilities"][row][:length]
                    ]
            else:
                entry["label"] = _text(labels) or None
                entry["score"] = round(float(scores), 6)
                if probabilities and classes:
                    entry["probabilities"] = {
                        c: round(float(p), 6)
                        for c, p in zip(classes, values["probabilities"][row], strict=True)
                    }
            record["tasks"][task] = entry
        result.append(record)
    return result


def predict_records(predictor: Predictor, sentences: Iterable[bytes | Sequence[bytes]], *,
                    tasks: Sequence[str] | None = None, pretokenized: bool = False,
                    batch_size: int = 64, probabilities: bool = False) -> Iterator[dict]:
    """Runs `sentences` through the model in batches; yields one record per sentence, in order.

    Args:
        predictor: where the model runs.
        sentences: raw sentences (bytes), or token lists when `pretokenized`.
        tasks: tasks to report (default: all the model serves).
        pretokenized: sentences are token lists (uses the ``tokens`` signatures).
        batch_size: sentences per request.
        probabilities: add every label's probability.
    """
    if batch_size < 1:
        raise ClientError(f"--batch_size: must be >= 1, got {batch_size}")
    signature, input_name = signature_for(tasks, pretokenized)
    batch: list = []

    def run(batch):
        if pretokenized:
            width = max((len(tokens) for tokens in batch), default=0)
            values = np.full((len(batch), width), b"", dtype=object)
            for row, tokens in enumerate(batch):
                values[row, : len(tokens)] = list(tokens)
            texts = [b" ".join(tokens) for tokens in batch]
        else:
            values = np.array(batch, dtype=object)
            texts = batch
        outputs = predictor.predict(signature, input_name, values)
        return records(texts, outputs, tasks=tasks, probabilities=probabilities)

    for sentence in sentences:
        batch.append(sentence)
        if len(batch) == batch_size:
            yield from run(batch)
            batch = []
    if batch:
        yield from run(batch)


def format_json(record: dict) -> str:
    """One JSON line."""
    return json.dumps(record, ensure_ascii=False)


def format_columns(record: dict, *, scores: bool = False) -> str:
    """A sentence as aligned columns: index, token, then one label column per token task.

    Sentence-level labels and truncation come first as ``#`` comment lines; a
    blank line ends the sentence.
    """
    lines = [f"# text: {record['text']}"]
    tasks = record["tasks"]
    token_tasks = [t for t, entry in tasks.items() if "labels" in entry]
    sentence_tasks = [t for t, entry in tasks.items() if "label" in entry]
    for task in sentence_tasks:
        entry = tasks[task]
        label = entry["label"] if entry["label"] is not None else "-"
        lines.append(f"# {task}: {label}" + (f" ({entry['score']:.3f})" if scores else ""))
    if record["truncated"]:
        lines.append(f"# truncated: {record['num_tokens']} tokens, labels for the first "
                     f"{len(record['tokens'])}")
    if not record["tokens"]:
        lines.append("# (no tokens)")
    else:
        header = ["#", "token", *token_tasks]
        rows = []
        for index, token in enumerate(record["tokens"]):
            row = [str(index + 1), token]
            for task in token_tasks:
                label = tasks[task]["labels"][index]
                row.append(f"{label} {tasks[task]['scores'][index]:.3f}" if scores else label)
            rows.append(row)
        widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
        for row in [header, *rows]:
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                          strict=True)).rstrip())
    return "\n".join(lines) + "\n"
