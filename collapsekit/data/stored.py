"""Datasets rebuilt from what a run or a file stored: a run's config.json or a mixture file.

A Monitor on a ``GaussianMixture`` stores the mixture itself (centres, std,
weights) in ``config.json`` under ``"mixture"``; everything that reads a run
(report, resume) rebuilds the dataset from there, so a user's own mixture plots
and scores exactly like a built-in one. ``collapsekit evaluate --data-file``
reads a file saved by ``mixture.to_json()``, or a run's ``config.json``.

Example:
    >>> from collapsekit.data.mixtures import GaussianMixture
    >>> mixture = GaussianMixture([[0.0, 0.0], [1.0, 1.0]], std=0.05, name="pair")
    >>> dataset_from_config({"data": "pair", "mixture": mixture.to_dict()}).modes_total
    2
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from collapsekit.data.base import Dataset
from collapsekit.data.mixtures import GaussianMixture
from collapsekit.data.registry import get_dataset
from collapsekit.errors import CollapsekitError

MIXTURE_FIELD = "mixture"  # config.json entry holding a GaussianMixture's to_dict()


def dataset_record(dataset: Dataset) -> dict:
    """What ``config.json`` stores to rebuild ``dataset`` beyond its spec: the mixture, if one."""
    return {MIXTURE_FIELD: dataset.to_dict()} if isinstance(dataset, GaussianMixture) else {}


def dataset_from_config(config: dict) -> Dataset:
    """The dataset of a run: its stored mixture when present, else the registered ``data`` spec."""
    stored = config.get(MIXTURE_FIELD)
    if isinstance(stored, dict):
        return GaussianMixture.from_dict(stored)
    spec = config.get("data")
    if not isinstance(spec, str):
        raise CollapsekitError("the run's config.json names no dataset ('data' is missing)")
    return get_dataset(spec)


def load_dataset_file(path: str | os.PathLike) -> Dataset:
    """A dataset from a JSON file: a mixture saved by ``to_json()``, or a run's ``config.json``."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CollapsekitError(f"data file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CollapsekitError(
            f"data file {path} is not a JSON mixture ({error}); save one with mixture.to_json(path)"
        ) from None
    if not isinstance(record, dict):
        raise CollapsekitError(f"data file {path} must hold a JSON object (mixture.to_json())")
    try:
        if "centres" in record:
            return GaussianMixture.from_dict(record)
        if MIXTURE_FIELD in record or "data" in record:
            return dataset_from_config(record)
    except CollapsekitError as error:
        raise CollapsekitError(f"data file {path}: {error}") from None
    raise CollapsekitError(
        f"data file {path} holds no mixture ('centres' and 'std'); save one with mixture.to_json(path)"
    )
