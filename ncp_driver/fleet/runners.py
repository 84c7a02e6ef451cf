"""Running the drives in parallel: a local pool of processes, or Ray tasks on a cluster.

Both run :func:`ncp_driver.fleet.work.evaluate_drive` on each drive, so their results are the
same. The local pool starts one process per drive (at most ``jobs`` at once, forked from a
server that has imported the replay already), and ends a drive's process when it runs past the
timeout. On Ray, each drive is a task (one CPU); at most as many tasks as the cluster has CPUs
are in flight, so a task's time is counted from about when it starts; a task past the timeout
is cancelled. A Ray task writes into a temporary folder on its worker and returns the files,
which this process puts into the cache: only the drives need to be on shared storage.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ncp_driver.atomic import atomic_write_bytes
from ncp_driver.fleet.errors import FleetError
from ncp_driver.fleet.work import DriveOutcome, DriveTask, evaluate_drive, failed

__all__ = ["RAY_INSTALL", "run_local", "run_ray"]

RAY_INSTALL = "pip install 'ncp-driver[fleet]'"
Done = Callable[[DriveOutcome], None]


def _child(task: DriveTask, cache_dir: Path, conn: multiprocessing.connection.Connection) -> None:
    try:
        conn.send(evaluate_drive(task, cache_dir))
    finally:
        conn.close()


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["ncp_driver.fleet.work"])
        return ctx
    return multiprocessing.get_context("spawn")


def run_local(
    tasks: Sequence[DriveTask],
    cache_dir: Path,
    jobs: int,
    timeout_s: float | None,
    on_done: Done | None = None,
) -> list[DriveOutcome]:
    """Every task in its own process, ``jobs`` at a time; outcomes in task order."""
    ctx = _context()
    pending = deque(tasks)
    running: dict[int, tuple[Any, Any, float, DriveTask]] = {}
    outcomes: dict[int, DriveOutcome] = {}

    def finish(outcome: DriveOutcome) -> None:
        outcomes[outcome.index] = outcome
        if on_done is not None:
            on_done(outcome)

    try:
        while pending or running:
            while pending and len(running) < max(jobs, 1):
                task = pending.popleft()
                receive, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(
                    target=_child, args=(task, cache_dir, send), name=f"ncp-eval-{task.index}"
                )
                proc.start()
                send.close()
                running[task.index] = (proc, receive, time.monotonic(), task)
            waitables = [r for _, r, _, _ in running.values()]
            waitables += [p.sentinel for p, _, _, _ in running.values()]
            multiprocessing.connection.wait(waitables, timeout=0.5)
            for index in list(running):
                proc, receive, begin, task = running[index]
                elapsed = time.monotonic() - begin
                outcome: DriveOutcome | None = None
                if receive.poll():
                    try:
                        outcome = receive.recv()
                    except EOFError:
                        outcome = None
                    if outcome is None:
                        proc.join()
                        outcome = failed(
                            task, f"worker ended without a result (exit {proc.exitcode})", elapsed
                        )
                elif not proc.is_alive():
                    outcome = failed(
                        task, f"worker died (exit code {proc.exitcode}) without a result", elapsed
                    )
                elif timeout_s is not None and elapsed > timeout_s:
                    proc.terminate()
                    proc.join(5)
                    if proc.is_alive():
                        proc.kill()
                    outcome = failed(task, f"timed out after {timeout_s:g} s (--timeout)", elapsed)
                if outcome is not None:
                    proc.join()
                    receive.close()
                    del running[index]
                    finish(outcome)
    finally:
        for proc, receive, _, _ in running.values():
            proc.terminate()
            proc.join(5)
            receive.close()
    return [outcomes[t.index] for t in tasks]


def _ray_task(task: DriveTask) -> tuple[DriveOutcome, dict[str, bytes]]:
    """On a Ray worker: evaluate into a private folder and hand back the files it wrote."""
    scratch = Path(tempfile.mkdtemp(prefix="ncp-eval-"))
    try:
        outcome = evaluate_drive(task, scratch)
        files = {
            str(p.relative_to(scratch)): p.read_bytes() for p in scratch.rglob("*") if p.is_file()
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return outcome, files


def _unpack(cache_dir: Path, files: dict[str, bytes]) -> None:
    """Put a Ray task's files into the cache: each replay directory appears whole or not at all."""
    groups: dict[str, dict[str, bytes]] = {}
    for name, data in files.items():
        parts = Path(name).parts
        if parts[0] == "replays" and len(parts) > 2:
            groups.setdefault(parts[1], {})[str(Path(*parts[2:]))] = data
        else:
            atomic_write_bytes(cache_dir / name, data)
    for key, members in groups.items():
        target = cache_dir / "replays" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=target.parent))
        for name, data in members.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(data)
        if target.is_dir():  # a refreshed entry replaces the old one
            shutil.rmtree(target)
        os.replace(tmp, target)


def run_ray(
    tasks: Sequence[DriveTask],
    cache_dir: Path,
    address: str,
    timeout_s: float | None,
    on_done: Done | None = None,
    num_cpus: int | None = None,
) -> list[DriveOutcome]:
    """The tasks as Ray tasks: on the running instance, a cluster (ADDRESS or ``auto``), or
    ``local`` (a Ray instance started on this machine and stopped at the end)."""
    try:
        import ray
    except ImportError:
        raise FleetError(f"--ray needs Ray, which is not installed: {RAY_INSTALL}") from None
    started = False
    if not ray.is_initialized():
        try:
            if address == "local":
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise FleetError(f"--ray {address}: cannot connect to Ray: {exc}") from exc
        started = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(_ray_task)
        slots = max(int(ray.cluster_resources().get("CPU", 1)), 1)
        pending = deque(tasks)
        flight: dict[Any, tuple[DriveTask, float]] = {}
        outcomes: dict[int, DriveOutcome] = {}
        while pending or flight:
            while pending and len(flight) < slots:
                task = pending.popleft()
                flight[remote.remote(task)] = (task, time.monotonic())
            ready, _ = ray.wait(list(flight), num_returns=1, timeout=0.5)
            for ref in ready:
                task, begin = flight.pop(ref)
                try:
                    outcome, files = ray.get(ref)
                    _unpack(cache_dir, files)
                except Exception as exc:  # the task itself failed (worker lost, cancelled)
                    outcome = failed(task, f"Ray task failed: {exc}", time.monotonic() - begin)
                outcomes[outcome.index] = outcome
                if on_done is not None:
                    on_done(outcome)
            if timeout_s is not None:
                for ref, (task, begin) in list(flight.items()):
                    elapsed = time.monotonic() - begin
                    if elapsed > timeout_s:
                        ray.cancel(ref, force=True)
                        del flight[ref]
                        outcome = failed(
                            task, f"timed out after {timeout_s:g} s (--timeout)", elapsed
                        )
                        outcomes[outcome.index] = outcome
                        if on_done is not None:
                            on_done(outcome)
    finally:
        if started:
            ray.shutdown()
    return [outcomes[t.index] for t in tasks]
