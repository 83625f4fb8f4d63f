"""The Monitor: the one object a training loop needs.

``observe`` every step (cheap: two reductions on the device, no synchronisation),
``evaluate`` every ``eval_every`` steps (samples, metrics, a history row),
``close`` at the end (summary). With a ``run_dir`` everything is also written to
the run store as it happens, so a killed run keeps what it measured.

Example:
    >>> monitor = Monitor(data="ring8", run_dir=None, eval_every=500)
    >>> for step in range(1000):  # doctest: +SKIP
    ...     monitor.observe(step, d_real=real_logits, d_fake=fake_logits)
    ...     monitor.evaluate(step, sample_fn=lambda n: generator(torch.randn(n, 64)))
    >>> summary = monitor.close()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import torch

from collapsekit.data import Dataset, get_dataset
from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys
from collapsekit.metrics.equilibrium import to_probabilities, window_statistics
from collapsekit.metrics.modes import DEFAULT_MIN_SHARE, mode_metrics
from collapsekit.runs import RunDir
from collapsekit.sampling import draw_samples

logger = logging.getLogger(__name__)

FINISHED, DIVERGED, INTERRUPTED, FAILED = "finished", "diverged", "interrupted", "failed"


@dataclass
class Summary:
    """What a run ended with: its status, the last step, final metrics and findings."""

    status: str
    step: int | None
    metrics: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)
    run_dir: str | None = None
    elapsed_s: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class Monitor:
    """Watches a GAN's training: discriminator equilibrium every step, coverage every N steps.

    Args:
        data: dataset name (``"ring8"``), spec (``"ring8:std=0.01"``) or Dataset object.
        run_dir: folder to write the run to (None: keep everything in memory).
        eval_every: evaluate when ``step % eval_every == 0``.
        num_samples: samples per evaluation (default: the dataset's protocol, 2,500 for 2-D).
        window: steps over which equilibrium statistics are summarised in history rows.
        min_share: robust coverage threshold for ``modes_covered``.
        config: what to record in ``config.json`` (e.g. the trainer's options).
        on_metrics: called with each history row (forward it to TensorBoard, W&B, ...).
        snapshot_size: samples kept per evaluation in ``samples.npz``.
        resume: open an existing ``run_dir`` to continue it (see ``resume()``).
        sample_chunk: largest batch asked of ``sample_fn`` at once.
    """

    def __init__(
        self,
        data: str | Dataset,
        run_dir: str | os.PathLike | None = None,
        eval_every: int = 500,
        num_samples: int | None = None,
        window: int = 100,
        min_share: float = DEFAULT_MIN_SHARE,
        config: dict | None = None,
        on_metrics: Callable[[dict], None] | None = None,
        snapshot_size: int = 1000,
        resume: bool = False,
        sample_chunk: int = 4096,
    ) -> None:
        self.dataset = get_dataset(data)
        for name, value in (("eval_every", eval_every), ("window", window), ("sample_chunk", sample_chunk)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise CollapsekitError(f"{name} must be a positive integer, got {value!r}")
        self.eval_every = eval_every
        self.num_samples = int(num_samples or self.dataset.eval_samples)
        self.window = window
        self.min_share = min_share
        self.on_metrics = on_metrics
        self.snapshot_size = snapshot_size
        self.sample_chunk = sample_chunk
        self.config = {"data": self.dataset.spec, "eval_every": eval_every, **(config or {})}
        self.rows: list[dict] = []
        self.snapshots: dict[str, np.ndarray] = {}
        self.diverged_at: int | None = None
        self.closed = False
        self._pending: list[tuple[int, torch.Tensor, torch.Tensor]] = []  # not yet on the CPU
        self._steps: list[np.ndarray] = []  # flushed per-step values, in blocks
        self._real: list[np.ndarray] = []
        self._fake: list[np.ndarray] = []
        self._recent: deque[tuple[float, float]] = deque(maxlen=window)
        self._last_step: int | None = None
        self._elapsed_before = 0.0
        self._started = time.perf_counter()
        self.run = self._open_run(run_dir, resume)

    def _open_run(self, run_dir: str | os.PathLike | None, resume: bool) -> RunDir | None:
        if run_dir is None:
            return None
        if resume:
            return RunDir.open(run_dir)
        return RunDir.create(run_dir, self.config)

    # -- every step ----------------------------------------------------------------
    def observe(
        self, step: int, d_real: torch.Tensor, d_fake: torch.Tensor, kind: str = "logits"
    ) -> None:
        """Record the discriminator's outputs on one real and one generated batch.

        Accepts logits (``kind="logits"``) or probabilities (``"probs"``) of shape
        (B,) or (B, 1), on any device. Only two detached 0-d tensors are kept; they
        reach the CPU once per ``window`` steps.
        """
        self._check_step(step)
        real = to_probabilities(_as_outputs(d_real, "d_real"), kind)
        fake = to_probabilities(_as_outputs(d_fake, "d_fake"), kind)
        self._pending.append((step, real, fake))
        if len(self._pending) >= self.window:
            self._flush()

    def _check_step(self, step: int) -> None:
        if not isinstance(step, (int, np.integer)) or isinstance(step, bool):
            raise CollapsekitError(f"step must be an integer, got {step!r}")
        if self._last_step is not None and step < self._last_step:
            raise CollapsekitError(
                f"step went backwards ({step} after {self._last_step}); pass the training step, "
                "which must not decrease"
            )
        self._last_step = int(step)

    def _flush(self) -> None:
        if not self._pending:
            return
        steps = np.array([s for s, _, _ in self._pending], dtype=np.int64)
        values = torch.stack([torch.stack([r, f]) for _, r, f in self._pending]).cpu().double().numpy()
        self._pending.clear()
        real, fake = values[:, 0], values[:, 1]
        self._steps.append(steps)
        self._real.append(real)
        self._fake.append(fake)
        self._recent.extend(zip(real.tolist(), fake.tolist(), strict=True))
        if self.diverged_at is None and not np.isfinite(values).all():
            self.diverged_at = int(steps[~np.isfinite(values).all(axis=1)][0])
            logger.warning("discriminator outputs became NaN or inf at step %d", self.diverged_at)
        if self.run is not None:
            self.run.append_equilibrium(steps, real, fake)

    # -- every eval_every steps ----------------------------------------------------------
    def due(self, step: int) -> bool:
        return step % self.eval_every == 0

    def evaluate(
        self,
        step: int,
        sample_fn: Callable[[int], torch.Tensor],
        force: bool = False,
        model: torch.nn.Module | None = None,
    ) -> dict | None:
        """Sample ``num_samples`` from ``sample_fn(n)`` and compute the metrics, when due.

        Runs under ``torch.no_grad`` with the generator in eval mode, restoring its
        mode afterwards. The generator is ``model`` if given, else the modules that
        ``sample_fn`` refers to. Returns the history row, or None when not due.
        """
        if not (force or self.due(step)):
            return None
        self._flush()
        samples = draw_samples(sample_fn, self.num_samples, self.sample_chunk, self.dataset, model)
        row = {keys.STEP: int(step), **self._sample_metrics(step, samples)}
        row.update(self.equilibrium_now())
        row[keys.ELAPSED_SECONDS] = round(self.elapsed, 3)
        self._record(step, row, samples)
        return row

    def _sample_metrics(self, step: int, samples: torch.Tensor) -> dict:
        if not torch.isfinite(samples).all():
            if self.diverged_at is None:
                self.diverged_at = int(step)
            logger.warning("generated samples contain NaN or inf at step %d", step)
            return {keys.NUM_SAMPLES: int(samples.shape[0]), "nonfinite_frac": _nonfinite_frac(samples)}
        return mode_metrics(samples, self.dataset, min_share=self.min_share)

    def _record(self, step: int, row: dict, samples: torch.Tensor) -> None:
        self.rows.append(row)
        finite = samples.numpy()
        self.snapshots[f"step_{step:08d}"] = finite[: self.snapshot_size]
        self.snapshots["final"] = finite
        if self.run is not None:
            self.run.write_history(self.rows)
            self.run.write_samples(self.snapshots)
        if self.on_metrics is not None:
            self.on_metrics(dict(row))

    def equilibrium_now(self) -> dict[str, float]:
        """Equilibrium statistics over the last ``window`` observed steps."""
        self._flush()
        if not self._recent:
            return window_statistics(torch.empty(0), torch.empty(0))
        values = torch.tensor(list(self._recent), dtype=torch.float64)  # (S, 2)
        return window_statistics(values[:, 0], values[:, 1])

    # -- checkpoint and resume ------------------------------------------------------------
    def save_checkpoint(self, state: dict) -> None:
        """Store the trainer's ``state`` (tensors, numbers, dicts) with the monitor's own position."""
        if self.run is None:
            raise CollapsekitError("save_checkpoint needs a run_dir; create the Monitor with run_dir=...")
        self._flush()
        monitor_state = {"step": self._last_step, "elapsed_s": self.elapsed, "rows": len(self.rows)}
        self.run.save_checkpoint({"trainer": state, "monitor": monitor_state})

    def resume(self) -> dict | None:
        """Continue a run from its checkpoint: drop what was measured after it, return the trainer state."""
        if self.run is None:
            raise CollapsekitError("resume needs a run_dir")
        checkpoint = self.run.load_checkpoint()
        if checkpoint is None:
            return None
        position = checkpoint["monitor"]
        step = position["step"]
        history = self.run.read_history()
        self.rows = [_clean_row(r) for r in history.to_dict("records") if r[keys.STEP] <= step]
        self.run.write_history(self.rows)
        equilibrium = self.run.truncate_equilibrium(step)
        self._restore_equilibrium(equilibrium)
        self.snapshots = {k: v for k, v in self.run.read_samples().items() if _snapshot_step(k) <= step}
        self._last_step = step
        self._elapsed_before = float(position["elapsed_s"])
        self._started = time.perf_counter()
        return checkpoint["trainer"]

    def _restore_equilibrium(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self._steps = [frame[keys.STEP].to_numpy()]
            self._real = [frame[keys.D_REAL].to_numpy()]
            self._fake = [frame[keys.D_FAKE].to_numpy()]
            tail = frame.tail(self.window)
            self._recent.extend(zip(tail[keys.D_REAL].tolist(), tail[keys.D_FAKE].tolist(), strict=True))

    # -- reading ---------------------------------------------------------------------------
    @property
    def elapsed(self) -> float:
        return self._elapsed_before + time.perf_counter() - self._started

    @property
    def history(self) -> pd.DataFrame:
        """One row per evaluation."""
        return pd.DataFrame(self.rows)

    @property
    def equilibrium(self) -> pd.DataFrame:
        """Per-step mean sigmoid(D) on real and generated batches."""
        self._flush()
        if not self._steps:
            return pd.DataFrame(columns=[keys.STEP, keys.D_REAL, keys.D_FAKE])
        return pd.DataFrame(
            {
                keys.STEP: np.concatenate(self._steps),
                keys.D_REAL: np.concatenate(self._real),
                keys.D_FAKE: np.concatenate(self._fake),
            }
        )

    # -- the end -----------------------------------------------------------------------------
    def close(self, status: str | None = None, error: str | None = None) -> Summary:
        """Write ``summary.json`` (last, atomically) and return the Summary."""
        self._flush()
        if status is None:
            status = DIVERGED if self.diverged_at is not None else FINISHED
        metrics = {k: v for k, v in (self.rows[-1] if self.rows else {}).items()}
        metrics.update(self.equilibrium_now())
        metrics.pop(keys.STEP, None)
        summary = Summary(
            status=status,
            step=self._last_step,
            metrics=metrics,
            findings=self._findings(),
            run_dir=str(self.run.path) if self.run is not None else None,
            elapsed_s=round(self.elapsed, 3),
        )
        record = summary.to_dict()
        if error:
            record["error"] = error
        if self.diverged_at is not None:
            record["diverged_at"] = self.diverged_at
        if self.run is not None:
            self.run.write_summary(record)
        self.closed = True
        return summary

    def _findings(self) -> list:
        return []

    def __enter__(self) -> Monitor:
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


def _as_outputs(outputs: object, name: str) -> torch.Tensor:
    if not isinstance(outputs, torch.Tensor):
        try:
            outputs = torch.as_tensor(outputs)
        except (TypeError, ValueError, RuntimeError):
            raise CollapsekitError(f"{name} must be a tensor of discriminator outputs, got {type(outputs).__name__}") from None
    if outputs.dim() == 2 and outputs.shape[1] == 1:
        outputs = outputs[:, 0]
    if outputs.dim() > 1 or outputs.numel() == 0:
        raise CollapsekitError(
            f"{name} must hold one output per sample, shape (B,) or (B, 1); got {tuple(outputs.shape)}"
        )
    return outputs


def _nonfinite_frac(samples: torch.Tensor) -> float:
    return float((~torch.isfinite(samples)).flatten(1).any(1).double().mean())


def _clean_row(row: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def _snapshot_step(name: str) -> int:
    return int(name.split("_")[1]) if name.startswith("step_") else -1
