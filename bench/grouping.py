r"""Which tasks to train together, measured: tfmtl-group's methods against the exhaustive
ground truth, through the run store.

    synthetic  configs/grouping_synthetic.py  POS, chunks and NER of the synthetic corpus,
               twice: NER following the chunks (``chunks``) and NER a lexical hash of the
               word form (``lexical``). Exhaustive search at budgets 2 and 3; the check,
               at budget 3 (where every task can afford a network of its own): NER
               shares its network with a related task when it has them (``chunks``), and
               trains alone when it has none (``lexical``).
    five       configs/grouping_five.py  CoNLL-2000 chunking and POS, UD EWT UPOS, WNUT-17
               NER and sentence polarity (MR of the deduplicated split, written first by
               tfmtl-data split into --split_dir). Every method (exhaustive: all 31
               groups; ESA at --fraction; HOA; TAG's one joint run) at budgets 2 to 5.

    python bench/grouping.py --bench=five [--runs_dir=runs/store] [--workers=1]
        [--out=runs/bench_grouping] [--summary=bench/results/grouping_five.json]
    python bench/grouping.py --bench=five --from_summary   # the tables, nothing trained

For ``five``, each method's pick at each budget is scored with the exhaustive runs
(:func:`tfmtl.grouping.search.evaluate`: each task by its best chosen network, on dev;
its test loss in that network): its gap to the exhaustive optimum's total dev loss (%),
its test total, its regret normalised by the mean regret of a random feasible pick
(every cover of the tasks by at most B full-size groups, equally likely), and the
compute each method spent (task-trainings x steps, and the runs' wall-clock seconds) as
a ratio to exhaustive. A killed benchmark resumes: the store keeps every finished run.
The tables' inputs (every network's dev and test losses, run ids, wall seconds, TAG's
affinities, each method's picks) are written to --summary (committed), from which
--from_summary prints the same tables without a store.
"""

import itertools
import json
import os
import shutil
import statistics
import sys

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # (Loaded by path: tests.)
from bench_sweep import REPO, SHARED, prepare_split  # noqa: E402

BENCHMARKS = {
    # name: (config variants, budgets, methods)
    "synthetic": (("grouping_synthetic.py:chunks", "grouping_synthetic.py:lexical"),
                  ("2", "3"), "exhaustive"),
    "five": (("grouping_five.py",), ("2", "3", "4", "5"), "all"),
}

_BENCH = flags.DEFINE_enum("bench", None, list(BENCHMARKS), "The benchmark.")
_SHARED = flags.DEFINE_string(
    "shared_data", os.environ.get("TFMTL_SHARED_DATA", SHARED), "The folder of the shared "
    "corpora (default $TFMTL_SHARED_DATA, else ../shared/data beside the repository).")
_SPLIT_DIR = flags.DEFINE_string("split_dir", "runs/sentiment_split",
                                 "five: where tfmtl-data split writes the MR/SUBJ/SST split.")
_OVERRIDES = flags.DEFINE_multi_string("override", [], "Extra KEY=VALUE for every network.")
_OUT = flags.DEFINE_string("out", "runs/bench_grouping", "Folder of the searches' workdirs.")
_RUNS_DIR = flags.DEFINE_string("runs_dir", os.path.join("runs", "store"), "The run store.")
_EXECUTOR = flags.DEFINE_enum("executor", "local", ["local", "ray"], "Where runs execute.")
_WORKERS = flags.DEFINE_integer("workers", 1, "local: runs at a time.", lower_bound=1)
_RAY_ADDRESS = flags.DEFINE_string("ray_address", "", "ray: the cluster (\"\": a local Ray).")
_FRACTION = flags.DEFINE_float("fraction", 0.2, "ESA's fraction of the steps.")
_AFFINITY_EVERY = flags.DEFINE_integer("affinity_every", 10, "TAG: steps between lookaheads.")
_SEED = flags.DEFINE_integer("seed", 0, "The networks' seed.")
_SUMMARY = flags.DEFINE_string(
    "summary", None, "The tables' inputs as JSON (default bench/results/grouping_<bench>.json; "
    "\"\": none).")
