"""Read runs for a report, from the run store only.

Each run folder becomes a :class:`RunRecord`: its summary row (as
``collapsekit.load_runs`` gives it), history, per-step equilibrium, final
samples, findings and, for 2-D data, the stored discriminator map. A folder that
cannot be read is skipped with a warning naming it; the report lists it.

Example:
    >>> runs, skipped = load_records(["runs"])  # doctest: +SKIP
    >>> runs[0].label, runs[0].status  # doctest: +SKIP
    ('vanilla', 'finished')
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from collapsekit.d_map import read_d_map
from collapsekit.errors import CollapsekitError, RunFolderError
from collapsekit.metrics import keys
from collapsekit.run_cleanup import remove_stale_temporary_files
from collapsekit.runs import RunDir, _run_row, find_runs

logger = logging.getLogger(__name__)

# Columns of a run's row that describe the run rather than measure it.
BOOKKEEPING = {
    keys.STEP,
    keys.ELAPSED_SECONDS,
    keys.NUM_SAMPLES,
    keys.MODES_TOTAL,
    keys.MODE_COUNTS,
}


@dataclass
class RunRecord:
    """Everything a report shows about one run, read from its folder."""

    path: Path
    config: dict
    row: dict  # one row of load_runs: config fields, status, final metrics
    metrics: dict  # final metrics: the summary's, or the last evaluation's for incomplete runs
    history: pd.DataFrame  # one row per evaluation
    equilibrium: pd.DataFrame  # step, d_real, d_fake per training step
    final_samples: np.ndarray | None  # (N, D) samples of the last evaluation
    findings: list[dict] = field(default_factory=list)
    d_map: dict | None = None  # x (W,), y (H,), values (H, W) of sigmoid(D)

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def data(self) -> str:
        return str(self.config.get("data", "unknown"))

    @property
    def model(self) -> str:
        """The run's model; a run whose config names none is its own: its folder's name."""
        return str(self.config.get("model") or self.config.get("label") or self.path.name)

    @property
    def label(self) -> str:
        """The report row: the config's ``label``, else the model with its options when it has
        any: ``unrolled (unroll_steps=10)``."""
        if self.config.get("label"):
            return str(self.config["label"])
        options = self.row.get("options") or ""
        return f"{self.model} ({options})" if options else self.model

    @property
    def seed(self) -> object:
        return self.config.get("seed", "")

    @property
    def status(self) -> str:
        return str(self.row.get("status", "unknown"))

    @property
    def step(self) -> int | None:
        value = self.row.get(keys.STEP)
        return (
            None
            if value is None or (isinstance(value, float) and math.isnan(value))
            else int(value)
        )


def load_records(sources: list[str | os.PathLike]) -> tuple[list[RunRecord], list[tuple[str, str]]]:
    """Run records under each source (a run folder or a folder of runs), and the folders skipped.

    Raises CollapsekitError when a source does not exist. Each folder is read once
    even when two sources contain it.
    """
    folders: dict[Path, None] = {}
    for source in sources:
        source = Path(source)
        if not source.exists():
            raise CollapsekitError(
                f"{source} does not exist; pass run folders or folders holding runs "
                "(collapsekit run writes them under runs/)"
            )
        folders.update(dict.fromkeys(path.resolve() for path in find_runs(source)))
    records, skipped = [], []
    for path in folders:
        with contextlib.suppress(OSError):  # a read-only folder keeps its leftovers
            remove_stale_temporary_files(path)
        try:
            records.append(read_record(path))
        except (RunFolderError, ValueError, KeyError, TypeError) as error:
            logger.warning("skipping run folder %s: %s", path, error)
            skipped.append((str(path), str(error)))
    return records, skipped


def read_record(path: str | os.PathLike) -> RunRecord:
    """Read one run folder; raise RunFolderError (or a parse error) if any part is corrupt."""
    run = RunDir.open(path)
    row = _run_row(run)
    summary = run.read_summary()
    history = run.read_history()
    metrics = dict(summary.get("metrics", {})) if summary else _last_row(history)
    samples = run.read_samples()
    return RunRecord(
        path=run.path,
        config=run.read_config(),
        row=row,
        metrics=metrics,
        history=history,
        equilibrium=run.read_equilibrium(),
        final_samples=samples.get("final"),
        findings=_findings(summary),
        d_map=read_d_map(run.path),
    )


def _last_row(history: pd.DataFrame) -> dict:
    if not len(history):
        return {}
    row = history.iloc[-1].to_dict()
    row.pop(keys.STEP, None)
    return row


def _findings(summary: dict | None) -> list[dict]:
    findings = (summary or {}).get("findings") or []
    if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
        raise RunFolderError("summary.json is corrupt: findings must be a list of objects")
    return findings


def metric_names(records: list[RunRecord]) -> list[str]:
    """Numeric metrics present in any run, the mode metrics first, then in order of appearance."""
    preferred = [
        keys.MODES_CAPTURED,
        keys.MODES_COVERED,
        keys.HIGH_QUALITY_FRAC,
        keys.MODE_KL,
        keys.D_REAL,
        keys.D_FAKE,
        keys.D_GAP,
        keys.D_REAL_STD,
        keys.D_FAKE_STD,
        keys.WASSERSTEIN_ESTIMATE,
        keys.CRITIC_REAL,
        keys.CRITIC_FAKE,
    ]
    seen: dict[str, None] = {}
    for record in records:
        for name, value in record.metrics.items():
            if name not in BOOKKEEPING and (
                value is None or _is_number(value)
            ):  # None: NaN in JSON
                seen[name] = None
    return [n for n in preferred if n in seen] + [n for n in seen if n not in preferred]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
