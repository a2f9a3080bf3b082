r"""tfmtl-export: writes a trained workdir as a versioned SavedModel for TensorFlow Serving.

    tfmtl-export --workdir=runs/quickstart --export_base=exports --name=quickstart \
        [--version=N] [--tasks=pos,chunk] [--tokenizer=whitespace|treebank] \
        [--tokenizer_ops=core|tensorflow_text] \
        [--checkpoint=best|latest] [--max_length=N]

Writes exports/quickstart/N/ (the next free version by default) through a
temporary folder renamed into place, updates exports/models.config, and prints
the signatures and the command that serves the model with TF Serving.
"""

from tfmtl.cli.common import quiet_tensorflow, run_main

quiet_tensorflow()

from absl import app, flags  # noqa: E402

_WORKDIR = flags.DEFINE_string("workdir", None, "A workdir written by tfmtl-train.")
_EXPORT_BASE = flags.DEFINE_string(
    "export_base", None, "Folder of exported models: the export goes to BASE/NAME/VERSION and "
    "BASE/models.config lists the models for TF Serving.")
_NAME = flags.DEFINE_string("name", None, "Model name, as TF Serving clients ask for it.")
_VERSION = flags.DEFINE_integer("version", None, "Version number (default: the next free one); "
                                "an existing version is never overwritten.")
_TASKS = flags.DEFINE_list("tasks", None, "Tasks to export (default: every task but the "
                           "auxiliary objectives, or as tasks.<name>.export says); the others' "
                           "heads and unused layers stay out of the graph.")
_TOKENIZER = flags.DEFINE_enum(
    "tokenizer", None, ["whitespace", "treebank"], "In-graph tokenizer of the text signatures "
    "(default: treebank when a task read CoNLL/CoNLL-U, else whitespace).")
_TOKENIZER_OPS = flags.DEFINE_enum(
    "tokenizer_ops", "core", ["core", "tensorflow_text"], "Ops the tokenizer runs on: core "
    "TensorFlow (any runtime, saved_model_cli included) or tensorflow_text.regex_split (needs "
    "tensorflow-text's ops where the model loads; TF Serving links them). Same tokens.")
_CHECKPOINT = flags.DEFINE_enum("checkpoint", "best", ["best", "latest"], "Weights to export.")
_MAX_LENGTH = flags.DEFINE_integer(
    "max_length", None, "Most tokens read per sentence, longer ones are truncated and flagged "
    "(default: the config's data.max_length, or 512 when it is 0; 0: no limit).")
flags.mark_flags_as_required(["workdir", "export_base", "name"])


def _describe(result) -> str:
    signatures = result.signatures
    lines = [f"exported {', '.join(result.tasks)} to {result.path}",
             f"tokenizer: {result.tokenizer}; max_length: {result.max_length or 'none'}",
             "signatures (text: string [batch] raw sentences; tokens: string [batch, max_tokens], "
             "\"\" as padding):"]
    for name, signature in signatures.items():
        (input_name,) = signature["inputs"]
        tasks = sorted({key.rpartition("_")[0] for key in signature["outputs"]} - {""})
        tasks = [t for t in tasks if t in result.tasks]
        lines.append(f"  {name}({input_name}) -> {', '.join(tasks)}")
    lines.append("outputs of serving_default:")
    for key, out in signatures["serving_default"]["outputs"].items():
        lines.append(f"  {key}: {out['dtype']} {out['shape']}  {out['doc']}")
    lines += [f"TF Serving config: {result.models_config}", "serve it with:",
              f"  {result.serve_command()}", "or with Docker:", f"  {result.docker_command()}"]
    return "\n".join(lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")

    def body():
        from tfmtl.export.exporter import export_saved_model

        result = export_saved_model(
            _WORKDIR.value, _EXPORT_BASE.value, _NAME.value, version=_VERSION.value,
            tasks=_TASKS.value, tokenizer=_TOKENIZER.value, tokenizer_ops=_TOKENIZER_OPS.value,
            checkpoint=_CHECKPOINT.value,
            max_length=_MAX_LENGTH.value,
        )
        print(_describe(result), flush=True)

    run_main("tfmtl-export", body)


def run():
    app.run(main)


if __name__ == "__main__":
    run()
