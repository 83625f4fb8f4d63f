"""The Monitor: the one object a training loop needs.

``observe`` every step (cheap: keeps detached outputs, reduced in batches; no synchronisation),
``evaluate`` every ``eval_every`` steps (samples, metrics, a history row),
``close`` at the end (summary with findings). With a ``run_dir`` everything is
also written to the run store as it happens, so a killed run keeps what it measured.

Example:
    >>> monitor = Monitor(data="ring8", run_dir=None, eval_every=500)
    >>> for step in range(1000):  # doctest: +SKIP
    ...     monitor.observe(step, d_real=real_logits, d_fake=fake_logits)
    ...     monitor.evaluate(step, sample_fn=lambda n: generator(torch.randn(n, 64)))
    >>> summary = monitor.close()  # doctest: +SKIP
    >>> summary.findings  # doctest: +SKIP
    [{'name': 'collapsed', 'severity': 'error', 'start_step': 4000, ...}]
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

from collapsekit.data import Dataset, check_samples, get_dataset
from collapsekit.diagnose import Thresholds, diagnose
from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys
from collapsekit.metrics.equilibrium import window_statistics
from collapsekit.metrics.inputs import check_features
from collapsekit.metrics.manifold import manifold_metrics
from collapsekit.metrics.modes import DEFAULT_MIN_SHARE, mode_metrics
from collapsekit.metrics.ndb import DEFAULT_BINS, NumberOfDifferentBins
from collapsekit.runs import RunDir
from collapsekit.sampling import draw_samples

logger = logging.getLogger(__name__)

FINISHED, DIVERGED, INTERRUPTED, FAILED = "finished", "diverged", "interrupted", "failed"
KINDS = ("logits", "probs")
MAX_REFERENCE_SAMPLES = 10_000  # default evaluation size for data given as real samples
DEFER_MAX_ELEMENTS = 1 << 14  # D outputs up to this size are kept until the block reduction
NDB_SAMPLES_PER_BIN = 20  # NDB bins: at most one per this many real samples (100 at most)


@dataclass
class Summary:
    """What a run ended with: its status, the last step, final metrics and findings.

    ``findings`` are dicts (``name``, ``severity``, ``start_step``, ``end_step``,
    ``message``, ``evidence``), exactly as stored in ``summary.json``.
    """

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
        data: dataset name (``"ring8"``), spec (``"ring8:std=0.01"``), Dataset object, or a
            tensor of real samples (N, *sample_shape) for data without known modes (then
            only feature-based metrics: precision, recall, density, coverage, NDB).
        run_dir: folder to write the run to (None: keep everything in memory).
        eval_every: evaluate when ``step % eval_every == 0``.
        num_samples: samples per evaluation (default: the dataset's protocol, 2,500 for 2-D;
            for real samples, as many as given up to 10,000).
        window: steps over which equilibrium statistics are summarised in history rows.
        min_share: robust coverage threshold for ``modes_covered``.
        config: what to record in ``config.json`` (e.g. the trainer's options).
        on_metrics: called with each history row (forward it to TensorBoard, W&B, ...).
        snapshot_size: samples kept per evaluation in ``samples.npz``.
        resume: open an existing ``run_dir`` to continue it (see ``resume()``).
        sample_chunk: largest batch asked of ``sample_fn`` at once.
        thresholds: diagnosis thresholds used by ``close()`` (see ``collapsekit.Thresholds``).
        features: for data given as real samples, a function mapping samples (N, ...) to
            features (N, F) for the feature metrics (e.g. an image network); default: the
            samples themselves, flattened.
    """

    def __init__(
        self,
        data: str | Dataset | torch.Tensor,
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
        thresholds: Thresholds | None = None,
        features: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.dataset, self.reference = _resolve_data(data)
        for name, value in (
            ("eval_every", eval_every),
            ("window", window),
            ("sample_chunk", sample_chunk),
        ):
            _check_positive_int(name, value)
        if num_samples is not None:
            _check_positive_int("num_samples", num_samples)
        if on_metrics is not None and not callable(on_metrics):
            raise CollapsekitError(
                f"on_metrics must be callable as on_metrics(row), got {type(on_metrics).__name__}"
            )
        self.eval_every = eval_every
        self.num_samples = int(num_samples or self._default_num_samples())
        self.window = window
        self.min_share = min_share
        self.on_metrics = on_metrics
        self.snapshot_size = snapshot_size
        self.sample_chunk = sample_chunk
        self.thresholds = thresholds or Thresholds()
        if features is not None and not callable(features):
            raise CollapsekitError(
                f"features must be callable as features(samples), got {type(features).__name__}"
            )
        self._reference_metrics = (
            _ReferenceMetrics(self.reference, features) if self.reference is not None else None
        )
        self.config = {"data": self.data_spec, "eval_every": eval_every, **(config or {})}
        self.rows: list[dict] = []
        self.snapshots: dict[str, np.ndarray] = {}
        self.diverged_at: int | None = None
        self.closed = False
        self.summary: Summary | None = None
        self._recorder = _EquilibriumRecorder(window)
        self._last_step: int | None = None
        self._elapsed_before = 0.0
        self._started = time.perf_counter()
        self.run = self._open_run(run_dir, resume)

    def _default_num_samples(self) -> int:
        if self.dataset is not None:
            return self.dataset.eval_samples
        return min(len(self.reference), MAX_REFERENCE_SAMPLES)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(
            self.dataset.sample_shape if self.dataset is not None else self.reference.shape[1:]
        )

    @property
    def data_spec(self) -> str:
        """The dataset's spec, or ``samples(N, D...)`` for data given as real samples."""
        if self.dataset is not None:
            return self.dataset.spec
        return f"samples{tuple(self.reference.shape)}"

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

        Args:
            step: the training step (must not decrease).
            d_real: D's outputs on real samples, (B,), (B, 1) or (B, ...) for patch outputs.
            d_fake: D's outputs on generated samples, any batch size, same per-sample shape.
            kind: ``"logits"`` (raw outputs; sigmoid is applied) or ``"probs"`` (already in [0, 1]).

        The outputs are kept detached on their device (no graph, no synchronisation)
        and reduced to mean sigmoid(D) in one batch every ``window`` steps, when the
        means reach the CPU. NaN or inf outputs are recorded as divergence, not raised.
        """
        self._check_open("observe")
        if kind not in KINDS:
            raise CollapsekitError(f"kind must be 'logits' or 'probs', got {kind!r}")
        real, fake = _as_outputs(d_real, "d_real"), _as_outputs(d_fake, "d_fake")
        if real.shape[1:] != fake.shape[1:]:
            raise CollapsekitError(
                f"d_real has shape {tuple(real.shape)} and d_fake {tuple(fake.shape)}: the outputs per "
                "sample must have the same shape (batch sizes may differ); pass D's outputs for each batch"
            )
        self._check_step(step)
        self._recorder.add(int(step), real, fake, kind)
        if self._recorder.full():
            self._flush(strict=True)

    def _check_open(self, what: str) -> None:
        if self.closed:
            raise CollapsekitError(
                f"{what} called after close(); create a new Monitor for a new run"
            )

    def _check_step(self, step: int) -> None:
        if not isinstance(step, (int, np.integer)) or isinstance(step, bool):
            raise CollapsekitError(f"step must be an integer, got {step!r}")
        if self._last_step is not None and step < self._last_step:
            raise CollapsekitError(
                f"step went backwards ({step} after {self._last_step}); pass the training step, "
                "which must not decrease"
            )
        self._last_step = int(step)

    def _flush(self, strict: bool = False) -> None:
        block = self._recorder.flush(strict)
        if block is None:
            return
        steps, real, fake = block
        if self.diverged_at is None and not (np.isfinite(real) & np.isfinite(fake)).all():
            self.diverged_at = int(steps[~(np.isfinite(real) & np.isfinite(fake))][0])
            logger.warning("discriminator outputs became NaN or inf at step %d", self.diverged_at)
        if self.run is not None:
            self.run.append_equilibrium(steps, real, fake)

    # -- every eval_every steps ----------------------------------------------------------
    def due(self, step: int) -> bool:
        """Whether ``evaluate(step, ...)`` would act (``step % eval_every == 0``)."""
        return step % self.eval_every == 0

    def evaluate(
        self,
        step: int,
        sample_fn: Callable[[int], torch.Tensor],
        force: bool = False,
        model: torch.nn.Module | list[torch.nn.Module] | None = None,
    ) -> dict | None:
        """Sample ``num_samples`` from ``sample_fn(n)`` and compute the metrics, when due.

        Runs under ``torch.no_grad`` with the generator in eval mode, restoring its
        mode afterwards, and asks ``sample_fn`` for at most ``sample_chunk`` samples
        at once. The generator is ``model`` if given, else the modules that
        ``sample_fn`` refers to. Returns the history row (also passed to
        ``on_metrics``), or None when not due.
        """
        self._check_open("evaluate")
        self._check_step(step)
        if not (force or self.due(step)):
            return None
        self._flush()
        samples = draw_samples(
            sample_fn,
            self.num_samples,
            self.sample_chunk,
            self.sample_shape,
            model,
            self._data_name(),
        )
        row = {keys.STEP: int(step), **self._sample_metrics(step, samples)}
        row.update(self.equilibrium_now())
        row[keys.ELAPSED_SECONDS] = round(self.elapsed, 3)
        self._record(step, row, samples)
        return row

    def _data_name(self) -> str:
        return self.dataset.name if self.dataset is not None else "the real samples given as data"

    def _sample_metrics(self, step: int, samples: torch.Tensor) -> dict:
        if not torch.isfinite(samples).all():
            if self.diverged_at is None:
                self.diverged_at = int(step)
            logger.warning("generated samples contain NaN or inf at step %d", step)
            return {
                keys.NUM_SAMPLES: int(samples.shape[0]),
                "nonfinite_frac": _nonfinite_frac(samples),
            }
        if self.dataset is not None:
            return mode_metrics(samples, self.dataset, min_share=self.min_share)
        return self._reference_metrics(samples)

    def _record(self, step: int, row: dict, samples: torch.Tensor) -> None:
        if self.rows and self.rows[-1][keys.STEP] == step:
            self.rows[-1] = row  # evaluated twice at one step: keep the latest
        else:
            self.rows.append(row)
        values = samples.numpy()
        self.snapshots[f"step_{step:08d}"] = values[: self.snapshot_size]
        self.snapshots["final"] = values
        if self.run is not None:
            self.run.write_history(self.rows)
            self.run.write_samples(self.snapshots)
        if self.on_metrics is not None:
            self.on_metrics(dict(row))

    def equilibrium_now(self) -> dict[str, float]:
        """Equilibrium statistics (mean, gap, spread of sigmoid(D)) over the last ``window`` steps."""
        self._flush()
        real, fake = self._recorder.recent()
        return window_statistics(
            torch.tensor(real, dtype=torch.float64), torch.tensor(fake, dtype=torch.float64)
        )

    # -- checkpoint and resume ------------------------------------------------------------
    def save_checkpoint(self, state: dict) -> None:
        """Store the trainer's ``state`` (tensors, numbers, dicts) with the monitor's own position."""
        if self.run is None:
            raise CollapsekitError(
                "save_checkpoint needs a run_dir; create the Monitor with run_dir=..."
            )
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
        history = self.run.read_history()
        self.rows = [_clean_row(r) for r in history.to_dict("records") if r[keys.STEP] <= step]
        self.run.write_history(self.rows)
        frame = self.run.truncate_equilibrium(step)
        self._recorder.restore(
            frame[keys.STEP].to_numpy(),
            frame[keys.D_REAL].to_numpy(),
            frame[keys.D_FAKE].to_numpy(),
        )
        self.snapshots = {
            k: v for k, v in self.run.read_samples().items() if _snapshot_step(k) <= step
        }
        self._last_step = step
        self._elapsed_before = float(position["elapsed_s"])
        self._started = time.perf_counter()
        return checkpoint["trainer"]

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
        """Per-step mean sigmoid(D) on real and generated batches: ``step, d_real, d_fake``."""
        self._flush()
        steps, real, fake = self._recorder.arrays()
        return pd.DataFrame({keys.STEP: steps, keys.D_REAL: real, keys.D_FAKE: fake})

    def findings(self) -> list:
        """The diagnosis of the run so far (a list of ``collapsekit.Finding``)."""
        return diagnose(
            self.history, self.equilibrium, thresholds=self.thresholds, diverged_at=self.diverged_at
        )

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
        summary = Summary(
            status=status,
            step=self._last_step,
            metrics=metrics,
            findings=self._finding_dicts(),
            run_dir=str(self.run.path) if self.run is not None else None,
            elapsed_s=round(self.elapsed, 3),
        )
        record = summary.to_dict()
        if error:
            record["error"] = error
        if self.diverged_at is not None:
            record["diverged_at"] = self.diverged_at
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


class _EquilibriumRecorder:
    """Per-step mean sigmoid(D), reduced in blocks of ``window`` steps.

    ``add`` only keeps detached outputs (no graph); ``flush`` reduces all pending
    outputs of one shape with a few batched operations and moves the means to the
    CPU in one transfer. Outputs larger than ``DEFER_MAX_ELEMENTS`` are reduced at
    once instead, so pending memory stays small.
    """

    def __init__(self, window: int) -> None:
        self.window = window
        self._pending_steps: list[int] = []
        self._pending_values: list[torch.Tensor] = []  # alternating real, fake; detached
        self._pending_reduced: list[bool] = []  # per value: already a probability (no sigmoid)
        self._pending_probs: list[bool] = []  # per step: the user passed kind="probs"
        self._steps: list[np.ndarray] = []  # flushed blocks
        self._real: list[np.ndarray] = []
        self._fake: list[np.ndarray] = []
        self._recent: deque[tuple[float, float]] = deque(maxlen=window)

    def add(self, step: int, real: torch.Tensor, fake: torch.Tensor, kind: str) -> None:
        self._pending_steps.append(step)
        self._pending_probs.append(kind == "probs")
        for outputs in (real, fake):
            if outputs.numel() > DEFER_MAX_ELEMENTS:
                self._pending_values.append(_mean_probability(outputs, kind).reshape(1))
                self._pending_reduced.append(True)
            else:
                self._pending_values.append(outputs.detach())
                self._pending_reduced.append(kind == "probs")

    def full(self) -> bool:
        return len(self._pending_steps) >= self.window

    def flush(self, strict: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Reduce and move pending values to the CPU; return the block (steps, real, fake)."""
        if not self._pending_steps:
            return None
        values = _batched_means(self._pending_values, self._pending_reduced)  # (2S,)
        steps = np.asarray(self._pending_steps, dtype=np.int64)
        probs = np.asarray(self._pending_probs)
        self._pending_steps, self._pending_values = [], []
        self._pending_reduced, self._pending_probs = [], []
        real, fake = values[0::2], values[1::2]
        self._append(steps, real, fake)
        if strict:
            _check_probabilities(steps, real, fake, probs)
        return steps, real, fake

    def _append(self, steps: np.ndarray, real: np.ndarray, fake: np.ndarray) -> None:
        self._steps.append(steps)
        self._real.append(real)
        self._fake.append(fake)
        self._recent.extend(zip(real.tolist(), fake.tolist(), strict=True))

    def restore(self, steps: np.ndarray, real: np.ndarray, fake: np.ndarray) -> None:
        self.__init__(self.window)
        if len(steps):
            self._append(steps.astype(np.int64), real.astype(np.float64), fake.astype(np.float64))

    def recent(self) -> tuple[list[float], list[float]]:
        pairs = list(self._recent)
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._steps:
            return np.empty(0, np.int64), np.empty(0), np.empty(0)
        return np.concatenate(self._steps), np.concatenate(self._real), np.concatenate(self._fake)


def _check_probabilities(
    steps: np.ndarray, real: np.ndarray, fake: np.ndarray, probs: np.ndarray
) -> None:
    """Means of probabilities outside [0, 1] mean logits were passed as probs."""
    for name, values in (("d_real", real), ("d_fake", fake)):
        bad = probs & np.isfinite(values) & ((values < -1e-6) | (values > 1 + 1e-6))
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise CollapsekitError(
                f"{name} given with kind='probs' has mean {values[first]:.4g} at step {steps[first]}, "
                "outside [0, 1]; these look like logits: pass kind='logits'"
            )


def _resolve_data(data: object) -> tuple[Dataset | None, torch.Tensor | None]:
    if isinstance(data, (str, Dataset)):
        return get_dataset(data), None
    if isinstance(data, (torch.Tensor, np.ndarray)):
        reference = check_samples(
            data, tuple(data.shape[1:]), what="data (real samples)", dataset="Monitor"
        )
        if reference.shape[0] < 2:
            raise CollapsekitError(
                f"data holds {reference.shape[0]} real sample; pass at least a few hundred"
            )
        return None, reference
    raise CollapsekitError(
        f"data must be a dataset name, a Dataset or a tensor of real samples (N, ...), got {type(data).__name__}"
    )


def _check_positive_int(name: str, value: object) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise CollapsekitError(f"{name} must be a positive integer, got {value!r}")


def _as_outputs(outputs: object, name: str) -> torch.Tensor:
    """D's outputs for a batch as a tensor (B, ...); (B, 1) becomes (B,)."""
    if not isinstance(outputs, torch.Tensor):
        if not isinstance(outputs, (np.ndarray, list, tuple, float, int)) or isinstance(
            outputs, bool
        ):
            raise CollapsekitError(
                f"{name} must be a tensor of discriminator outputs, got {type(outputs).__name__}"
            )
        outputs = torch.as_tensor(np.asarray(outputs, dtype=np.float32))
    if not outputs.is_floating_point():
        raise CollapsekitError(
            f"{name} must hold floating-point outputs, got dtype {outputs.dtype}"
        )
    if outputs.dim() == 2 and outputs.shape[1] == 1:
        outputs = outputs[:, 0]
    if outputs.dim() == 0 or outputs.numel() == 0:
        raise CollapsekitError(
            f"{name} must hold one output per sample, shape (B,) or (B, 1); got {tuple(outputs.shape)}"
        )
    return outputs


def _batched_means(values: list[torch.Tensor], reduced: list[bool]) -> np.ndarray:
    """Mean probability of each tensor (sigmoid unless ``reduced``), as float64 on the CPU."""
    groups: dict[tuple, list[int]] = {}
    for index, value in enumerate(values):
        groups.setdefault((value.shape, value.dtype, value.device), []).append(index)
    means = np.empty(len(values), dtype=np.float64)
    for indices in groups.values():
        batch = torch.stack([values[i] for i in indices]).flatten(1)  # (G, B)
        if batch.dtype in (torch.float16, torch.bfloat16):
            batch = batch.float()
        flags = [reduced[i] for i in indices]
        if not any(flags):
            batch = batch.sigmoid()
        elif not all(flags):
            mask = torch.tensor(flags, device=batch.device)[:, None]  # (G, 1)
            batch = torch.where(mask, batch, batch.sigmoid())
        means[indices] = batch.mean(dim=1).cpu().double().numpy()
    return means


def _mean_probability(outputs: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean sigmoid(outputs) (logits) or mean outputs (probs), 0-d, detached, on the outputs' device."""
    outputs = outputs.detach()
    if outputs.dtype in (torch.float16, torch.bfloat16):
        outputs = outputs.float()  # half-precision means lose digits over large batches
    if kind == "logits":
        return outputs.sigmoid().mean()
    return outputs.mean()


class _ReferenceMetrics:
    """Feature metrics of generated samples against fixed real samples (data without known modes).

    Precision and recall (k=3), density and coverage (k=5), and NDB with bins
    fitted once on the real samples (k-means; 100 bins, fewer for small sets).
    """

    def __init__(
        self, real: torch.Tensor, features: Callable[[torch.Tensor], torch.Tensor] | None
    ) -> None:
        self.real = real  # (N, *sample_shape) on the CPU
        self.features = features
        self._real_features: torch.Tensor | None = None  # (N, F), computed at the first evaluation
        self._bins: NumberOfDifferentBins | None = None

    def _to_features(self, samples: torch.Tensor, what: str) -> torch.Tensor:
        if self.features is None:
            return samples.flatten(1)  # (N, D)
        with torch.no_grad():
            values = self.features(samples)
        return check_features(values, f"features({what})").detach().to("cpu", torch.float32)

    def __call__(self, samples: torch.Tensor) -> dict:
        if self._real_features is None:
            self._real_features = self._to_features(self.real, "real samples")
            bins = min(DEFAULT_BINS, len(self.real) // NDB_SAMPLES_PER_BIN)
            if bins >= 2:
                self._bins = NumberOfDifferentBins(bins=bins).fit(self._real_features)
        fake = self._to_features(samples, "generated samples")
        result = manifold_metrics(self._real_features, fake)
        if self._bins is not None:
            result.update(self._bins.score(fake))
        result[keys.NUM_SAMPLES] = int(samples.shape[0])
        return result


def _nonfinite_frac(samples: torch.Tensor) -> float:
    return float((~torch.isfinite(samples)).flatten(1).any(1).double().mean())


def _clean_row(row: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def _snapshot_step(name: str) -> int:
    return int(name.split("_")[1]) if name.startswith("step_") else -1
