"""Planning a sweep: one task per grid point, with what its run folder asks for."""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from collapsekit.data import get_dataset
from collapsekit.errors import CollapsekitError
from collapsekit.runs import CHECKPOINT, CONFIG, RunDir, ensure_writable_folder
from collapsekit.sweep.grid import SweepGrid

TRAIN, RESUME, SKIP = "train", "resume", "skip"  # what a run's folder asks for
INVALID = "invalid"  # a run whose settings are wrong: reported at once, never sent to a worker
COMPLETE = ("finished", "diverged")  # summaries that end a run; anything else is resumed
FAILED = "failed"


@dataclass
class RunTask:
    """One grid point: where its folder is, what to train there and what the folder asks for."""

    name: str
    run_dir: str
    config: dict  # TrainConfig fields
    action: str  # TRAIN, RESUME or SKIP, as planned from the folder; INVALID: cannot start
    force: bool = False  # start again even if the folder holds a run
    threads: int = 1  # torch threads for this run
    error: str | None = None  # why an INVALID run cannot start


@dataclass
class RunOutcome:
    """What became of one run in a sweep."""

    name: str
    run_dir: str
    action: str  # TRAIN, RESUME or SKIP: what this sweep did
    status: str  # finished, diverged, interrupted or failed
    step: int | None = None
    metrics: dict = field(default_factory=dict)
    error: str | None = None  # "Type: message" when the run failed
    traceback: str | None = None  # for errors that are not a user's bad input
    elapsed_s: float = 0.0  # time spent on it in this sweep


def run_name(model: str, data: str, seed: int) -> str:
    """The run's folder name: the same for the same model, dataset spec and seed.

    Example:
        >>> run_name("vanilla", "ring8:radius=1,std=0.01", 3)
        'vanilla-ring8_radius=1_std=0.01-seed3'
    """
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", data.strip())
    return f"{model}-{slug}-seed{seed}"


def plan_sweep(grid: SweepGrid, out: str | os.PathLike, force: bool = False) -> list[RunTask]:
    """One task per grid point, in grid order, with what its folder asks for.

    Raises CollapsekitError if a folder holds a run with other settings (rerun
    it with ``force=True`` or choose another ``out``).
    """
    out = Path(out)
    ensure_writable_folder(out)
    tasks, checked = [], {}
    for config in expand_grid(grid):
        name = run_name(config["model"], config["data"], config["seed"])
        error = _config_error(config, checked)
        action = INVALID if error else TRAIN if force else folder_action(out / name)
        tasks.append(RunTask(name, str(out / name), config, action, force=force, error=error))
    _check_unique(tasks)
    if not force:
        _check_settings_match(tasks)
    return tasks


def expand_grid(grid: SweepGrid) -> list[dict]:
    """TrainConfig fields for every (model, dataset, seed), with each model's options."""
    from reference_models import TrainConfig  # lazily: collapsekit never needs it otherwise

    reserved = {"model", "data", "seed", "options"}
    valid = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in reserved]
    unknown = sorted(set(grid.settings) - set(valid))
    if unknown:
        raise CollapsekitError(
            f"unknown trainer setting(s) {', '.join(unknown)}; valid: {', '.join(valid)}"
        )
    TrainConfig(**grid.settings).validate()  # a bad shared setting stops the sweep, not each run
    options = {model: _model_options(grid, model) for model in grid.models}
    return [
        {**grid.settings, "model": model, "data": data, "seed": seed, "options": options[model]}
        for model in dict.fromkeys(grid.models)
        for data in dict.fromkeys(grid.data)
        for seed in dict.fromkeys(grid.seeds)
    ]