_FROM_SUMMARY = flags.DEFINE_bool("from_summary", False, "Print the tables from --summary; "
                                  "train nothing.")
_FIGURES = flags.DEFINE_string(
    "figures", None, "five: copy the heatmap and budget curve here (default bench/results; "
    "\"\": none).")
flags.mark_flag_as_required("bench")


def summary_path(bench: str, flag: str | None) -> str:
    return os.path.join(REPO, "bench", "results", f"grouping_{bench}.json") if flag is None \
        else flag


def search(config: str, workdir: str, budgets, methods: str, overrides, *, runs_dir: str,
           executor: str = "local", workers: int = 1, ray_address: str = "",
           fraction: float = 0.2, affinity_every: int = 10, seed: int = 0):
    """One tfmtl-group search (the binary's engine); its outcome."""
    from tfmtl.grouping.search_run import GroupingRequest, run_grouping

    return run_grouping(GroupingRequest(
        config=os.path.join(REPO, "configs", config), workdir=workdir, budgets=budgets,
        overrides=tuple(overrides), methods=methods, fraction=fraction, score="loss",
        affinity_every=affinity_every, runs_dir=runs_dir, executor=executor,
        workers=workers, ray_address=ray_address, progress=False, seed=seed))


def search_summary(workdir: str, runs_dir: str | None) -> dict:
    """What a search's tables are computed from: its groups.json, networks.json (with each
    run's wall-clock seconds from the store) and TAG's affinities."""
    from tfmtl.grouping.search_run import GROUPS_FILE, NETWORKS_FILE
    from tfmtl.grouping.trainings import read_affinity

    with open(os.path.join(workdir, GROUPS_FILE), encoding="utf-8") as stream:
        groups = json.load(stream)
    with open(os.path.join(workdir, NETWORKS_FILE), encoding="utf-8") as stream:
        networks = json.load(stream)
    store = None
    if runs_dir:
        from tfmtl.runs import RunStore

        store = RunStore(runs_dir)
    affinity = None
    for network in networks:
        record = store.record(network["run_id"]) if store else None
        network["wall_s"] = attempts_seconds(record["attempts"]) if record else None
        if network["affinity"] and network["status"] == "finished":
            affinity = read_affinity(network["workdir"])
        network.pop("workdir", None)
    return {"groups": groups, "networks": networks, "affinity": affinity}


def attempts_seconds(attempts) -> float:
    """A run's wall-clock seconds over its attempts. An attempt killed before it could
    record its time counts until the next attempt started (an upper bound); a last one
    without a time counts nothing."""
    from datetime import datetime

    total = 0.0
    for index, attempt in enumerate(attempts):
        if attempt.get("wall_s") is not None:
            total += attempt["wall_s"]
        elif index + 1 < len(attempts):
            start, restart = (datetime.strptime(a["started"], "%Y-%m-%dT%H:%M:%S%z")
                              for a in (attempt, attempts[index + 1]))
            total += (restart - start).total_seconds()
    return total


def _scores(networks, split: str, fraction: float = 1.0) -> dict:
    """``{frozenset(tasks): {task: loss}}`` of the finished full-size networks at a
    fraction (TAG's affinity run left out)."""
    return {frozenset(n["tasks"]): n[split] for n in networks
            if n["status"] == "finished" and n["size"] == "full" and not n["affinity"]
            and n["fraction"] == fraction}


def _network(entry):
    from tfmtl.grouping.networks import Network

    return Network(frozenset(entry["tasks"]), entry.get("size", "full"))


