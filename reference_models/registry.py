"""Reference trainers by name; ``collapsekit run --model NAME`` looks them up here."""

from __future__ import annotations

from collapsekit.errors import CollapsekitError

_MODELS: dict[str, type] = {}


def register_model(name: str, trainer_class: type) -> None:
    """Make ``trainer_class`` (a GANTrainer subclass) available as ``name``."""
    if not name or name in _MODELS:
        raise ValueError(f"model name {name!r} is empty or already registered")
    _MODELS[name] = trainer_class


def get_model(name: str) -> type:
    if name not in _MODELS:
        raise CollapsekitError(f"unknown model {name!r}; choose one of: {', '.join(sorted(_MODELS))}")
    return _MODELS[name]


def list_models() -> dict[str, str]:
    """Model names and their one-line descriptions."""
    return {name: cls.description for name, cls in sorted(_MODELS.items())}
