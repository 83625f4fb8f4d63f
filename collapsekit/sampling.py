"""Drawing evaluation samples from a user's generator, politely.

``draw_samples`` asks ``sample_fn`` for samples in chunks under ``torch.no_grad``
with the generator in eval mode, then puts every module back in the mode it was
found in. The generator is the ``model`` argument when given; otherwise the
``torch.nn.Module`` objects the function refers to (a module passed as the
function itself, a bound method's owner, closure variables and globals it names).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch

from collapsekit.data.base import Dataset
from collapsekit.errors import CollapsekitError


def draw_samples(
    sample_fn: Callable[[int], torch.Tensor],
    num_samples: int,
    chunk: int,
    dataset: Dataset,
    model: torch.nn.Module | None = None,
) -> torch.Tensor:
    """Return ``num_samples`` samples (N, *sample_shape) as float32 on the CPU.

    Non-finite values are kept (the caller records divergence); a wrong type,
    dtype or shape raises CollapsekitError naming ``sample_fn``.
    """
    if not callable(sample_fn):
        raise CollapsekitError(f"sample_fn must be callable as sample_fn(n), got {type(sample_fn).__name__}")
    modules = [model] if model is not None else referenced_modules(sample_fn)
    chunks = []
    with torch.no_grad(), eval_mode(modules):
        for start in range(0, num_samples, chunk):
            size = min(chunk, num_samples - start)
            chunks.append(_checked(sample_fn(size), size, dataset))
    return torch.cat(chunks)


def _checked(samples: object, size: int, dataset: Dataset) -> torch.Tensor:
    if not isinstance(samples, torch.Tensor):
        raise CollapsekitError(
            f"sample_fn({size}) returned {type(samples).__name__}; it must return a torch.Tensor of samples"
        )
    if not samples.is_floating_point():
        raise CollapsekitError(f"sample_fn({size}) returned dtype {samples.dtype}; return floating-point samples")
    expected = (size, *dataset.sample_shape)
    if tuple(samples.shape) != expected:
        raise CollapsekitError(
            f"sample_fn({size}) returned shape {tuple(samples.shape)}; {dataset.name} needs {expected}"
        )
    return samples.detach().to("cpu", torch.float32)


@contextlib.contextmanager
def eval_mode(modules: list[torch.nn.Module]) -> Iterator[None]:
    """Put every module (and submodule) in eval mode, then restore each one's own flag."""
    saved = [(m, m.training) for module in modules for m in module.modules()]
    try:
        for module in modules:
            module.eval()
        yield
    finally:
        for m, training in saved:
            m.training = training


def referenced_modules(function: Callable) -> list[torch.nn.Module]:
    """The torch modules a sampling function uses, found without calling it."""
    if isinstance(function, torch.nn.Module):
        return [function]
    owner = getattr(function, "__self__", None)
    if isinstance(owner, torch.nn.Module):
        return [owner]
    found: dict[int, torch.nn.Module] = {}
    for value in _referenced_values(function):
        if isinstance(value, torch.nn.Module):
            found[id(value)] = value
    return list(found.values())


def _referenced_values(function: Callable) -> list[object]:
    code = getattr(function, "__code__", None)
    if code is None:
        return []
    values = [cell.cell_contents for cell in (function.__closure__ or ()) if _has_contents(cell)]
    namespace = getattr(function, "__globals__", {})
    values += [namespace[name] for name in code.co_names if name in namespace]
    return values


def _has_contents(cell: object) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises ValueError
    except ValueError:
        return False
    return True
