"""A pool worker's lifecycle: SIGTERM as an interruption, and the watch that ends an orphan."""

from __future__ import annotations

import _thread
import multiprocessing
import os
import signal
import threading
import time

from collapsekit.errors import CollapsekitError
from collapsekit.runs import RunDir
from collapsekit.sweep.plan import RunOutcome, RunTask
from collapsekit.sweep.task import run_task

# How often a pool worker checks that its sweep is still alive, and how long an orphaned
# worker waits for its interrupted run to write its summary before it ends (seconds).
SWEEP_WATCH_INTERVAL_S = 1.0
SWEEP_WATCH_GRACE_S = 60.0

_WATCH: _SweepWatch | None = None  # in a pool worker: the watch on its sweep
_ENDED = None  # in a pool worker: where it tells the sweep which runs it ended (a SimpleQueue)


def init_worker(sweep_pid: int, ended=None) -> None:
    """Pool initializer: watch the sweep process, stop cleanly on SIGTERM, and say which runs
    end (``ended``: a queue the sweep reads to tell, when a worker dies, whose run died with it)."""
    global _WATCH, _ENDED
    _ENDED = ended
    if os.name == "posix":  # elsewhere os.kill(pid, 0) would end the sweep, not ask about it
        _WATCH = _SweepWatch(sweep_pid)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)


def _stop_on_sigterm(signum, frame) -> None:
    """SIGTERM in a worker (from ``interrupt_workers``, a job scheduler, or ``kill`` of that
    worker) interrupts its run as Ctrl-C would: the run is marked ``interrupted``, keeps
    its last checkpoint and comes back as an ``interrupted`` outcome. An idle worker
    ignores it (the pool ends idle workers itself). SIGINT is no use for this: a sweep
    started in the background of a script inherits SIGINT ignored.
    """
    if _WATCH is None or _WATCH.idle.is_set():
        return
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: let the interrupted run write its summary
    raise KeyboardInterrupt


def run_task_in_worker(task: RunTask) -> RunOutcome:
    """``run_task`` in a pool worker, under the watch that stops it if the sweep dies.

    An interruption (SIGTERM) comes back as an ``interrupted`` outcome rather than a
    KeyboardInterrupt, which would stop the whole sweep: a stop meant for the sweep
    reaches the sweep itself too, and one meant for this run stops this run only.
    """
    watch = _WATCH
    started = time.perf_counter()
    if watch is not None:
        watch.idle.clear()
    try:
        return run_task(task)
    except KeyboardInterrupt:
        return _interrupted_outcome(task, time.perf_counter() - started)
    finally:
        _tell_ended(task.name)
        if watch is not None:
            watch.idle.set()
            if watch.orphaned.is_set():
                os._exit(1)  # nobody is left to take the outcome
        signal.signal(signal.SIGTERM, _stop_on_sigterm)  # armed again for the next run


def _tell_ended(name: str) -> None:
    """Tell the sweep this worker ended run ``name`` (finished, failed or interrupted) itself."""
    if _ENDED is None:
        return
    try:
        _ENDED.put(name)
    except (OSError, ValueError):  # the sweep is gone: nobody asks
        pass


def _interrupted_outcome(task: RunTask, elapsed_s: float) -> RunOutcome:
    try:
        summary = RunDir.open(task.run_dir).read_summary() or {}
    except (CollapsekitError, OSError):  # interrupted before the folder was complete
        summary = {}
    return RunOutcome(
        task.name,
        task.run_dir,
        task.action,
        "interrupted",
        summary.get("step"),
        summary.get("metrics", {}),
        elapsed_s=round(elapsed_s, 3),
    )


class _SweepWatch:
    """Ends this worker when the sweep process ``pid`` is gone, interrupting its run first.

    A worker forked from the fork server is not the sweep's child, and nothing else
    tells it that the sweep has gone (killed with SIGKILL, or crashed): it would
    train on, unseen, and a restarted sweep would resume the same run folder beside
    it. The watch interrupts the run as Ctrl-C would (it is marked ``interrupted``
    and keeps its last checkpoint), waits for that to be written, and ends the
    process; an idle worker just ends.
    """

    def __init__(self, pid: int, interval_s: float = SWEEP_WATCH_INTERVAL_S) -> None:
        self.pid = pid
        self.parent = os.getppid()  # the sweep, or the fork server: either one's end is the sweep's
        self.interval_s = interval_s
        self.orphaned = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        threading.Thread(target=self._watch, name="collapsekit-sweep-watch", daemon=True).start()

    def _watch(self) -> None:
        while os.getppid() == self.parent and _process_alive(self.pid):
            time.sleep(self.interval_s)
        self.orphaned.set()
        if not self.idle.is_set():
            _thread.interrupt_main(signal.SIGTERM)  # to _stop_on_sigterm: the run is interrupted
            self.idle.wait(timeout=SWEEP_WATCH_GRACE_S)
        os._exit(1)


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (dead, waiting to be reaped)."""
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except (ProcessLookupError, PermissionError):  # gone (or its pid now belongs to another user)
        return False
    except OSError:  # where signal 0 is not supported: assume alive
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:  # Linux: "pid (name) state ..."
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):  # no /proc: signal 0 is all we know
        return True


def interrupt_workers() -> None:
    """Stop every worker of this process's pools as Ctrl-C in a terminal would.

    For a stop that reached the sweep alone (``kill PID``): each worker gets SIGTERM,
    which its run takes as an interruption (marked ``interrupted``, last checkpoint
    kept), and the pool can then shut down.
    """
    for child in multiprocessing.active_children():
        try:
            os.kill(child.pid, signal.SIGTERM)
        except OSError:  # already gone
            pass
