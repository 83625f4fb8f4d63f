"""Checks of the Monitor's arguments: each bad value raises one CollapsekitError naming it."""

from __future__ import annotations

import collections
import inspect
import json

import numpy as np
import torch

from collapsekit.atomic import json_safe
from collapsekit.diagnose import Thresholds
from collapsekit.errors import CollapsekitError


def check_arguments(
    *, eval_every: object, window: object, sample_chunk: object, num_samples: object,
    snapshot_size: object, min_share: object, on_metrics: object, features: object,
    thresholds: object, config: object, model: object, label: object, eval_seed: object,
) -> None:  # fmt: skip
    """Check every Monitor argument that does not need the data; raise on the first bad one."""
    for name, value in (("eval_every", eval_every), ("window", window), ("sample_chunk", sample_chunk)):  # fmt: skip
        check_positive_int(name, value)
    if num_samples is not None:
        check_positive_int("num_samples", num_samples)
    check_count("snapshot_size", snapshot_size)
    check_share("min_share", min_share)
    check_callable("on_metrics", on_metrics, "on_metrics(row)")
    check_callable("features", features, "features(samples)")
    check_thresholds(thresholds)
    check_json_config(config)
    check_text("model", model)
    check_text("label", label)
    if eval_seed is not None:
        check_count("eval_seed", eval_seed)


def check_positive_int(name: str, value: object) -> None:
    """Raise unless ``value`` is an integer >= 1 (bool excluded).

    Example:
        >>> check_positive_int("eval_every", 500)
    """
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise CollapsekitError(f"{name} must be a positive integer, got {value!r}")


def check_callable(name: str, value: object, usage: str) -> None:
    """Raise unless ``value`` is None or callable; ``usage`` shows the call (``on_metrics(row)``).

    Example:
        >>> check_callable("on_metrics", print, "on_metrics(row)")
    """
    if value is not None and not callable(value):
        raise CollapsekitError(f"{name} must be callable as {usage}, got {type(value).__name__}")


def takes_samples(on_metrics: object) -> bool:
    """Whether ``on_metrics`` accepts a ``samples`` keyword (it then also gets each evaluation's
    samples as a numpy array, e.g. to draw them).

    Example:
        >>> takes_samples(lambda row, samples=None: None), takes_samples(print)
        (True, False)
    """
    if on_metrics is None:
        return False
    try:
        parameters = inspect.signature(on_metrics).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False
    found = parameters.get("samples")
    return found is not None and found.kind in (
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )


def check_step(step: object, last_step: int | None) -> int:
    """The training step as an int; raise if it is not an integer or went backwards.

    Example:
        >>> check_step(5, last_step=4)
        5
    """
    if not isinstance(step, (int, np.integer)) or isinstance(step, bool):
        raise CollapsekitError(f"step must be an integer, got {step!r}")
    if last_step is not None and step < last_step:
        raise CollapsekitError(
            f"step went backwards ({step} after {last_step}); pass the training step, "
            "which must not decrease"
        )
    return int(step)


def check_share(name: str, value: object) -> None:
    """Raise unless ``value`` is a number in [0, 1].

    Example:
        >>> check_share("min_share", 0.1)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise CollapsekitError(f"{name} must be a number in [0, 1], got {value!r}")
    if not 0 <= value <= 1:
        raise CollapsekitError(f"{name} must lie in [0, 1], got {value!r}")


def check_count(name: str, value: object) -> None:
    """Raise unless ``value`` is an integer >= 0 (bool excluded)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise CollapsekitError(f"{name} must be an integer >= 0, got {value!r}")


def check_thresholds(value: object) -> None:
    """Raise unless ``value`` is None or a ``collapsekit.Thresholds``."""
    if value is not None and not isinstance(value, Thresholds):
        raise CollapsekitError(
            f"thresholds must be a collapsekit.Thresholds, got {type(value).__name__}; "
            "write thresholds=collapsekit.Thresholds(dominance_real=0.9)"
        )


def check_text(name: str, value: object) -> None:
    """Raise unless ``value`` is None or a non-empty string."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise CollapsekitError(f"{name} must be a non-empty string, got {value!r}")


def check_json_config(config: object) -> None:
    """Raise unless ``config`` is None or a dict that ``config.json`` can hold, naming the bad entry.

    Example:
        >>> check_json_config({"lr": 2e-4, "betas": [0.5, 0.999]})
    """
    if config is None:
        return
    if not isinstance(config, dict):
        raise CollapsekitError(f"config must be a dict, got {type(config).__name__}")
    try:
        json.dumps(json_safe(config), allow_nan=False)
    except (TypeError, ValueError) as error:
        bad = next((k for k, v in config.items() if not _json_ready(v)), None)
        where = (
            f"config[{bad!r}] holds {type(config[bad]).__name__}" if bad is not None else str(error)
        )
        raise CollapsekitError(
            f"config must hold only JSON values (numbers, strings, lists, dicts): {where}; "
            "store str(value) instead"
        ) from None


def _json_ready(value: object) -> bool:
    try:
        json.dumps(json_safe(value), allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


# Types torch.load(weights_only=True) rebuilds, so a checkpoint holding only these resumes.
_CHECKPOINT_LEAVES = (str, bytes, int, float, complex, bool, type(None), torch.Size, torch.dtype,
                      torch.device)  # fmt: skip
_CHECKPOINT_CONTAINERS = (dict, collections.OrderedDict, list, tuple, set)


def check_checkpoint_state(value: object, where: str = "state") -> None:
    """Raise unless ``value`` holds only what ``torch.load(weights_only=True)`` can load back.

    Example:
        >>> check_checkpoint_state({"weights": torch.zeros(2), "step": 3, "betas": (0.5, 0.9)})
    """
    if type(value) in (torch.Tensor, torch.nn.Parameter) or type(value) in _CHECKPOINT_LEAVES:
        return
    if type(value) not in _CHECKPOINT_CONTAINERS:
        fix = (
            "convert it with torch.as_tensor(...)"
            if type(value).__module__ == "numpy"
            else (
                "store tensors, numbers, strings, lists or dicts (a module's state_dict(), not the module)"
            )
        )
        raise CollapsekitError(
            f"save_checkpoint: {where} holds {type(value).__module__}.{type(value).__name__}, which "
            f"resume cannot load safely (torch.load with weights_only=True); {fix}"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            check_checkpoint_state(key, f"a key of {where}")
            check_checkpoint_state(item, f"{where}[{key!r}]")
    else:
        for index, item in enumerate(value):
            check_checkpoint_state(item, f"{where}[{index}]")
