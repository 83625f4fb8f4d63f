"""The Monitor's life beyond one evaluation: checkpoints, resuming a run, and closing it.

A mixin of ``Monitor`` (``collapsekit.monitor.monitor``): these methods read and set the
Monitor's state (its run folder, rows, snapshots, recorder and clock) and nothing else.
"""

from __future__ import annotations

import logging
import time
from typing import TypeVar

from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys
from collapsekit.monitor.arguments import check_checkpoint_state
from collapsekit.monitor.persistence import rewind
from collapsekit.monitor.recorder import family_of_frame
from collapsekit.monitor.snapshots import SampleSnapshots
from collapsekit.monitor.summary import (
    DIVERGED,
    FAILED,
    FINISHED,
    INTERRUPTED,
    Summary,
    summary_record,
)

logger = logging.getLogger(__name__)
SelfType = TypeVar("SelfType", bound="MonitorLifecycle")  # typing.Self needs Python 3.11


class MonitorLifecycle:
    """Checkpoint, resume and close, for ``Monitor``."""

    # -- checkpoint and resume ------------------------------------------------------------
    def save_checkpoint(self, state: dict) -> None:
        """Store the trainer's ``state`` (tensors, numbers, dicts) with the monitor's own position.

        ``state`` may hold only what ``torch.load(weights_only=True)`` loads back
        (tensors, numbers, strings, lists, tuples, dicts): anything else raises here,
        not at resume.
        """
        if self.run is None:
            raise CollapsekitError(
                "save_checkpoint needs a run_dir; create the Monitor with run_dir=..."
            )
        check_checkpoint_state(state)
        self._flush()
        monitor_state = {"step": self._last_step, "elapsed_s": self.elapsed, "rows": len(self.rows)}
        self.run.save_checkpoint({"trainer": state, "monitor": monitor_state})

    def resume(self) -> dict | None:
        """Continue a run from its checkpoint: drop what was measured after it, return the trainer state."""
        if self.run is None:
            raise CollapsekitError(
                "resume needs a run_dir; create the Monitor with run_dir=... and resume=True"
            )
        checkpoint = self.run.load_checkpoint()
        if checkpoint is None:
            return None
        position = checkpoint["monitor"]
        step = position["step"]
        self.rows, frame, arrays = rewind(self.run, step)
        self.snapshots = SampleSnapshots(self.snapshot_size, arrays)
        self._recorder.restore(*(frame[column].to_numpy() for column in frame.columns),
                               family_of_frame(frame))  # fmt: skip
        self._last_step = step
        self._elapsed_before = float(position["elapsed_s"])
        self._started = time.perf_counter()
        return checkpoint["trainer"]

    # -- the end -----------------------------------------------------------------------------
    def close(self, status: str | None = None, error: str | None = None) -> Summary:
        """Diagnose the run, write ``summary.json`` (last, atomically) and return the Summary.

        ``status`` defaults to ``"diverged"`` when NaN or inf was seen, else
        ``"finished"``. Closing twice returns the first summary.
        """
        if self.summary is not None:
            return self.summary
        self._flush()
        if status is None:
            status = DIVERGED if self.diverged_at is not None else FINISHED
        metrics = dict(self.rows[-1]) if self.rows else {}
        metrics.update(self.equilibrium_now())
        metrics.pop(keys.STEP, None)
        run_dir = str(self.run.path) if self.run is not None else None
        summary = Summary(status, self._last_step, metrics, self._finding_dicts(), run_dir,
                          round(self.elapsed, 3))  # fmt: skip
        record = summary_record(summary, error, self.diverged_at)
        # Closed before writing: an interruption during the write (Ctrl-C, SIGTERM) must not
        # make a second close() overwrite "finished" with "interrupted". The write is atomic:
        # it lands whole or not at all (then the folder resumes, at its last step).
        self.closed = True
        self.summary = summary
        if self.run is not None:
            try:
                self.run.write_summary(record)
            except Exception:  # a full disk, say: closing again may retry the write
                self.closed, self.summary = False, None
                raise
        return summary

    def _finding_dicts(self) -> list[dict]:
        try:
            return [finding.to_dict() for finding in self.findings()]
        except Exception:  # the summary must be written even if the diagnosis fails
            logger.exception("the diagnosis failed; the summary is written without findings")
            return []

    def __enter__(self: SelfType) -> SelfType:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if self.closed:
            return
        if exc_type is None:
            self.close()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.close(status=INTERRUPTED)
        else:
            self.close(status=FAILED, error=f"{exc_type.__name__}: {exc}")