def _model_options(grid: SweepGrid, model: str) -> dict:
    stray = sorted(set(grid.model_options) - set(grid.models))
    if stray:
        raise CollapsekitError(
            f"options given for {', '.join(stray)}, which the sweep does not run"
        )
    accepted = {name: set(_option_names(name)) for name in grid.models}
    for key in grid.options:
        if not any(key in names for names in accepted.values()):
            takers = (
                ", ".join(f"{m}: {', '.join(sorted(n))}" for m, n in accepted.items() if n)
                or "none"
            )
            raise CollapsekitError(
                f"no model in this sweep takes option {key!r}; options by model: {takers}"
            )
    shared = {k: v for k, v in grid.options.items() if k in accepted[model]}
    return {**shared, **grid.model_options.get(model, {})}


def _option_names(model: str) -> dict:
    import reference_models

    if model not in reference_models.list_models():
        return {}  # an unknown model fails in its own run, with the valid names
    return reference_models.get_model(model).option_defaults


def _config_error(config: dict, checked: dict) -> str | None:
    """Why this run cannot start (unknown model, bad dataset parameter, ...), found without training."""
    import reference_models

    model, options = config["model"], config["options"]
    checks = (
        (("data", config["data"]), lambda: get_dataset(config["data"])),
        (
            ("model", model, repr(options)),
            lambda: reference_models.get_model(model).resolve_options(options),
        ),
        (("settings", repr(config)), lambda: reference_models.TrainConfig(**config).validate()),
    )
    for key, check in checks:
        if key not in checked:  # each dataset and model is built once per sweep, not once per seed
            try:
                check()
                checked[key] = None
            except CollapsekitError as error:
                checked[key] = f"{type(error).__name__}: {error}"
        if checked[key]:
            return checked[key]
    return None


def folder_action(path: Path) -> str:
    """What a run folder asks for: TRAIN (no run yet), SKIP (finished) or RESUME (half done)."""
    if not (path / CONFIG).is_file():
        return TRAIN
    summary = RunDir.open(path).read_summary()
    if summary is not None and summary.get("status") in COMPLETE:
        return SKIP
    return RESUME if (path / CHECKPOINT).is_file() else TRAIN


def _check_unique(tasks: list[RunTask]) -> None:
    seen: dict[str, dict] = {}
    for task in tasks:
        if task.name in seen and seen[task.name]["data"] != task.config["data"]:
            raise CollapsekitError(
                f"datasets {seen[task.name]['data']!r} and {task.config['data']!r} share the folder "
                f"{task.name}; write their parameters the same way or run them in separate --out folders"
            )
        seen[task.name] = task.config


def _check_settings_match(tasks: list[RunTask]) -> None:
    from reference_models import TrainConfig, apply_protocol

    for task in tasks:
        if task.action not in (SKIP, RESUME):  # nothing there, or nothing worth keeping
            continue
        stored = dataclasses.asdict(TrainConfig.from_dict(RunDir.open(task.run_dir).read_config()))
        # A run stores what its protocol resolved to (ring8 -> ring8:radius=1,std=0.01)
        wanted = dataclasses.asdict(apply_protocol(TrainConfig(**task.config)))
        # None: the kind's default, filled in (and stored) when the run was built
        differ = [
            k
            for k in wanted
            if k not in ("device", "options") and wanted[k] is not None and stored[k] != wanted[k]
        ]
        if _options_used(wanted) != _options_used(stored):
            differ.append("options")
        if differ:
            changes = ", ".join(f"{k} {stored[k]!r} -> {wanted[k]!r}" for k in differ)
            raise CollapsekitError(
                f"{task.run_dir} holds a run with other settings ({changes}); "
                "rerun it with --force or choose another --out"
            )


def _options_used(config: dict) -> dict | str:
    """The model options a run with ``config`` trains with: those given over the defaults.

    Runs store every option they used, a sweep only those given, so the two are
    compared after filling in the defaults (which may depend on the kind of data).
    """
    import reference_models
    from reference_models.training import data_kind

    try:
        model = reference_models.get_model(config["model"])
        return model.resolve_options(
            config["options"] or {}, data_kind(get_dataset(config["data"]))
        )
    except CollapsekitError as error:  # e.g. an option this version no longer knows
        return f"invalid ({error})"
