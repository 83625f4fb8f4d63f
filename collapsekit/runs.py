"""The run store: one folder per run, readable at every moment, even after kill -9.

Layout of ``runs/<id>/``:

- ``config.json``: what was run (model, data spec, seed, trainer options).
- ``history.csv``: one row per evaluation, rewritten atomically at each one.
- ``equilibrium.csv``: per-step mean sigmoid(D) on real and generated batches
  (``step,d_real,d_fake``), or a WGAN critic's mean raw scores
  (``step,critic_real,critic_fake``), appended in blocks; a torn last line is ignored.
- ``samples.npz``: ``final`` plus ``step_<N>`` snapshots of evaluation samples.
- ``checkpoint.pt``: the trainer's state at the last evaluation (weights,
  optimisers, step, RNG states), loaded with ``weights_only=True``.
- ``summary.json``: written last, atomically: status, final metrics, findings.
- ``d_map.npz`` (2-D data only, optional): sigmoid(D) on a grid over the data,
  written at the final evaluation (``x`` (W,), ``y`` (H,), ``values`` (H, W)).

Example:
    >>> run = RunDir.create("runs/demo", {"model": "vanilla"})  # doctest: +SKIP
    >>> RunDir.open("runs/demo").read_config()["model"]  # doctest: +SKIP
    'vanilla'
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from collapsekit.atomic import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    disk_full_named,
)
from collapsekit.d_map import D_MAP, read_d_map, write_d_map  # noqa: F401  (part of the store)
from collapsekit.errors import RunFolderError
from collapsekit.metrics import keys
from collapsekit.run_schema import (
    LIST_METRICS,
    check_history,
    check_sample_arrays,
    check_summary,
)

logger = logging.getLogger(__name__)

CONFIG = "config.json"
HISTORY = "history.csv"
EQUILIBRIUM = "equilibrium.csv"
SAMPLES = "samples.npz"
CHECKPOINT = "checkpoint.pt"
SUMMARY = "summary.json"

EQUILIBRIUM_COLUMNS = (keys.STEP, keys.D_REAL, keys.D_FAKE)
CRITIC_EQUILIBRIUM_COLUMNS = (keys.STEP, keys.CRITIC_REAL, keys.CRITIC_FAKE)
LIST_COLUMNS = LIST_METRICS  # stored as JSON text in CSV cells


class RunDir:
    """One run's folder. ``create`` makes a new one; ``open`` validates an existing one."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # -- creation and validation -------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, config: dict) -> RunDir:
        """Make a new run folder and write its config; refuses to overwrite an existing run."""
        path = Path(path)
        ensure_writable_folder(path.parent)
        if path.exists() and not path.is_dir():
            raise RunFolderError(f"{path} is a file, not a folder; choose another --out")
        if (path / CONFIG).exists():
            raise RunFolderError(
                f"{path} already holds a run; continue it with --resume {path} or choose another folder"
            )
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path)
        atomic_write_json(path / CONFIG, config)
        return run

    @classmethod
    def open(cls, path: str | os.PathLike) -> RunDir:
        """Open an existing run folder; raise RunFolderError if it is not a readable run."""
        path = Path(path)
        if not path.is_dir():
            raise RunFolderError(f"{path} is not a folder; pass the folder of a run (it holds {CONFIG})")
        if not (path / CONFIG).is_file():
            raise RunFolderError(f"{path} is not a run folder: {CONFIG} is missing")
        run = cls(path)
        run.read_config()  # raises if corrupt
        return run

    # -- config and summary ------------------------------------------------------
    def read_config(self) -> dict:
        return self._read_json(CONFIG)

    def write_summary(self, summary: dict) -> None:
        atomic_write_json(self.path / SUMMARY, summary)

    def read_summary(self) -> dict | None:
        """The summary, or None while the run is in progress (or was killed)."""
        if not (self.path / SUMMARY).exists():
            return None
        return check_summary(self._read_json(SUMMARY), self.path / SUMMARY)

    def _read_json(self, name: str) -> dict:
        try:
            value = json.loads((self.path / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise RunFolderError(f"{self.path / name} is corrupt ({error}); the run cannot be read") from None
        if not isinstance(value, dict):
            raise RunFolderError(f"{self.path / name} is corrupt: expected a JSON object")
        return value

    # -- history -----------------------------------------------------------------
    def write_history(self, rows: list[dict]) -> None:
        """Rewrite history.csv atomically with all rows (a few hundred at most)."""
        frame = pd.DataFrame([_encode_row(row) for row in rows])
        atomic_write_text(self.path / HISTORY, frame.to_csv(index=False))

    def read_history(self) -> pd.DataFrame:
        """History rows as a DataFrame (empty if none yet); list cells decoded back to lists."""
        path = self.path / HISTORY
        if not path.exists() or path.stat().st_size == 0:
            return pd.DataFrame(columns=[keys.STEP])
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise RunFolderError(f"{path} is corrupt ({error})") from None
        if keys.STEP not in frame.columns:
            raise RunFolderError(f"{path} is corrupt: no '{keys.STEP}' column")
        for column in LIST_COLUMNS:
            if column in frame.columns:
                frame[column] = frame[column].map(lambda cell: _decode_list(cell, path))
        return check_history(frame, path)

    # -- equilibrium -------------------------------------------------------------
    def append_equilibrium(
        self,
        steps: np.ndarray,
        d_real: np.ndarray,
        d_fake: np.ndarray,
        columns: tuple[str, str, str] = EQUILIBRIUM_COLUMNS,
    ) -> None:
        """Append per-step rows; the header (``columns``) is written with the first block."""
        path = self.path / EQUILIBRIUM
        new = not path.exists()
        block = np.column_stack([steps, d_real, d_fake])
        text = io.StringIO()
        if new:
            text.write(",".join(columns) + "\n")
        np.savetxt(text, block, fmt=["%d", "%.17g", "%.17g"], delimiter=",")
        with disk_full_named(path), open(path, "a", encoding="utf-8") as stream:
            stream.write(text.getvalue())
            stream.flush()

    def read_equilibrium(self) -> pd.DataFrame:
        """Per-step equilibrium rows (``step,d_real,d_fake`` or ``step,critic_real,critic_fake``);
        a torn or malformed last line (kill -9 mid-write) is dropped."""
        path = self.path / EQUILIBRIUM
        if not path.exists():
            return pd.DataFrame(columns=list(EQUILIBRIUM_COLUMNS))
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        header = tuple(lines[0].split(",")) if lines else ()
        if header not in (EQUILIBRIUM_COLUMNS, CRITIC_EQUILIBRIUM_COLUMNS):
            raise RunFolderError(f"{path} is corrupt: unexpected header")
        rows = []
        for line in lines[1:]:
            parts = line.split(",")
            try:
                rows.append((int(parts[0]), float(parts[1]), float(parts[2])))
            except (ValueError, IndexError):
                if line is not lines[-1]:
                    raise RunFolderError(f"{path} is corrupt: bad line {line!r}") from None
        frame = pd.DataFrame(rows, columns=list(header))
        return frame.astype({header[0]: "int64", header[1]: "float64", header[2]: "float64"})

    def truncate_equilibrium(self, last_step: int) -> pd.DataFrame:
        """Keep rows with step <= last_step (used on resume); return what is kept."""
        frame = self.read_equilibrium()
        frame = frame[frame[keys.STEP] <= last_step]
        (self.path / EQUILIBRIUM).unlink(missing_ok=True)
        if len(frame):
            steps, real, fake = (frame[column].to_numpy() for column in frame.columns)
            self.append_equilibrium(steps, real, fake, tuple(frame.columns))
        return frame

    # -- samples -----------------------------------------------------------------
    def write_samples(self, arrays: dict[str, np.ndarray]) -> None:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic_write_bytes(self.path / SAMPLES, buffer.getvalue())

    def read_samples(self) -> dict[str, np.ndarray]:
        path = self.path / SAMPLES
        if not path.exists():
            return {}
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise RunFolderError(f"{path} is corrupt ({error})") from None
        return check_sample_arrays(arrays, path)

    # -- checkpoint --------------------------------------------------------------
    def save_checkpoint(self, state: dict) -> None:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write_bytes(self.path / CHECKPOINT, buffer.getvalue())

    def has_checkpoint(self) -> bool:
        return (self.path / CHECKPOINT).is_file()

    def load_checkpoint(self) -> dict | None:
        path = self.path / CHECKPOINT
        if not path.exists():
            return None
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises many types for a damaged archive
            raise RunFolderError(
                f"{path} is corrupt ({type(error).__name__}); the run cannot resume from it: "
                "remove it and resume to start the run again from step 0"
            ) from None


def ensure_writable_folder(folder: Path) -> None:
    """Create ``folder`` if needed and check that we can write in it."""
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"{folder} is a file, not a folder; choose another output folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunFolderError(f"cannot create {folder} ({error.strerror}); choose a writable folder") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RunFolderError(f"{folder} is not writable; choose a writable output folder")


def _encode_row(row: dict) -> dict:
    return {k: json.dumps(v) if isinstance(v, (list, tuple)) else v for k, v in row.items()}


def _decode_list(cell: object, path: Path) -> object:
    if isinstance(cell, str) and cell.startswith("["):
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            raise RunFolderError(f"{path} is corrupt: a list cell is not JSON, got {cell[:40]!r}") from None
    return cell


def find_runs(root: str | os.PathLike) -> list[Path]:
    """Run folders under ``root`` (any depth): folders that hold a config.json; ``root`` may be one."""
    root = Path(root)
    if (root / CONFIG).is_file():
        return [root]
    return sorted(p.parent for p in root.rglob(CONFIG))


def load_runs(root: str | os.PathLike = "runs") -> pd.DataFrame:
    """One row per run under ``root``: config, status and final metrics.

    Runs without a summary (still running, or killed) appear with status
    ``incomplete`` and the metrics of their last evaluation. Corrupt folders are
    skipped with a warning naming them. ``load_history(row.run_dir)`` gives a
    run's history (one row per evaluation).

    Example:
        >>> frame = load_runs("runs")  # doctest: +SKIP
        >>> frame.groupby(["data", "model"])["modes_captured"].mean()  # doctest: +SKIP
        >>> load_history(frame.run_dir[0])[["step", "modes_captured"]]  # doctest: +SKIP
    """
    rows = []
    for path in find_runs(root):
        try:
            rows.append(_run_row(RunDir.open(path)))
        except RunFolderError as error:
            logger.warning("skipping run folder %s: %s", path, error)
    return pd.DataFrame(rows)


def load_history(run_dir: str | os.PathLike) -> pd.DataFrame:
    """A run's history: one row per evaluation (``step``, metrics, ``mode_counts`` as lists).

    Example:
        >>> history = load_history("runs/vanilla-ring8-seed0")  # doctest: +SKIP
        >>> history.plot(x="step", y="modes_captured")  # doctest: +SKIP
    """
    return RunDir.open(run_dir).read_history()


def _run_row(run: RunDir) -> dict:
    config = run.read_config()
    summary = run.read_summary()
    row = {"run_dir": str(run.path), "run_id": run.path.name}
    row.update({k: v for k, v in config.items() if not isinstance(v, (dict, list))})
    row["options"] = _options_text(config.get("options"))
    if summary is not None:
        row["status"] = summary.get("status", "unknown")
        row["step"] = summary.get("step")
        row.update(summary.get("metrics", {}))
        row["findings"] = ", ".join(f.get("name", "?") for f in summary.get("findings", []))
        return row
    history = run.read_history()
    row["status"] = "incomplete"
    if len(history):
        last = history.iloc[-1].to_dict()
        row.update(last)
    return row


def _options_text(options: object) -> str:
    """Model options as ``key=value`` text ("" when none), so runs with different options stay apart."""
    if not isinstance(options, dict):
        return ""
    return ",".join(f"{key}={options[key]}" for key in sorted(options))
