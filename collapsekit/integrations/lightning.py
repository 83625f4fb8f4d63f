"""Lightning: ``CollapsekitCallback`` watches a GAN's ``Trainer`` with a Monitor.

Your ``training_step`` returns the discriminator's outputs on the step's real
and generated batches, ``{"d_real": ..., "d_fake": ...}`` (detached or not);
your ``LightningModule`` has a ``sample(n)`` method (or pass ``sample_fn``). The
callback observes every training batch, evaluates every ``eval_every`` batches,
writes the run folder, logs each history row to the Trainer's loggers
(``collapsekit/<key>``), and closes the run when training ends.

``step`` counts training batches from 0 (one per generator update when each
batch does one generator step, whatever the number of critic updates inside it).

Example:
    >>> callback = CollapsekitCallback("ring8", run_dir="runs/lit-gan", eval_every=500)  # doctest: +SKIP
    >>> lightning.Trainer(max_steps=5000, callbacks=[callback]).fit(gan)  # doctest: +SKIP
    >>> callback.summary.findings  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch

from collapsekit.errors import CollapsekitError
from collapsekit.monitor import FAILED, INTERRUPTED, Monitor, Summary

try:
    from lightning.pytorch import Callback
except ImportError:  # pragma: no cover - depends on the environment
    raise ImportError(
        "collapsekit.integrations.lightning needs the lightning package: "
        "pip install 'collapsekit[lightning]'"
    ) from None

PREFIX = "collapsekit/"


class CollapsekitCallback(Callback):
    """A Monitor driven by a Lightning ``Trainer``.

    Args:
        data: what the Monitor takes: a dataset name, a ``Dataset`` (your own
            ``GaussianMixture``) or real samples.
        run_dir: the run folder (None: in memory).
        eval_every: evaluate every this many training batches.
        kind: what ``d_real``/``d_fake`` are: ``"logits"``, ``"probs"`` or ``"critic"``.
        sample_fn: ``sample_fn(n) -> samples``; default: the module's ``sample`` method.
        **monitor_options: any other ``collapsekit.Monitor`` argument (``model``, ``label``,
            ``num_samples``, ``config``, ``thresholds``...).
    """

    def __init__(
        self,
        data: object,
        run_dir: str | os.PathLike | None = None,
        eval_every: int = 500,
        kind: str = "logits",
        sample_fn: Callable[[int], torch.Tensor] | None = None,
        **monitor_options: object,
    ) -> None:
        super().__init__()
        self.monitor = Monitor(data, run_dir=run_dir, eval_every=eval_every,
                               on_metrics=self._log, **monitor_options)  # fmt: skip
        self.kind = kind
        self.sample_fn = sample_fn
        self.step = 0
        self.summary: Summary | None = None
        self._trainer = None

    def on_fit_start(self, trainer, pl_module) -> None:
        self._trainer = trainer
        if self.sample_fn is None and not callable(getattr(pl_module, "sample", None)):
            raise CollapsekitError(
                "CollapsekitCallback needs samples: give your LightningModule a sample(n) method "
                "or pass CollapsekitCallback(..., sample_fn=...)"
            )

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if not isinstance(outputs, dict) or "d_real" not in outputs or "d_fake" not in outputs:
            raise CollapsekitError(
                "training_step must return a dict with the discriminator's outputs, "
                '{"d_real": outputs_on_real, "d_fake": outputs_on_generated}; '
                f"it returned {type(outputs).__name__}"
            )
        self.monitor.observe(self.step, outputs["d_real"], outputs["d_fake"], kind=self.kind)
        self.monitor.evaluate(self.step, self.sample_fn or pl_module.sample)
        self.step += 1

    def on_train_end(self, trainer, pl_module) -> None:
        last = self.step - 1
        if last >= 0 and not self.monitor.due(last):
            self.monitor.evaluate(last, self.sample_fn or pl_module.sample, force=True)
        self.summary = self.monitor.close()

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if self.monitor.closed:
            return
        if isinstance(exception, KeyboardInterrupt):
            self.summary = self.monitor.close(status=INTERRUPTED)
        else:
            error = f"{type(exception).__name__}: {exception}"
            self.summary = self.monitor.close(status=FAILED, error=error)

    def _log(self, row: dict) -> None:
        if self._trainer is None:
            return
        step = int(row["step"])
        metrics = {PREFIX + key: float(value) for key, value in row.items()
                   if key != "step" and _is_number(value)}  # fmt: skip
        for logger in self._trainer.loggers:
            logger.log_metrics(metrics, step=step)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
