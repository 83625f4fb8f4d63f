"""What a run ended with: its status, last step, final metrics and findings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

FINISHED, DIVERGED, INTERRUPTED, FAILED = "finished", "diverged", "interrupted", "failed"


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


def summary_record(summary: Summary, error: str | None, diverged_at: int | None) -> dict:
    """What ``summary.json`` holds: the summary, plus ``error`` and ``diverged_at`` when set.

    Example:
        >>> summary_record(Summary("finished", 10), None, None)["status"]
        'finished'
    """
    record = summary.to_dict()
    if error:
        record["error"] = error
    if diverged_at is not None:
        record["diverged_at"] = diverged_at
    return record
