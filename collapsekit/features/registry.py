"""Feature extractors by name: ``register_feature_extractor`` and ``get_feature_extractor``.

A factory registered under a name builds a ``FeatureExtractor`` from keyword
options. A factory may accept ``dataset``, ``weights`` and ``device``;
``collapsekit.evaluate`` passes those the factory's signature names. The
built-ins are registered in one place, ``collapsekit/features/__init__.py``.

Example:
    >>> extractor = get_feature_extractor("identity")
    >>> extractor(torch.zeros(5, 3, 2, 2)).shape
    torch.Size([5, 12])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import torch  # noqa: F401  (the example above)

from collapsekit.errors import CollapsekitError
from collapsekit.features.extractor import FeatureExtractor


@dataclass(frozen=True)
class ExtractorEntry:
    name: str
    factory: Callable[..., FeatureExtractor]
    description: str


_EXTRACTORS: dict[str, ExtractorEntry] = {}


def register_feature_extractor(
    name: str, factory: Callable[..., FeatureExtractor], description: str = ""
) -> None:
    """Make ``factory(**options) -> FeatureExtractor`` available as ``name``.

    Example:
        >>> register_feature_extractor("halves", lambda: FeatureExtractor("halves", lambda x: x.flatten(1) / 2))
    """
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise ValueError(
            f"feature extractor name must be a non-empty string without outer spaces, got {name!r}"
        )
    if not callable(factory):
        raise ValueError(f"factory for {name!r} must be callable, got {type(factory).__name__}")
    if name in _EXTRACTORS:
        raise ValueError(f"feature extractor {name!r} is already registered")
    _EXTRACTORS[name] = ExtractorEntry(name, factory, description)


def list_feature_extractors() -> dict[str, str]:
    """Registered names and their one-line descriptions."""
    return {name: entry.description for name, entry in sorted(_EXTRACTORS.items())}


def get_feature_extractor(name: str, **options: object) -> FeatureExtractor:
    """Build the extractor registered as ``name`` with ``options``.

    Example:
        >>> get_feature_extractor("identity").name
        'identity'
    """
    if name not in _EXTRACTORS:
        valid = ", ".join(sorted(_EXTRACTORS))
        raise CollapsekitError(f"unknown feature extractor {name!r}; choose one of: {valid}")
    factory = _EXTRACTORS[name].factory
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as error:
        raise CollapsekitError(
            f"feature extractor {name!r} does not take these options: {error}"
        ) from None
    return factory(**options)


def accepted_options(name: str, **candidates: object) -> dict[str, object]:
    """The subset of ``candidates`` (not None) that the factory of ``name`` names in its signature."""
    if name not in _EXTRACTORS:
        return {}
    parameters = inspect.signature(_EXTRACTORS[name].factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    return {
        key: value
        for key, value in candidates.items()
        if value is not None and (takes_any or key in parameters)
    }
