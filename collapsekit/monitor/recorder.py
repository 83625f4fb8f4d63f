"""The discriminator's outputs per step: kept detached, reduced to per-step means in blocks.

Logits become mean sigmoid(D), probabilities are averaged as given, and a WGAN
critic's raw scores are averaged as they are (``kind="critic"``). A step whose
outputs hold NaN or inf gets a NaN mean, even for logits where sigmoid(inf) is a
finite 1: the run has diverged either way.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import torch

from collapsekit.errors import CollapsekitError

KINDS = ("logits", "probs", "critic")
PROBABILITY, CRITIC = "probability", "critic"  # what the recorded means are
DEFER_MAX_ELEMENTS = 1 << 14  # D outputs up to this size are kept until the block reduction


def family_of(kind: str) -> str:
    """``"critic"`` for critic scores, ``"probability"`` for logits and probabilities."""
    return CRITIC if kind == "critic" else PROBABILITY


def family_of_frame(frame: object) -> str | None:
    """What a stored equilibrium frame records (None when it holds no row yet)."""
    if not len(frame):
        return None
    return CRITIC if "critic_real" in frame.columns else PROBABILITY


class EquilibriumRecorder:
    """Per-step mean sigmoid(D) (or mean critic score), reduced in blocks of ``window`` steps.

    ``add`` only keeps detached outputs (no graph); ``flush`` reduces all pending
    outputs of one shape with a few batched operations and moves the means to the
    CPU in one transfer. Outputs larger than ``DEFER_MAX_ELEMENTS`` are reduced at
    once instead, so pending memory stays small. ``family`` is what the means are
    (``"probability"`` or ``"critic"``), fixed by the first ``add``.
    """

    def __init__(self, window: int, family: str | None = None) -> None:
        self.window = window
        self.family = family
        self._pending_steps: list[int] = []
        self._pending_values: list[torch.Tensor] = []  # alternating real, fake; detached
        self._pending_reduced: list[bool] = []  # per value: no sigmoid to apply
        self._pending_probs: list[bool] = []  # per step: the user passed kind="probs"
        self._steps: list[np.ndarray] = []  # flushed blocks
        self._real: list[np.ndarray] = []
        self._fake: list[np.ndarray] = []
        self._recent: deque[tuple[float, float]] = deque(maxlen=window)

    def add(self, step: int, real: torch.Tensor, fake: torch.Tensor, kind: str) -> None:
        self._check_family(kind)
        self._pending_steps.append(step)
        self._pending_probs.append(kind == "probs")
        for outputs in (real, fake):
            if outputs.numel() > DEFER_MAX_ELEMENTS:
                self._pending_values.append(mean_output(outputs, kind).reshape(1))
                self._pending_reduced.append(True)
            else:
                self._pending_values.append(outputs.detach())
                self._pending_reduced.append(kind != "logits")

    def _check_family(self, kind: str) -> None:
        family = family_of(kind)
        if self.family is None:
            self.family = family
        elif family != self.family:
            was = "critic" if self.family == CRITIC else "logits' or 'probs"
            raise CollapsekitError(
                f"kind={kind!r} after kind='{was}': a run records either D's probabilities "
                "(logits, probs) or a critic's scores; pass the same kind at every step"
            )

    def full(self) -> bool:
        return len(self._pending_steps) >= self.window

    def flush(self, strict: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Reduce and move pending values to the CPU; return the block (steps, real, fake)."""
        if not self._pending_steps:
            return None
        values = batched_means(self._pending_values, self._pending_reduced)  # (2S,)
        steps = np.asarray(self._pending_steps, dtype=np.int64)
        probs = np.asarray(self._pending_probs)
        self._pending_steps, self._pending_values = [], []
        self._pending_reduced, self._pending_probs = [], []
        real, fake = values[0::2], values[1::2]
        self._append(steps, real, fake)
        if strict:
            check_probabilities(steps, real, fake, probs)
        return steps, real, fake

    def _append(self, steps: np.ndarray, real: np.ndarray, fake: np.ndarray) -> None:
        self._steps.append(steps)
        self._real.append(real)
        self._fake.append(fake)
        self._recent.extend(zip(real.tolist(), fake.tolist(), strict=True))

    def restore(
        self, steps: np.ndarray, real: np.ndarray, fake: np.ndarray, family: str | None
    ) -> None:
        self.__init__(self.window, family)
        if len(steps):
            self._append(steps.astype(np.int64), real.astype(np.float64), fake.astype(np.float64))

    def recent(self) -> tuple[list[float], list[float]]:
        pairs = list(self._recent)
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._steps:
            return np.empty(0, np.int64), np.empty(0), np.empty(0)
        return np.concatenate(self._steps), np.concatenate(self._real), np.concatenate(self._fake)