def knob_table(summaries: dict) -> tuple[str, dict]:
    """The synthetic check: per NER mode, NER's dev loss with each other task relative to
    alone, the exhaustive picks, and whether NER shares its network. The check is at the
    largest budget (every task can train alone there): shared when NER follows the chunks,
    alone when it is lexical; smaller budgets are shown, not checked (a shortage of
    networks may force a pairing)."""
    lines = ["| NER column | ner with chunk / alone | ner with pos / alone | budget | "
             "exhaustive pick | NER shares | expected |", "|---|---|---|---|---|---|---|"]
    checks = {}
    for mode, summary in summaries.items():
        dev = _scores(summary["networks"], "dev")
        alone = dev.get(frozenset({"ner"}), {}).get("ner")
        cells = []
        for other in ("chunk", "pos"):
            pair = dev.get(frozenset({"ner", other}), {}).get("ner")
            cells.append(f"{pair / alone:.3f}" if pair is not None and alone else "–")
        expected = mode == "chunks"
        picks = summary["groups"]["methods"]["exhaustive"]
        last = max(picks, key=float)
        for budget, pick in sorted(picks.items(), key=lambda kv: float(kv[0])):
            network = pick["networks"][pick["per_task"]["ner"]["network"]]
            shares = len(network["tasks"]) > 1
            if budget == last:
                checks[f"{mode}@{budget}"] = shares == expected
            label = " + ".join("{" + ",".join(n["tasks"]) + "}" for n in pick["networks"])
            wanted = ("yes" if expected else "no") if budget == last else "(not checked)"
            lines.append(f"| {mode} | {cells[0]} | {cells[1]} | {budget} | {label} | "
                         f"{'yes' if shares else 'no'} | {wanted} |")
    return "\n".join(lines) + "\n", checks


def feasible_covers(tasks, groups, budget: int):
    """Every set of at most `budget` groups (each a frozenset) that covers `tasks`."""
    everything = frozenset(tasks)
    for size in range(1, budget + 1):
        for chosen in itertools.combinations(groups, size):
            if frozenset().union(*chosen) == everything:
                yield chosen


