"""The results archive: finished runs carried to a store that never had them (nothing trains)."""

import json
import lzma

import pytest

from tests.runs.conftest import MINI_CONFIG
from tests.runs.test_report import fill
from tfmtl.runs import RunsError, RunStore, Sweep, Variant, sweep_report
from tfmtl.runs.results_archive import pack, read_archive, unpack


def _sweep():
    return Sweep(MINI_CONFIG, [Variant("base"), Variant("ratio", ("tasks.label.mixing_ratio=2",))],
                 seeds=[0, 1])


def _filled(root):
    sweep, store = _sweep(), RunStore(str(root))
    for number, cell in enumerate(sweep.runs):
        fill(store, cell.run, accuracy_right=8 + 3 * number, f1=float(number))
    return sweep, store


def test_a_packed_sweep_reports_the_same_from_a_new_store(tmp_path):
    sweep, store = _filled(tmp_path / "old")
    archive = str(tmp_path / "results.jsonl.xz")
    assert sorted(pack(store, [r.id for r in sweep.unique_runs()], archive)) == sorted(
        r.id for r in sweep.unique_runs())
    old = sweep_report(sweep.execute(store, progress=False), resamples=200)

    fresh = RunStore(str(tmp_path / "new"))
    result = _sweep().execute(fresh, progress=False, results=archive)
    assert result.trained == 0 and result.cached == 4 and result.failed == 0
    new = sweep_report(result, resamples=200)
    assert new["metrics"] == old["metrics"]
    record = fresh.record(sweep.runs[0].run.id)
    assert record["status"] == "finished" and record["imported_from"] == archive
    # Packing an imported run again leaves no trace of where it came from.
    pack(fresh, [sweep.runs[0].run.id], archive)
    assert "imported_from" not in read_archive(archive)[sweep.runs[0].run.id]["record"]


def test_only_finished_runs_are_packed_and_entries_are_kept(tmp_path):
    sweep, store = _filled(tmp_path / "store")
    first, second = sweep.runs[0].run.id, sweep.runs[1].run.id
    archive = str(tmp_path / "results.jsonl.xz")
    pack(store, [first], archive)
    store.write_record(second, {"id": second, "status": "running"})
    assert pack(store, [second], archive) == []
    assert list(read_archive(archive)) == [first]


def test_unpack_adds_only_the_runs_asked_for_and_missing(tmp_path):
    sweep, store = _filled(tmp_path / "store")
    ids = [r.id for r in sweep.unique_runs()]
    archive = str(tmp_path / "results.jsonl.xz")
    pack(store, ids, archive)
    fresh = RunStore(str(tmp_path / "fresh"))
    assert unpack(fresh, archive, ids[:1]) == ids[:1]
    assert fresh.runs() == ids[:1]
    assert unpack(fresh, archive, ids[:1]) == []  # Already finished there.
    assert read_archive(str(tmp_path / "none.jsonl.xz")) == {}


def _rewrite(archive, edit):
    with lzma.open(archive, "rt", encoding="utf-8") as f:
        entries = [json.loads(line) for line in f]
    edit(entries)
    with lzma.open(archive, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(e) + "\n" for e in entries)


def test_an_edited_entry_is_refused_with_its_line(tmp_path):
    sweep, store = _filled(tmp_path / "store")
    archive = str(tmp_path / "results.jsonl.xz")
    pack(store, [r.id for r in sweep.unique_runs()], archive)

    def edit(entries):
        entries[1]["identity"]["config"]["training.steps"] = 1

    _rewrite(archive, edit)
    with pytest.raises(RunsError, match=r"results\.jsonl\.xz:2: run \w+: the id is not the hash"):
        read_archive(archive)

    def drop(entries):
        del entries[0]["metrics"]

    pack(store, [r.id for r in sweep.unique_runs()], str(tmp_path / "b.jsonl.xz"))
    _rewrite(str(tmp_path / "b.jsonl.xz"), drop)
    with pytest.raises(RunsError, match=r"b\.jsonl\.xz:1: entry lacks 'metrics'"):
        read_archive(str(tmp_path / "b.jsonl.xz"))
    (tmp_path / "c.jsonl.xz").write_text("not xz")
    with pytest.raises(RunsError, match=r"c\.jsonl\.xz: not an LZMA"):
        read_archive(str(tmp_path / "c.jsonl.xz"))


class _SeesTheArchive:
    """An executor that finishes the first run (fills the store) and looks at the archive
    while the sweep is still running (a SIGKILL now would lose nothing finished)."""

    name = "looks"

    def __init__(self, archive):
        self.archive, self.seen = archive, None

    def execute(self, store, runs, event):
        event("started", runs[0].id)
        fill(store, runs[0], accuracy_right=10, f1=1.0)
        event("finished", runs[0].id)
        self.seen = list(read_archive(self.archive))
        return {runs[0].id: "finished"}


def test_a_run_is_archived_when_it_finishes_not_when_the_sweep_ends(tmp_path):
    sweep, store = _sweep(), RunStore(str(tmp_path / "store"))
    archive = str(tmp_path / "results.jsonl.xz")
    executor = _SeesTheArchive(archive)
    sweep.execute(store, executor, progress=False, results=archive)
    assert executor.seen == [sweep.unique_runs()[0].id]


def test_edited_metrics_are_refused_when_unpacked_and_entries_are_kept(tmp_path):
    sweep, store = _filled(tmp_path / "store")
    ids = [r.id for r in sweep.unique_runs()]
    archive = str(tmp_path / "results.jsonl.xz")
    pack(store, ids, archive)
    before = read_archive(archive)
    # The same run finished again elsewhere with other numbers: the archive keeps its entry.
    fill(store, sweep.runs[0].run, accuracy_right=20, f1=9.0)
    assert pack(store, ids, archive) == [] and read_archive(archive) == before

    def edit(entries):
        entries[0]["metrics"]["test"]["label"]["accuracy"] = 99.0

    _rewrite(archive, edit)
    with pytest.raises(RunsError, match=r"the stored predictions score .* \(the entry was "
                                        r"edited\)"):
        unpack(RunStore(str(tmp_path / "fresh")), archive)
