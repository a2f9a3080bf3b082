"""MultiWorkerMirroredStrategy: two ``tfmtl-train`` workers on 127.0.0.1.

Two workers, each taking half of every global batch, end with the weights of
one process training on the whole batch; only the chief
(``strategy.extended.should_checkpoint``, worker 0) writes the workdir; and
after one worker is killed with SIGKILL and both are restarted with the same
command, they resume from the chief's last checkpoint and end with exactly
the checkpoint of an uninterrupted two-worker run (slow: ``--runslow``).

Every worker gets its own log file and its own TMPDIR (where a worker other
than the chief keeps its scratch checkpoints); every wait has a timeout and
every process this file starts is killed when a test ends.
"""

import json
import os
import signal
import socket
import subprocess
import time

import numpy as np
import pytest

from tests.cli_helpers import TINY_CONFIG, binary_command, checkpoint_values, env
from tests.conftest import REPO_ROOT

# Module fixtures: with pytest-xdist, every test of this file on one worker.
pytestmark = pytest.mark.xdist_group("multi_worker")

STEPS = 40
# No dropout (each replica would draw its own masks) and no bucketing, as in
# test_distribute.py; a checkpoint every 10 steps, so that a worker can be killed after one.
ARGS = [f"--config={TINY_CONFIG}", f"--config.training.steps={STEPS}",
        "--config.training.eval_every=20", "--config.training.checkpoint_every=10",
        "--config.model.embeddings.text.dropout=0.0", "--config.model.encoders.shared.dropout=0.0",
        "--config.training.buckets=0"]
MULTI_WORKER = "--config.distribute.strategy=multi_worker"
TIMEOUT = 420  # seconds one session of the workers may take
WEIGHTS = "optimizer/_trainable_variables/"


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _latest(workdir) -> str | None:
    import tensorflow as tf

    return tf.train.latest_checkpoint(os.path.join(str(workdir), "checkpoints"))


def _step(path: str) -> int:
    return int(path.rsplit("-", 1)[1])


def _files(folder) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), folder)
            for d, _, files in os.walk(folder) for f in files}


def _scratch(tmpdir) -> list[str]:
    """What tfmtl left in a worker's TMPDIR (a SIGKILLed TensorFlow leaves its own files)."""
    return [name for name in os.listdir(tmpdir) if name.startswith("tfmtl")]


class Processes:
    """``tfmtl-train`` processes started with `commands` (one per process), sharing nothing
    but what their commands and environments say. :meth:`start` may be called again once the
    previous processes have exited: the same commands, the same ports."""

    def __init__(self, root, commands: list[list[str]], envs: list[dict]):
        self.root = root
        self.commands = commands
        self.envs = envs
        self.processes: list[subprocess.Popen] = []
        self.logs: list[str] = []
        self.sessions = 0

    def start(self) -> None:
        assert all(p.poll() is not None for p in self.processes), "old processes still running"
        self.sessions += 1
        self.processes = []
        for index, (command, e) in enumerate(zip(self.commands, self.envs, strict=True)):
            log = self.root / f"process{index}-session{self.sessions}.log"
            self.logs.append(str(log))
            with open(log, "wb") as out:
                self.processes.append(subprocess.Popen(
                    command, env=e, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT))

    def wait(self, timeout: float = TIMEOUT) -> list[int]:
        """Waits for every process to exit (killing all on timeout); their exit codes."""
        deadline = time.monotonic() + timeout
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(timeout=max(deadline - time.monotonic(), 0.1)))
            except subprocess.TimeoutExpired:
                self.kill()
                pytest.fail(f"processes still running after {timeout} s\n{self.tails()}")
        return codes

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass

    def log(self, index: int) -> str:
        """The output of process `index` in the latest session."""
        with open(self.logs[-len(self.processes) + index], errors="replace") as f:
            return f.read()

    def tails(self, lines: int = 30) -> str:
        parts = []
        for path in self.logs:
            with open(path, errors="replace") as f:
                tail = f.read().splitlines()[-lines:]
            parts.append(f"--- {os.path.basename(path)}\n" + "\n".join(tail))
        return "\n".join(parts)


