"""A finding: one named observation about a run, with its steps and the numbers behind it."""

from __future__ import annotations

from dataclasses import dataclass, field

INFO, WARNING, ERROR = "info", "warning", "error"
SEVERITY_RANK = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True)
class Finding:
    """One named observation about a run, with the step range and the numbers behind it.

    Example:
        >>> str(Finding("collapsed", ERROR, 0, 500, "covers 1 of 8 modes"))
        'collapsed (error): covers 1 of 8 modes'
    """

    name: str  # e.g. "collapsed", "mode_hopping"
    severity: str  # "error", "warning" or "info"
    start_step: int | None  # first step the finding holds at (None: not tied to steps)
    end_step: int | None  # last step it was seen at
    message: str  # one sentence a person reads
    evidence: dict[str, float] = field(default_factory=dict)  # the numbers behind it

    def to_dict(self) -> dict:
        """Plain dict for ``summary.json``: name, severity, start_step, end_step, message, evidence."""
        return {
            "name": self.name,
            "severity": self.severity,
            "start_step": self.start_step,
            "end_step": self.end_step,
            "message": self.message,
            "evidence": dict(self.evidence),
        }

    def __str__(self) -> str:
        return f"{self.name} ({self.severity}): {self.message}"
