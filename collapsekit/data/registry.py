"""Datasets by name, with parameters given in the name: ``ring8:radius=1,std=0.01``."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

from collapsekit.data.base import Dataset
from collapsekit.errors import CollapsekitError


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    factory: Callable[..., Dataset]
    description: str


_DATASETS: dict[str, DatasetEntry] = {}


def register_dataset(name: str, factory: Callable[..., Dataset], description: str) -> None:
    """Make ``factory`` available as ``name``; its keyword arguments become the spec's parameters.

    Example:
        >>> from collapsekit.data.mixtures import ring
        >>> register_dataset("ring4", lambda radius=1.0, std=0.05: ring(4, radius, std, "ring4"), "4 modes")
    """
    if not name or ":" in name or "," in name:
        raise ValueError(f"dataset name must be non-empty without ':' or ',', got {name!r}")
    if name in _DATASETS:
        raise ValueError(f"dataset {name!r} is already registered")
    _DATASETS[name] = DatasetEntry(name, factory, description)


def registered_names() -> list[str]:
    """Dataset names in the order they were registered (the bundled ones first: ring8, grid25, ...)."""
    return list(_DATASETS)


def list_datasets() -> dict[str, str]:
    """Registered dataset names and their one-line descriptions."""
    return {name: entry.description for name, entry in sorted(_DATASETS.items())}


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split ``name:key=value,key=value`` into the name and raw parameters."""
    name, _, rest = spec.strip().partition(":")
    params: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CollapsekitError(
                f"dataset parameter {item!r} in {spec!r} is not key=value; "
                "write e.g. ring8:radius=1,std=0.01"
            )
        params[key.strip()] = value.strip()
    return name, params


def get_dataset(spec: str | Dataset) -> Dataset:
    """Build a dataset from its name and optional parameters, or pass a Dataset through.

    Example:
        >>> get_dataset("ring8:radius=1,std=0.01").modes_total
        8
    """
    if isinstance(spec, Dataset):
        return spec
    if not isinstance(spec, str):
        raise CollapsekitError(f"data must be a dataset name or Dataset, got {type(spec).__name__}")
    name, raw = parse_spec(spec)
    if name not in _DATASETS:
        valid = ", ".join(sorted(_DATASETS))
        raise CollapsekitError(f"unknown dataset {name!r}; choose one of: {valid}")
    factory = _DATASETS[name].factory
    kwargs = _convert_params(name, factory, raw)
    try:
        return factory(**kwargs)
    except CollapsekitError as error:
        raise CollapsekitError(f"dataset {spec!r}: {error}") from None


def _convert_params(name: str, factory: Callable[..., Dataset], raw: dict[str, str]) -> dict:
    signature = inspect.signature(factory)
    accepted = {p.name: p for p in signature.parameters.values() if p.name != "name"}
    kwargs = {}
    for key, text in raw.items():
        if key not in accepted:
            valid = ", ".join(accepted) or "none"
            raise CollapsekitError(f"dataset {name!r} has no parameter {key!r}; valid: {valid}")
        kwargs[key] = _cast(name, key, text, accepted[key].default)
    return kwargs


def _cast(name: str, key: str, text: str, default: object) -> object:
    kind = type(default) if default is not inspect.Parameter.empty and default is not None else str
    try:
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if kind is int:
            return int(text)
        if kind is float:
            value = float(text)
    except ValueError:
        raise CollapsekitError(
            f"dataset {name!r} parameter {key}={text!r} is not a valid {kind.__name__}"
        ) from None
    if kind is not float:
        return text
    if not math.isfinite(value):
        raise CollapsekitError(f"dataset {name!r} parameter {key}={text!r} must be a finite number")
    return value
