"""Assemble a report: per dataset, its tables, plots, published numbers, findings and notes.

Example:
    >>> records, skipped = load_records(["runs"])  # doctest: +SKIP
    >>> sections = dataset_sections(records)  # doctest: +SKIP
    >>> [section.data for section in sections]  # doctest: +SKIP
    ['grid25', 'ring8']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from collapsekit.data import Dataset, dataset_from_config, get_dataset
from collapsekit.data.registry import registered_names
from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys
from collapsekit.report import curves, display, panels
from collapsekit.report.critic_curves import critic_plot
from collapsekit.report.display import Table
from collapsekit.report.figures import Plot, model_palette, slug
from collapsekit.report.loading import RunRecord, metric_names
from collapsekit.report.published import PublishedResult, published_for
from collapsekit.report.tables import comparison_table, has_findings, summary_table

logger = logging.getLogger(__name__)

# Config fields that may differ between seeds of one model without making them incomparable.
PER_RUN_FIELDS = {"seed", "device", "name", "run_dir"}


@dataclass
class FindingLine:
    """One diagnosis finding of one run, as text."""

    run_id: str
    model: str
    seed: str
    severity: str
    name: str
    steps: str
    message: str
    evidence: str


@dataclass
class DatasetSection:
    """Everything the report shows for one dataset."""

    data: str
    anchor: str
    comparison: Table
    runs: Table
    published: Table | None
    protocol_notes: list[str]
    protocol_sentence: str
    plots: list[Plot]
    findings: list[FindingLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def dataset_sections(records: list[RunRecord]) -> list[DatasetSection]:
    """One section per dataset, bundled ones in registry order (ring8 first), others by name;
    the diagnosis column only when findings exist."""
    with_findings = has_findings(records)
    palette = model_palette([r.label for r in records])
    by_data: dict[str, list[RunRecord]] = {}
    for record in records:
        by_data.setdefault(record.data, []).append(record)
    ordered = sorted(by_data, key=dataset_order)
    return [_section(data, by_data[data], with_findings, palette) for data in ordered]


def dataset_order(spec: str) -> tuple[int, str]:
    """Sort key of a dataset spec: bundled datasets in registry order, others by name after."""
    names = registered_names()
    name = spec.partition(":")[0]
    return (names.index(name) if name in names else len(names), spec)


def _section(
    data: str, records: list[RunRecord], with_findings: bool, palette: dict
) -> DatasetSection:
    metrics = metric_names(records)
    comparison = comparison_table(records)
    published = published_for(data)
    published_table, notes = display.published_display(
        comparison, published, our_protocol(data, records)
    )
    return DatasetSection(
        data=data,
        anchor=f"data-{slug(data)}",
        comparison=display.comparison_display(comparison, metrics, with_findings),
        runs=display.runs_display(summary_table(records), metrics, with_findings),
        published=published_table if published else None,
        protocol_notes=notes,
        protocol_sentence=protocol_sentence(published),
        plots=_plots(data, records, palette),
        findings=finding_lines(records),
        notes=setting_notes(records),
    )


def _plots(data: str, records: list[RunRecord], palette: dict) -> list[Plot]:
    dataset = dataset_for(data, records)
    weights = dataset.mode_weights.numpy() if dataset is not None else None
    plots = [
        panels.samples_plot(data, records, dataset),
        curves.coverage_plot(data, records, palette),
        curves.equilibrium_plot(data, records),
        critic_plot(data, records),
        panels.timeline_plot(data, records, weights),
        curves.shares_plot(data, records, weights, palette),
    ]
    return [plot for plot in plots if plot is not None]


def dataset_for(data: str, records: list[RunRecord]) -> Dataset | None:
    """The dataset behind ``data`` for centres and weights; None when it cannot be built here.

    A mixture stored in a run's config.json (a user's own ``GaussianMixture``) is
    rebuilt from there; otherwise ``data`` is a registered spec.

    Only small mode sets are built (2-D mixtures and the like): a report needs no
    image data files.
    """
    totals = {r.metrics.get(keys.MODES_TOTAL) for r in records} - {None}
    if not totals or max(totals) > panels.MAX_TIMELINE_MODES:
        return None
    try:
        stored = next(
            (r.config for r in records if isinstance(r.config.get("mixture"), dict)), None
        )
        return dataset_from_config(stored) if stored is not None else get_dataset(data)
    except (CollapsekitError, OSError) as error:
        logger.info(
            "dataset %s cannot be built here (%s); plots use uniform mode weights", data, error
        )
        return None


def our_protocol(data: str, records: list[RunRecord]) -> str:
    """How our numbers were measured, in words, from the runs themselves."""
    samples = sorted(
        {int(r.metrics[keys.NUM_SAMPLES]) for r in records if r.metrics.get(keys.NUM_SAMPLES)}
    )
    steps = sorted(
        {int(r.config["steps"]) for r in records if isinstance(r.config.get("steps"), int)}
    )
    text = f"collapsekit: {data}; {_join(samples)} samples per evaluation"
    text += "; high quality = L2 distance within 3 std of the nearest mode centre"
    text += "; a mode is captured with at least one high-quality sample; mean ± 95% t-interval over seeds"
    return text + (f"; {_join(steps)} training steps" if steps else "")


def protocol_sentence(published: list[PublishedResult]) -> str:
    """Why published numbers differ from ours and from each other, with this dataset's example."""
    text = (
        "Protocols differ between papers (mixture radius and width, number of samples, how a mode "
        "counts as captured, networks and training length), so a published number compares with "
        "ours only under the same protocol; the protocol column points to the notes below the table."
    )
    plain = [r for r in published if r.method == "GAN" and r.metric == keys.MODES_CAPTURED]
    if len(plain) > 1:
        quoted = " and ".join(
            f"{r.value:g} {'mode' if r.value == 1 else 'modes'} in {r.source}" for r in plain
        )
        text += f" The plain GAN alone captures {quoted}."
    return text


