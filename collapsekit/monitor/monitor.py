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
import os
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from collapsekit.data import Dataset
from collapsekit.diagnose import Thresholds, diagnose
from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys
from collapsekit.metrics.equilibrium import critic_window_statistics, window_statistics
from collapsekit.metrics.modes import DEFAULT_MIN_SHARE
from collapsekit.monitor.arguments import (
    check_arguments,
    check_step,
    takes_samples,
)
from collapsekit.monitor.lifecycle import MonitorLifecycle
from collapsekit.monitor.persistence import open_run, run_config, stored_data
from collapsekit.monitor.recorder import (
    CRITIC,
    EquilibriumRecorder,
    as_output_pair,
)
from collapsekit.monitor.reference import NONFINITE_FRAC, MonitorData, check_sample_memory
from collapsekit.monitor.snapshots import SampleSnapshots
from collapsekit.monitor.summary import (
    Summary,
)
from collapsekit.runs import CRITIC_EQUILIBRIUM_COLUMNS, EQUILIBRIUM_COLUMNS
from collapsekit.sampling import draw_samples

logger = logging.getLogger(__name__)


class Monitor(MonitorLifecycle):
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
        snapshot_size: samples kept per evaluation in ``samples.npz``, besides the whole last
            evaluation; samples of more than 16 values (images) keep fewer: at most 4,096
            values a snapshot and 65,536 of the last (28 x 28 x 3 images: 1 and 27).
        resume: open an existing ``run_dir`` to continue it (see ``resume()``).
        sample_chunk: largest batch asked of ``sample_fn`` at once.
        thresholds: diagnosis thresholds used by ``close()`` (see ``collapsekit.Thresholds``).
        features: for data given as real samples, a function mapping samples (N, ...) to
            features (N, F) for the feature metrics (e.g. an image network); default: the
            samples themselves, flattened.
        model: the run's model name for the report (``"wgan-gp"``); runs with the same
            model (and label) average into one report row across seeds.
        label: a free label for the report row (``"wgan-gp lr=1e-4"``); default: the model,
            or the run folder's name when neither is given.
        eval_seed: ``sample_fn`` runs on forked global random generators seeded with this
            (the same noise at every evaluation; the training's random state untouched);
            None: no fork, ``sample_fn`` draws from the training's generators.
    """

    def __init__(
        self,
        data: str | Dataset | torch.Tensor | None,
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
        model: str | None = None,
        label: str | None = None,
        eval_seed: int | None = 0,
    ) -> None:
        check_arguments(
            eval_every=eval_every, window=window, sample_chunk=sample_chunk, num_samples=num_samples,
            snapshot_size=snapshot_size, min_share=min_share, on_metrics=on_metrics, features=features,
            thresholds=thresholds, config=config, model=model, label=label, eval_seed=eval_seed,
        )  # fmt: skip
        self.data = MonitorData(stored_data(data, run_dir, resume), features)
        self.eval_every = eval_every
        self.num_samples = int(num_samples or self.data.default_num_samples)
        check_sample_memory(self.num_samples, self.sample_shape, self.data.default_num_samples)
        self.window, self.min_share, self.snapshot_size = window, min_share, snapshot_size
        self.on_metrics = on_metrics
        self._metrics_take_samples = takes_samples(on_metrics)
        self.sample_chunk, self.eval_seed = sample_chunk, eval_seed
        self.thresholds = thresholds or Thresholds()
        self.config = run_config(self.data, eval_every, config, model, label)
        self.rows: list[dict] = []
        self.snapshots = SampleSnapshots(snapshot_size)
        self.diverged_at: int | None = None
        self.closed = False
        self.summary: Summary | None = None
        self._recorder = EquilibriumRecorder(window)
        self._last_step: int | None = None
        self._elapsed_before = 0.0
        self._started = time.perf_counter()
        self.run = open_run(run_dir, resume, self.config)

    @property
    def dataset(self) -> Dataset | None:
        """The dataset with known modes (None when data was given as real samples)."""
        return self.data.dataset

    @property
    def reference(self) -> torch.Tensor | None:
        """The real samples given as data (None for a dataset)."""
        return self.data.reference

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return self.data.sample_shape

    @property
    def data_spec(self) -> str:
        """The dataset's spec, or ``samples(N, D...)`` for data given as real samples."""
        return self.data.spec

    # -- every step ----------------------------------------------------------------
    def observe(
        self, step: int, d_real: torch.Tensor, d_fake: torch.Tensor, kind: str = "logits"
    ) -> None:
        """Record the discriminator's outputs on one real and one generated batch.

        Args:
            step: the training step (must not decrease).
            d_real: D's outputs on real samples, (B,), (B, 1) or (B, ...) for patch outputs.
            d_fake: D's outputs on generated samples, any batch size, same per-sample shape.
            kind: ``"logits"`` (raw outputs; sigmoid is applied), ``"probs"`` (already in
                [0, 1]) or ``"critic"`` (a WGAN critic's raw scores, recorded as they are,
                with the Wasserstein estimate E[C(x)] - E[C(G(z))] per window). One run
                records either probabilities (logits, probs) or critic scores.

        The outputs are kept detached on their device (no graph, no synchronisation)
        and reduced to per-step means in one batch every ``window`` steps, when the
        means reach the CPU. NaN or inf outputs (logits included) are recorded as
        divergence, not raised.
        """
        self._check_open("observe")
        real, fake = as_output_pair(d_real, d_fake, kind)
        self._last_step = check_step(step, self._last_step)
        self._recorder.add(int(step), real, fake, kind)
        if self._recorder.full():
            self._flush(strict=True)

    def _check_open(self, what: str) -> None:
        if self.closed:
            raise CollapsekitError(
                f"{what} called after close(); create a new Monitor for a new run"
            )

    def _flush(self, strict: bool = False) -> None:
        block = self._recorder.flush(strict)
        if block is None:
            return
        steps, real, fake = block
        if self.diverged_at is None and not (np.isfinite(real) & np.isfinite(fake)).all():
            self.diverged_at = int(steps[~(np.isfinite(real) & np.isfinite(fake))][0])
            logger.warning("discriminator outputs became NaN or inf at step %d", self.diverged_at)
        if self.run is not None:
            self.run.append_equilibrium(steps, real, fake, self._columns())

    def _columns(self) -> tuple[str, str, str]:
        """Names of the per-step values: ``d_real, d_fake``, or ``critic_real, critic_fake``."""
        critic = self._recorder.family == CRITIC
        return CRITIC_EQUILIBRIUM_COLUMNS if critic else EQUILIBRIUM_COLUMNS

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
        mode afterwards, on forked random generators seeded with ``eval_seed`` (the
        training's random state is left exactly as it was), and asks ``sample_fn``
        for at most ``sample_chunk`` samples at once. The generator is ``model`` if
        given, else the modules that ``sample_fn`` refers to. Returns the history row
        (also passed to ``on_metrics``), or None when not due.
        """
        self._check_open("evaluate")
        self._last_step = check_step(step, self._last_step)
        if not (force or self.due(step)):
            return None
        self._flush()
        samples = draw_samples(
            sample_fn, self.num_samples, self.sample_chunk, self.sample_shape, model,
            self.data.name, seed=self.eval_seed,
        )  # fmt: skip
        row = {keys.STEP: int(step), **self._sample_metrics(step, samples)}
        row.update(self.equilibrium_now())
        row[keys.ELAPSED_SECONDS] = round(self.elapsed, 3)
        self._record(step, row, samples)
        return row

    def _sample_metrics(self, step: int, samples: torch.Tensor) -> dict:
        metrics = self.data.score(samples, self.min_share)
        if NONFINITE_FRAC in metrics:
            self.diverged_at = int(step) if self.diverged_at is None else self.diverged_at
            logger.warning("generated samples contain NaN or inf at step %d", step)
        else:
            self.data.warn_scale(step, samples)
        return metrics

    def _record(self, step: int, row: dict, samples: torch.Tensor) -> None:
        if self.rows and self.rows[-1][keys.STEP] == step:
            self.rows[-1] = row  # evaluated twice at one step: keep the latest
        else:
            self.rows.append(row)
        values = samples.numpy()
        self.snapshots.add(step, values)
        if self.run is not None:
            self.run.write_history(self.rows)
            self.run.write_samples(self.snapshots.arrays)
        if self._metrics_take_samples:
            self.on_metrics(dict(row), samples=values)
        elif self.on_metrics is not None:
            self.on_metrics(dict(row))

    def equilibrium_now(self) -> dict[str, float]:
        """Statistics of D over the last ``window`` steps: mean, gap and spread of sigmoid(D), or
        for a critic its mean scores, the Wasserstein estimate and their spread."""
        self._flush()
        real, fake = (torch.tensor(v, dtype=torch.float64) for v in self._recorder.recent())
        if self._recorder.family == CRITIC:
            return critic_window_statistics(real, fake)
        return window_statistics(real, fake)

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
        """Per-step mean sigmoid(D) on real and generated batches: ``step, d_real, d_fake``
        (a critic's mean scores: ``step, critic_real, critic_fake``)."""
        self._flush()
        return pd.DataFrame(dict(zip(self._columns(), self._recorder.arrays(), strict=True)))

    def findings(self) -> list:
        """The diagnosis of the run so far (a list of ``collapsekit.Finding``)."""
        return diagnose(
            self.history, self.equilibrium, thresholds=self.thresholds, diverged_at=self.diverged_at
        )