def _workers(root) -> Processes:
    """Two workers of one cluster on free loopback ports, training into one workdir."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    command = binary_command("train", f"--workdir={root / 'workdir'}", *ARGS, MULTI_WORKER)
    envs = []
    for index in range(2):
        (root / f"tmp{index}").mkdir(parents=True)
        e = env()
        e["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker",
                                                                   "index": index}})
        e["TMPDIR"] = str(root / f"tmp{index}")
        envs.append(e)
    return Processes(root, [command, command], envs)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """The workdir of the config trained in one process, without a strategy."""
    root = tmp_path_factory.mktemp("one_process")
    run = Processes(root, [binary_command("train", f"--workdir={root / 'workdir'}", *ARGS)],
                    [env()])
    try:
        run.start()
        assert run.wait() == [0], run.tails()
    finally:
        run.kill()
    assert _latest(root / "workdir").endswith(f"ckpt-{STEPS}")
    return root / "workdir"


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """The two workers of an uninterrupted run, after it ended."""
    workers = _workers(tmp_path_factory.mktemp("two_workers"))
    try:
        workers.start()
        assert workers.wait() == [0, 0], workers.tails()
    finally:
        workers.kill()
    return workers


@pytest.mark.slow  # two tfmtl-train workers: about a minute.
def test_two_workers_end_with_the_weights_of_one_process(two_workers, one_process):
    workdir = two_workers.root / "workdir"
    assert _latest(workdir).endswith(f"ckpt-{STEPS}")
    actual = checkpoint_values(_latest(workdir), prefix=WEIGHTS)
    expected = checkpoint_values(_latest(one_process), prefix=WEIGHTS)
    assert actual.keys() == expected.keys()
    assert len(expected) > 10
    # Each worker computes half of every batch's gradient: the sums' order differs (the
    # largest difference seen here after 40 steps: 8e-8).
    for name, value in expected.items():
        np.testing.assert_allclose(actual[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.slow  # shares the two-worker fixture.
def test_only_the_chief_writes_the_workdir(two_workers, one_process):
    workdir = two_workers.root / "workdir"
    # Exactly the files of a one-process run (one TensorBoard event file, whatever its name):
    # had the second worker written here too, there would be a second event file.
    names = {"tensorboard/*" if name.startswith("tensorboard/") else name
             for name in _files(workdir)}
    expected = {"tensorboard/*" if name.startswith("tensorboard/") else name
                for name in _files(one_process)}
    assert names == expected
    assert len(os.listdir(workdir / "tensorboard")) == 1
    with open(workdir / "command.txt") as f:
        assert f.read().count("\n# ") == 0, "more than one entry in command.txt"
    # The non-chief saved into its own scratch folder, removed when it ended.
    assert _files(two_workers.root / "tmp0") == set()
    assert _files(two_workers.root / "tmp1") == set(), "the non-chief left its scratch files"
    # Both workers trained and evaluated (the same weights, so the same scores).
    final = [line for line in two_workers.log(0).splitlines() if line.startswith("test ")]
    assert final and final == [line for line in two_workers.log(1).splitlines()
                               if line.startswith("test ")]


# Slow: two sessions of two workers, 1.5 to 3 minutes each on two cores.
@pytest.mark.slow
@pytest.mark.parametrize("killed", [1, 0], ids=["non_chief_killed", "chief_killed"])
def test_killed_worker_resumes_to_the_checkpoint_of_an_uninterrupted_run(
        tmp_path, two_workers, killed):
    workers = _workers(tmp_path)
    workdir = tmp_path / "workdir"
    try:
        workers.start()
        deadline = time.monotonic() + TIMEOUT
        while not (_latest(workdir) and _step(_latest(workdir)) >= 10):
            if any(p.poll() is not None for p in workers.processes):
                pytest.fail(f"a worker exited before the first checkpoint\n{workers.tails()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no checkpoint within {TIMEOUT} s\n{workers.tails()}")
            time.sleep(0.02)
        workers.processes[killed].send_signal(signal.SIGKILL)
        # The survivor's collectives fail within seconds ("Connection reset by peer"); the
        # restart waits until it has exited (a port still held makes the new cluster hang).
        codes = workers.wait(timeout=120)
        assert codes[killed] == -signal.SIGKILL
        assert codes[1 - killed] != 0, "the survivor finished although its peer was killed"
        killed_at = _step(_latest(workdir))
        assert killed_at < STEPS, "the run finished before the worker was killed"

        workers.start()
        assert workers.wait() == [0, 0], workers.tails()
    finally:
        workers.kill()
    for index in range(2):
        assert f"resumed from step {killed_at}" in workers.log(index), workers.tails()
    assert _latest(workdir).endswith(f"ckpt-{STEPS}")
    # What a killed non-chief left in its scratch folder went when it restarted.
    assert _scratch(tmp_path / "tmp0") == _scratch(tmp_path / "tmp1") == []
    # Everything, bit for bit: weights, optimizer moments and iterations, run state.
    expected = checkpoint_values(_latest(two_workers.root / "workdir"))
    actual = checkpoint_values(_latest(workdir))
    assert expected.keys() == actual.keys()
    assert len([name for name in expected if name.startswith(WEIGHTS)]) > 10
    for name, value in expected.items():
        np.testing.assert_array_equal(actual[name], value, err_msg=name)
