"""Diagnosis: turn a run's history into named findings with evidence in numbers.

``diagnose(history, equilibrium)`` reads the rows the Monitor writes (one per
evaluation: coverage metrics and the discriminator's window means) and, when
given, the per-step equilibrium frame (``step, d_real, d_fake``). It returns a
list of :class:`Finding`, most severe first. Each rule is a short function; its
thresholds are fields of :class:`Thresholds`, documented there.

Findings:

- ``diverged`` (error): NaN or inf in the discriminator's outputs or the samples.
- ``collapsed`` (error): the last evaluation covers few modes (known modes), or
  has low coverage / recall, or many NDB bins differ (no known modes).
- ``partial_collapse`` (warning): the last evaluation misses some modes, not most.
- ``mode_hopping`` (warning): the set of covered modes keeps changing between
  evaluations while coverage stays below full.
- ``oscillation`` (warning): coverage or D's outputs swing with a period.
- ``discriminator_dominance`` (warning): D(x) near 1 and D(G(z)) near 0 for a
  sustained stretch: the generator's gradients vanish.
- ``blind_discriminator`` (warning): coverage low while D's outputs sit near 1/2:
  the discriminator no longer sees the collapse.
- ``near_equilibrium`` (info): D(x) and D(G(z)) near 1/2 with full coverage: health.
- ``low_quality`` (warning): the modes are reached but few samples are good: blurry,
  not collapsed (replaces ``collapsed``/``partial_collapse`` when it holds).
- for a WGAN critic (history with ``wasserstein_estimate``, or an equilibrium frame
  with ``critic_real, critic_fake``), the 1/2-equilibrium rules give way to
  ``critic_exploding``, ``critic_drift`` and ``blind_critic`` (see ``critic.py``).

Example:
    >>> rows = [{"step": s, "modes_covered": 1, "modes_total": 8, "d_real": 0.97, "d_fake": 0.03}
    ...         for s in range(0, 5000, 500)]
    >>> [finding.name for finding in diagnose(rows)]
    ['collapsed', 'discriminator_dominance']
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from collapsekit.diagnose.context import Context, equilibrium_frame, history_frame
from collapsekit.diagnose.coverage import collapse
from collapsekit.diagnose.critic import blind_critic, critic_drift, critic_exploding
from collapsekit.diagnose.divergence import diverged
from collapsekit.diagnose.equilibrium import blind, dominance, near_equilibrium
from collapsekit.diagnose.finding import ERROR, INFO, SEVERITY_RANK, WARNING, Finding
from collapsekit.diagnose.modes_over_time import mode_hopping, oscillation
from collapsekit.diagnose.thresholds import Thresholds
from collapsekit.metrics import keys

__all__ = ["ERROR", "INFO", "WARNING", "Finding", "Thresholds", "diagnose"]

# D's outputs as probabilities (logits, probs): the 1/2-equilibrium rules apply.
PROBABILITY_RULES = (collapse, mode_hopping, oscillation, dominance, blind, near_equilibrium)
# A WGAN critic's scores: rules on the Wasserstein estimate instead (oscillation: coverage only).
CRITIC_RULES = (collapse, mode_hopping, oscillation, critic_exploding, critic_drift, blind_critic)


def diagnose(
    history: pd.DataFrame | Iterable[dict] | None,
    equilibrium: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds | None = None,
    diverged_at: int | None = None,
    **overrides: float,
) -> list[Finding]:
    """Name what is going wrong (or right) in a run, most severe first.

    Args:
        history: one row per evaluation (``Monitor.history``, ``RunDir.read_history()``
            or a list of dicts) with ``step`` and any of the coverage and D columns.
        equilibrium: per-step ``step, d_real, d_fake`` (``Monitor.equilibrium``); finds
            NaN outputs at their exact step and D's oscillations at full resolution.
        thresholds: a :class:`Thresholds`; single ones can also be given by name.
        diverged_at: a step known to have diverged (e.g. NaN losses seen by the trainer).

    Example:
        >>> rows = [{"step": 0, "modes_covered": 8, "modes_total": 8, "d_real": 0.52, "d_fake": 0.48}]
        >>> diagnose(rows)[0].name
        'near_equilibrium'
    """
    limits = (thresholds or Thresholds()).replace(**overrides)
    rows = history_frame(history)
    steps_frame = equilibrium_frame(equilibrium)
    findings = []
    divergence = diverged(rows, steps_frame, diverged_at)
    if divergence is not None:
        findings.append(divergence)
        rows = rows[rows[keys.STEP] < divergence.start_step]
        steps_frame = steps_frame[steps_frame[keys.STEP] < divergence.start_step]
    context = Context(rows, steps_frame, limits)
    for rule in CRITIC_RULES if context.critic else PROBABILITY_RULES:
        finding = rule(context)
        if finding is not None:
            findings.append(finding)
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], f.start_step or 0))