def method_table(summary: dict) -> tuple[str, dict]:
    """For each budget and method: the pick scored by the exhaustive runs against the
    optimum, normalised regret, and the methods' compute as a ratio to exhaustive."""
    from tfmtl.grouping.estimates import measured
    from tfmtl.grouping.networks import Network
    from tfmtl.grouping.plan import plan_runs
    from tfmtl.grouping.search import evaluate

    groups = summary["groups"]
    tasks = groups["tasks"]
    networks = summary["networks"]
    dev, test = _scores(networks, "dev"), _scores(networks, "test")
    truth = measured(dev, tasks)
    truth_test = measured(test, tasks)
    candidates = list(dev)
    rows, data = [], {}
    # Compute: each method's plan alone, in task-trainings (steps are equal) and in the
    # wall-clock seconds of the runs it reads.
    fraction = next((n["fraction"] for n in networks if n["fraction"] != 1.0), 0.2)
    compute = {}
    for method in ("exhaustive", "esa", "hoa", "tag"):
        plan = plan_runs(tasks, method, fraction=fraction)
        keys = {run.key for run in plan.runs}
        compute[method] = (plan.task_trainings, sum(
            n["wall_s"] or 0.0 for n in networks
            if (_network(n), n["fraction"], n["affinity"]) in keys))
    for budget in sorted(groups["methods"]["exhaustive"], key=float):
        optimum = groups["methods"]["exhaustive"][budget]["total"]
        randoms = [evaluate([Network(g) for g in cover], truth).total - optimum
                   for cover in feasible_covers(tasks, candidates, int(float(budget)))]
        random_regret = statistics.mean(randoms)
        data[budget] = {"optimum": optimum, "random_regret": random_regret,
                        "random_gap_pct": 100 * random_regret / optimum, "methods": {}}
        for method in ("exhaustive", "esa", "hoa", "tag"):
            pick = groups["methods"].get(method, {}).get(budget)
            if pick is None:
                continue
            chosen = [_network(n) for n in pick["networks"]]
            scored = evaluate(chosen, truth)
            test_total = sum(truth_test.score(scored.networks[e.network], t)
                             for t, e in scored.per_task.items())
            gap = 100 * (scored.total - optimum) / optimum
            regret = (scored.total - optimum) / random_regret if random_regret else 0.0
            # The networks the method chose (evaluate drops those that score no task).
            label = " + ".join("{" + ",".join(n.sorted_tasks(tasks)) + "}" for n in chosen)
            data[budget]["methods"][method] = {
                "networks": [n.sorted_tasks(tasks) for n in scored.networks],
                "dev_total": scored.total, "test_total": test_total, "gap_pct": gap,
                "normalised_regret": regret}
            rows.append(f"| {budget} | {method} | {label} | {scored.total:.4f} | "
                        f"{test_total:.4f} | {gap:+.2f}% | {regret:.2f} |")
        rows.append(f"| {budget} | random (mean of {len(randoms)}) | – | "
                    f"{optimum + random_regret:.4f} | – | "
                    f"{100 * random_regret / optimum:+.2f}% | 1.00 |")
    table = ["| budget | method | pick | dev loss total | test loss total | gap to optimum "
             "(dev) | regret / random |", "|---|---|---|---|---|---|---|", *rows, "",
             "| method | task-trainings | / exhaustive | wall-clock s | / exhaustive |",
             "|---|---|---|---|---|"]
    base_trainings, base_seconds = compute["exhaustive"]
    for method, (trainings, seconds) in compute.items():
        ratio = seconds / base_seconds if base_seconds else 0.0
        table.append(f"| {method} | {trainings:g} | {trainings / base_trainings:.3f} | "
                     f"{seconds:.0f} | {ratio:.3f} |")
    return "\n".join(table) + "\n", {"budgets": data, "compute": {
        m: {"task_trainings": c[0], "wall_s": c[1]} for m, c in compute.items()}}


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    bench = _BENCH.value
    configs, budgets, methods = BENCHMARKS[bench]
    path = summary_path(bench, _SUMMARY.value)
    if _FROM_SUMMARY.value:
        with open(path, encoding="utf-8") as stream:
            summaries = json.load(stream)
    else:
        overrides = list(_OVERRIDES.value)
        if bench == "five":
            overrides.insert(0, f"data_dir={os.path.abspath(_SHARED.value)}")
            mr = os.path.join(prepare_split(_SPLIT_DIR.value, _SHARED.value), "mr")
            overrides[1:1] = [f"tasks.polarity.data.{split}={os.path.join(mr, split)}.tsv"
                              for split in ("train", "dev", "test")]
        summaries = {}
        for config in configs:
            name = config.split(":")[-1].removesuffix(".py")
            workdir = os.path.join(_OUT.value, bench, name)
            outcome = search(config, workdir, budgets, methods, overrides,
                             runs_dir=_RUNS_DIR.value, executor=_EXECUTOR.value,
                             workers=_WORKERS.value, ray_address=_RAY_ADDRESS.value,
                             fraction=_FRACTION.value, affinity_every=_AFFINITY_EVERY.value,
                             seed=_SEED.value)
            print(f"## {name}\n\n{outcome.tables}")
            summaries[name] = search_summary(workdir, _RUNS_DIR.value)
            figures = os.path.join(REPO, "bench", "results") if _FIGURES.value is None \
                else _FIGURES.value
            if bench == "five" and figures:
                for key, out in (("pairs", "grouping_five_pairs.png"),
                                 ("budget", "grouping_five_budget.png")):
                    if key in outcome.paths:
                        shutil.copyfile(outcome.paths[key], os.path.join(figures, out))
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            from tfmtl.files import atomic_write_text

            atomic_write_text(path, json.dumps(summaries, indent=1, sort_keys=True) + "\n")
    if bench == "synthetic":
        table, checks = knob_table(summaries)
        print(table)
        print("knob check: " + ", ".join(f"{k} {'pass' if v else 'FAIL'}"
                                         for k, v in checks.items()))
        return 0 if all(checks.values()) else 1
    table, _ = method_table(summaries["grouping_five"])
    print(table)
    return 0


if __name__ == "__main__":
    app.run(main)
