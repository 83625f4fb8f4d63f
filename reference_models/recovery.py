"""Resuming safely: what a checkpoint was trained as, and repairing the files around it.

Each checkpoint records the settings the run was trained with (all but those a
resumed run may change: ``steps``, ``eval_every``, ``device``) and a copy of the
history up to it. ``resume`` then refuses a ``config.json`` edited to another
model, dataset or size in one line, instead of a ``load_state_dict`` traceback
or, worse, a run that goes on as something else; and it repairs what a crash or
an editor left damaged: the history comes back from the copy, unreadable
samples and equilibrium lines are dropped, each with one warning line.

Example:
    >>> state = checkpoint_state(trainer, monitor.rows)  # doctest: +SKIP
    >>> check_trained_as(state, trainer.config, "runs/vanilla-ring8-seed0")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

import collapsekit
from collapsekit.atomic import json_safe
from collapsekit.run_cleanup import remove_stale_temporary_files
from collapsekit.runs import EQUILIBRIUM, HISTORY, SAMPLES
from reference_models.training import GANTrainer, TrainConfig

logger = logging.getLogger(__name__)

RESUMABLE_CHANGES = ("steps", "eval_every", "device")  # a resumed run may change these
TRAINED_AS, HISTORY_COPY = "trained_as", "history"  # keys added to the trainer's state
STEP = collapsekit.keys.STEP


def checkpoint_state(trainer: GANTrainer, rows: list[dict]) -> dict:
    """The trainer's state, what it was trained as, and a copy of the history ``rows``."""
    state = trainer.state_dict()
    state[TRAINED_AS] = trained_as(trainer.config)
    state[HISTORY_COPY] = json.loads(json.dumps(json_safe(rows)))  # plain types: weights_only
    return state


def trained_as(config: TrainConfig) -> dict:
    """The settings that make a run what it is: all but ``RESUMABLE_CHANGES``.

    Example:
        >>> sorted(trained_as(TrainConfig()))[:3]
        ['batch_size', 'beta1', 'beta2']
    """
    values = json_safe(dataclasses.asdict(config))
    return {key: value for key, value in values.items() if key not in RESUMABLE_CHANGES}


def trainer_state(checkpoint: object, run_dir: str | os.PathLike) -> dict:
    """The trainer's part of a loaded checkpoint, or RunFolderError if it has none."""
    state = checkpoint.get("trainer") if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or "monitor" not in checkpoint:
        raise collapsekit.RunFolderError(
            f"{run_dir}/checkpoint.pt holds no trainer state; remove it and resume "
            "to start the run again from step 0"
        )
    return state


def check_trained_as(state: dict, config: TrainConfig, run_dir: str | os.PathLike) -> None:
    """Refuse, in one line, a ``config.json`` that describes another run than the checkpoint.

    Checkpoints written before this record was kept pass; ``load_trainer_state``
    still refuses networks of another shape.
    """
    recorded = state.get(TRAINED_AS)
    if not isinstance(recorded, dict):
        return
    now = trained_as(config)
    for key, value in recorded.items():
        if key in now and now[key] != value:
            raise collapsekit.RunFolderError(
                f"{run_dir}/config.json says {key}={now[key]!r} but its checkpoint was trained "
                f"with {key}={value!r}; put config.json back, or start a new run with these settings"
            )


def load_trainer_state(trainer: GANTrainer, state: dict, run_dir: str | os.PathLike) -> None:
    """``trainer.load_state_dict(state)``, with one line when the networks do not fit."""
    try:
        trainer.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, TypeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise collapsekit.RunFolderError(
            f"{run_dir}/checkpoint.pt does not fit the model config.json describes ({reason}); "
            "put config.json back, or start a new run with these settings"
        ) from None


def repair_run_files(run: collapsekit.RunDir, checkpoint: dict) -> list[str]:
    """Make a run folder resumable from ``checkpoint``; return one message per repair (also logged)."""
    remove_stale_temporary_files(run.path, older_than_s=0)  # resume holds the run's lock
    state = checkpoint["trainer"]
    step = checkpoint["monitor"].get("step")
    messages = [
        *_repair_history(run, state.get(HISTORY_COPY), step),
        *_repair_samples(run),
        *_repair_equilibrium(run),
    ]
    for message in messages:
        logger.warning(message)
    return messages


def _repair_history(run: collapsekit.RunDir, copy: list | None, step: int | None) -> list[str]:
    try:
        steps = [s for s in run.read_history()[STEP].tolist() if step is None or s <= step]
        problem = None
    except collapsekit.RunFolderError as error:
        steps, problem = None, str(error)
    if copy is not None:
        if steps == [row.get(STEP) for row in copy]:
            return []
        run.write_history(copy)
        problem = problem or f"{run.path / HISTORY} lacks evaluations ({len(steps)} of {len(copy)})"
        return [f"{problem}; restored its {len(copy)} rows up to step {step} from checkpoint.pt"]
    if problem is None:
        return []
    rows = _readable_history_rows(run.path / HISTORY)  # a checkpoint without a copy
    run.write_history(rows)
    return [f"{problem}; kept its {len(rows)} readable rows"]


def _readable_history_rows(path: os.PathLike) -> list[dict]:
    try:
        frame = pd.read_csv(path, on_bad_lines="skip", dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return []
    rows = []
    for record in frame.to_dict("records"):
        try:
            rows.append({key: _cell(value) for key, value in record.items()} | {STEP: int(record[STEP])})
        except (KeyError, ValueError, json.JSONDecodeError):
            continue
    return rows


def _cell(text: str) -> object:
    if text == "":
        return None
    return json.loads(text) if text.startswith("[") else float(text)


def _repair_samples(run: collapsekit.RunDir) -> list[str]:
    try:
        run.read_samples()
        return []
    except collapsekit.RunFolderError as error:
        (run.path / SAMPLES).unlink(missing_ok=True)
        return [f"{error}; removed it: its snapshots are lost, the next evaluation writes it again"]


def _repair_equilibrium(run: collapsekit.RunDir) -> list[str]:
    try:
        run.read_equilibrium()
        return []
    except collapsekit.RunFolderError as error:
        rows = _readable_equilibrium_rows(run.path / EQUILIBRIUM)
        (run.path / EQUILIBRIUM).unlink(missing_ok=True)
        if rows:
            run.append_equilibrium(*np.array(rows, dtype=np.float64).T)
        return [f"{error}; kept its {len(rows)} readable rows"]


def _readable_equilibrium_rows(path: os.PathLike) -> list[tuple[int, float, float]]:
    rows = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        parts = line.split(",")
        try:
            rows.append((int(parts[0]), float(parts[1]), float(parts[2])))
        except (ValueError, IndexError):
            continue
    return rows
