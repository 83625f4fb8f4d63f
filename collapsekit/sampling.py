"""Drawing evaluation samples from a user's generator, politely.

``draw_samples`` asks ``sample_fn`` for samples in chunks under ``torch.no_grad``
with the generator in eval mode, then puts every module back in the mode it was
found in. The generator is the ``model`` argument when given; otherwise the
``torch.nn.Module`` objects the function refers to (a module passed as the
function itself, a bound method's owner, a callable object's attributes, closure
variables and globals it names; see ``referenced_modules``).

With a ``seed``, ``sample_fn`` runs inside ``torch.random.fork_rng`` on the CPU
and every CUDA device in use, seeded with ``seed``: the noise it draws from the
global generators (``torch.randn``) is the same at every evaluation, and the
caller's random state is exactly as it was before, so watching a run never
changes its training.
"""

from __future__ import annotations

import contextlib
import functools
import types
from collections.abc import Callable, Iterable, Iterator

import torch

from collapsekit.errors import CollapsekitError


def draw_samples(
    sample_fn: Callable[[int], torch.Tensor],
    num_samples: int,
    chunk: int,
    sample_shape: tuple[int, ...],
    model: torch.nn.Module | Iterable[torch.nn.Module] | None = None,
    data_name: str = "the data",
    seed: int | None = None,
) -> torch.Tensor:
    """Return ``num_samples`` samples (N, *sample_shape) as float32 on the CPU.

    Non-finite values are kept (the caller records divergence); a wrong type,
    dtype or shape raises CollapsekitError naming ``sample_fn``.

    Example:
        >>> generator = torch.nn.Linear(4, 2)
        >>> draw_samples(lambda n: generator(torch.randn(n, 4)), 10, 4, (2,)).shape
        torch.Size([10, 2])
    """
    if not callable(sample_fn):
        raise CollapsekitError(
            f"sample_fn must be callable as sample_fn(n), got {type(sample_fn).__name__}"
        )
    modules = _as_modules(model) if model is not None else referenced_modules(sample_fn)
    chunks = []
    with torch.no_grad(), eval_mode(modules), own_random_state(seed):
        for start in range(0, num_samples, chunk):
            size = min(chunk, num_samples - start)
            chunks.append(_checked(sample_fn(size), size, tuple(sample_shape), data_name))
    return torch.cat(chunks)  # (num_samples, *sample_shape)


@contextlib.contextmanager
def own_random_state(seed: int | None) -> Iterator[None]:
    """Run the block on forked global generators seeded with ``seed``; restore them afterwards.

    Forks the CPU generator and, when CUDA is initialised, every CUDA device's
    (never initialising CUDA itself). ``seed=None`` runs the block as it is.

    Example:
        >>> before = torch.get_rng_state()
        >>> with own_random_state(7):
        ...     first = torch.randn(2)
        >>> torch.equal(torch.get_rng_state(), before)
        True
    """
    if seed is None:
        yield
        return
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)
        for index in devices:
            torch.cuda.default_generators[index].manual_seed(seed)
        yield


def _as_modules(model: object) -> list[torch.nn.Module]:
    if isinstance(model, torch.nn.Module):
        return [model]
    items = list(model) if isinstance(model, (list, tuple, set)) else [model]
    if not all(isinstance(item, torch.nn.Module) for item in items):
        raise CollapsekitError(
            f"model must be a torch.nn.Module or a list of them, got {type(model).__name__}"
        )
    return items


def _checked(
    samples: object, size: int, sample_shape: tuple[int, ...], data_name: str
) -> torch.Tensor:
    if not isinstance(samples, torch.Tensor):
        raise CollapsekitError(
            f"sample_fn({size}) returned {type(samples).__name__}; "
            "it must return a torch.Tensor of samples"
        )
    if not samples.is_floating_point():
        raise CollapsekitError(
            f"sample_fn({size}) returned dtype {samples.dtype}; return floating-point samples"
        )
    expected = (size, *sample_shape)
    if tuple(samples.shape) != expected:
        raise CollapsekitError(
            f"sample_fn({size}) returned shape {tuple(samples.shape)}; {data_name} needs {expected}"
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
    """The torch modules a sampling function uses, found without calling it.

    Looks at the function itself (a module), a bound method's owner, a callable
    object's attributes, ``functools.partial`` arguments, closure variables and
    the globals the code names, then one level into plain objects, lists and
    dicts found there (``trainer.generator``, ``models["G"]``) and into the
    Python functions it calls (two levels deep).

    Example:
        >>> generator = torch.nn.Linear(4, 2)
        >>> referenced_modules(lambda n: generator(torch.randn(n, 4))) == [generator]
        True
    """
    found: dict[int, torch.nn.Module] = {}
    seen: set[int] = set()
    _collect(function, found, seen, depth=_SEARCH_DEPTH)
    return list(found.values())


_SEARCH_DEPTH = 2


def _collect(value: object, found: dict, seen: set, depth: int) -> None:
    if id(value) in seen or depth < 0:
        return
    seen.add(id(value))
    if isinstance(value, torch.nn.Module):
        found[id(value)] = value
        return
    if isinstance(value, (types.ModuleType, type)):
        return  # imported packages and classes: nothing of the user's run lives there
    for inner in _inner_values(value):
        if isinstance(inner, torch.nn.Module):
            found[id(inner)] = inner
        elif depth > 0:
            _collect(inner, found, seen, depth - 1)


def _inner_values(value: object) -> list[object]:
    if isinstance(value, functools.partial):
        return [value.func, *value.args, *value.keywords.values()]
    if isinstance(value, types.MethodType):
        return [value.__self__, value.__func__]
    if isinstance(value, types.FunctionType):
        return _function_values(value)
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    attributes = list(getattr(value, "__dict__", {}).values())
    # a callable object: look into its class's __call__ too
    call = next((vars(k)["__call__"] for k in type(value).__mro__ if "__call__" in vars(k)), None)
    if isinstance(call, types.FunctionType):
        attributes.append(call)
    return attributes


def _function_values(function: types.FunctionType) -> list[object]:
    values = [cell.cell_contents for cell in (function.__closure__ or ()) if _has_contents(cell)]
    namespace = function.__globals__
    values += [namespace[name] for name in function.__code__.co_names if name in namespace]
    return values


def _has_contents(cell: object) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises ValueError
    except ValueError:
        return False
    return True
