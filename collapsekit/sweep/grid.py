"""A sweep's grid: models x datasets x seeds, from flags or a TOML file."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from collapsekit.errors import CollapsekitError
from collapsekit.limits import MAX_SEED, is_integer

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

MAX_SEEDS = 10_000  # seeds per sweep: a plan of more runs is a typo, not a study
GRID_KEYS = ("models", "data", "seeds", "options")  # a grid file's other keys are trainer settings


@dataclass
class SweepGrid:
    """Models x datasets x seeds, with the trainer settings every run shares.

    ``options`` go to every model that takes them (``unroll_steps`` reaches only
    the unrolled GAN); ``model_options`` go to one model each.

    Example:
        >>> grid = SweepGrid(["vanilla", "unrolled"], ["ring8"], [0, 1], options={"unroll_steps": 5})
        >>> len(grid)
        4
    """

    models: list[str]
    data: list[str]  # dataset specs, e.g. "ring8:std=0.01"
    seeds: list[int]
    settings: dict = field(default_factory=dict)  # TrainConfig fields: steps, eval_every, ...
    options: dict = field(default_factory=dict)
    model_options: dict[str, dict] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.models) * len(self.data) * len(self.seeds)


def parse_seeds(value: str | int | Sequence[int]) -> list[int]:
    """Seeds from ``"0-4"``, ``"0,2,5"``, ``"0-2,7"``, an integer or a list of integers.

    Example:
        >>> parse_seeds("0-2,7")
        [0, 1, 2, 7]
    """
    if isinstance(value, str):
        seeds = [
            seed for item in value.split(",") if item.strip() for seed in _seed_range(item.strip())
        ]
    elif isinstance(value, int) and not isinstance(value, bool):
        seeds = [value]
    elif isinstance(value, Sequence):
        seeds = list(value)
    else:
        raise CollapsekitError(f"seeds must look like 0-4 or 0,2,5, got {value!r}")
    for seed in seeds:
        if not is_integer(seed) or not 0 <= seed <= MAX_SEED:
            raise CollapsekitError(
                f"seeds must be integers from 0 to {MAX_SEED}, got {seed!r}; write e.g. 0-4"
            )
    if len(seeds) > MAX_SEEDS:
        raise CollapsekitError(
            f"{len(seeds):,} seeds given; a sweep takes at most {MAX_SEEDS:,}: split it into several"
        )
    if not seeds:
        raise CollapsekitError("no seeds given; write e.g. --seeds 0-4 or --seeds 0,2,5")
    return list(dict.fromkeys(seeds))


def _seed_range(item: str) -> list[int]:
    match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", item)
    if match is None:
        raise CollapsekitError(f"seed {item!r} is not a number or a range; write e.g. 0-4 or 0,2,5")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    if last < first:
        raise CollapsekitError(
            f"seed range {item!r} goes down; write it low to high, e.g. {last}-{first}"
        )
    if last - first >= MAX_SEEDS:
        raise CollapsekitError(
            f"seed range {item!r} holds {last - first + 1:,} seeds; a sweep takes at most "
            f"{MAX_SEEDS:,}: split it into several"
        )
    return list(range(first, last + 1))


def split_specs(text: str) -> list[str]:
    """Split a comma list of names or dataset specs; ``key=value`` items belong to the spec before.

    Example:
        >>> split_specs("ring8:radius=1,std=0.01,grid25")
        ['ring8:radius=1,std=0.01', 'grid25']
    """
    specs: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if "=" in item and ":" not in item and specs:
            specs[-1] += f",{item}"
        else:
            specs.append(item)
    return specs


def load_grid(path: str | os.PathLike) -> SweepGrid:
    """Read a grid from a TOML file (see docs/sweep.md for the format).

    Example:
        >>> grid = load_grid("sweep.toml")  # doctest: +SKIP
    """
    path = Path(path)
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CollapsekitError(
            f"cannot read grid file {path} ({error.strerror}); check the path"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CollapsekitError(
            f"grid file {path} is not valid TOML ({error}); see docs/sweep.md"
        ) from None
    missing = [key for key in ("models", "data", "seeds") if key not in values]
    if missing:
        raise CollapsekitError(
            f"grid file {path} lacks {', '.join(missing)}; see docs/sweep.md for an example"
        )
    options = values.get("options", {})
    if not isinstance(options, dict):
        raise CollapsekitError(
            f"grid file {path}: options must be a table, e.g. [options] unroll_steps = 5"
        )
    return SweepGrid(
        models=_names(values["models"], "models"),
        data=_names(values["data"], "data"),
        seeds=parse_seeds(values["seeds"]),
        settings={k: v for k, v in values.items() if k not in GRID_KEYS},
        options={k: v for k, v in options.items() if not isinstance(v, dict)},
        model_options={k: v for k, v in options.items() if isinstance(v, dict)},
    )


def _names(value: object, key: str) -> list[str]:
    if isinstance(value, str):
        return split_specs(value)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    raise CollapsekitError(f'{key} must be a list of names, e.g. {key} = ["a", "b"], got {value!r}')