def _join(values: list[int]) -> str:
    return " or ".join(f"{v:,}" for v in values) if values else "unknown"


def setting_notes(records: list[RunRecord]) -> list[str]:
    """Warn when runs averaged together differ in settings other than the seed."""
    notes = []
    for label, group in panels.by_model(records).items():
        fields = sorted({k for r in group for k in r.config} - PER_RUN_FIELDS)
        differing = [k for k in fields if len({repr(r.config.get(k)) for r in group}) > 1]
        if differing:
            values = "; ".join(
                f"{k}: {', '.join(sorted({str(r.config.get(k)) for r in group}))}"
                for k in differing
            )
            notes.append(
                f"The runs of {label} differ in more than the seed ({values}); their mean mixes settings."
            )
    return notes


def finding_lines(records: list[RunRecord]) -> list[FindingLine]:
    lines = []
    for record in sorted(records, key=lambda r: (r.label, str(r.seed).zfill(8), r.run_id)):
        for finding in record.findings:
            lines.append(
                FindingLine(
                    run_id=record.run_id,
                    model=record.label,
                    seed=str(record.seed),
                    severity=str(finding.get("severity", "")),
                    name=str(finding.get("name", "?")),
                    steps=_steps(finding.get("start_step"), finding.get("end_step")),
                    message=str(finding.get("message", "")),
                    evidence=_evidence(finding.get("evidence")),
                )
            )
    return lines


def _steps(start: object, end: object) -> str:
    if start is None and end is None:
        return ""
    if start == end or end is None:
        return f"{start:,}" if isinstance(start, int) else str(start)
    return (
        f"{start:,}–{end:,}"
        if isinstance(start, int) and isinstance(end, int)
        else f"{start}–{end}"
    )


def _evidence(evidence: object) -> str:
    if not isinstance(evidence, dict):
        return ""
    return ", ".join(f"{k} = {display.format_value(k, v)}" for k, v in evidence.items())


def status_counts(records: list[RunRecord]) -> str:
    counts = pd.Series([r.status for r in records]).value_counts()
    return ", ".join(f"{count} {status}" for status, count in counts.items())