def check_probabilities(
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


def as_output_pair(d_real: object, d_fake: object, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """D's outputs on the real and generated batch, checked: (B, ...) each, same per-sample shape."""
    if kind not in KINDS:
        raise CollapsekitError(f"kind must be 'logits', 'probs' or 'critic', got {kind!r}")
    real, fake = as_outputs(d_real, "d_real"), as_outputs(d_fake, "d_fake")
    if kind == "probs":
        _check_cpu_probabilities(real, "d_real")
        _check_cpu_probabilities(fake, "d_fake")
    if real.shape[1:] != fake.shape[1:]:
        raise CollapsekitError(
            f"d_real has shape {tuple(real.shape)} and d_fake {tuple(fake.shape)}: the outputs per "
            "sample must have the same shape (batch sizes may differ); pass D's outputs for each batch"
        )
    return real, fake


def _check_cpu_probabilities(outputs: torch.Tensor, name: str) -> None:
    """Probabilities on the CPU are checked at once (cheap); on a GPU at the window's end (no sync)."""
    if outputs.device.type != "cpu":
        return
    values = outputs.detach()
    bad = torch.isfinite(values) & ((values < -1e-6) | (values > 1 + 1e-6))
    if bool(bad.any()):
        value = float(values[bad].flatten()[0])
        raise CollapsekitError(
            f"{name} given with kind='probs' holds {value:.4g}, outside [0, 1]; pass "
            "kind='logits' for raw outputs or kind='critic' for a WGAN critic's scores"
        )


def as_outputs(outputs: object, name: str) -> torch.Tensor:
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


def batched_means(values: list[torch.Tensor], reduced: list[bool]) -> np.ndarray:
    """Mean of each tensor (of its sigmoid unless ``reduced``) as float64 on the CPU; NaN if any
    value is NaN or inf."""
    groups: dict[tuple, list[int]] = {}
    for index, value in enumerate(values):
        groups.setdefault((value.shape, value.dtype, value.device), []).append(index)
    means = np.empty(len(values), dtype=np.float64)
    for indices in groups.values():
        batch = torch.stack([values[i] for i in indices]).flatten(1)  # (G, B)
        if batch.dtype in (torch.float16, torch.bfloat16):
            batch = batch.float()
        finite = torch.isfinite(batch).all(dim=1)  # (G,) before sigmoid: sigmoid(inf) is 1
        flags = [reduced[i] for i in indices]
        if not any(flags):
            batch = batch.sigmoid()
        elif not all(flags):
            mask = torch.tensor(flags, device=batch.device)[:, None]  # (G, 1)
            batch = torch.where(mask, batch, batch.sigmoid())
        mean = torch.where(
            finite, batch.mean(dim=1), torch.full_like(finite, math.nan, dtype=batch.dtype)
        )
        means[indices] = mean.cpu().double().numpy()
    return means


def mean_output(outputs: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean sigmoid(outputs) (logits) or mean outputs (probs, critic), 0-d, detached, on the
    outputs' device; NaN if any output is NaN or inf."""
    outputs = outputs.detach()
    if outputs.dtype in (torch.float16, torch.bfloat16):
        outputs = outputs.float()  # half-precision means lose digits over large batches
    finite = torch.isfinite(outputs).all()
    mean = outputs.sigmoid().mean() if kind == "logits" else outputs.mean()
    return torch.where(finite, mean, torch.full_like(mean, math.nan))
