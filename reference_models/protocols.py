"""Protocols: named bundles of defaults taken from a paper's released code.

A protocol sets the dataset's parameters, the nets, the optimiser, the loss, the
update order, the batch, the steps and the evaluation. It only fills in what a
run left unset (None): anything given explicitly wins, and config.json records
the protocol's name and every value it resolved to.

Example:
    >>> from reference_models import TrainConfig
    >>> config = apply_protocol(TrainConfig(model="pacgan", data="ring8", protocol="pacgan"))
    >>> config.data, config.batch_size, config.beta1
    ('ring8:radius=1,std=0.01', 100, 0.8)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from collapsekit.data import parse_spec
from collapsekit.errors import CollapsekitError
from reference_models.config import TrainConfig


@dataclass(frozen=True)
class Protocol:
    """A paper's settings: ``settings`` are TrainConfig fields, ``datasets`` their parameters.

    ``datasets`` maps each dataset the protocol covers to the parameters it sets
    (``{"ring8": {"radius": "1", "std": "0.01"}}``); None covers every dataset
    with its own defaults. ``model_options`` are per-model option defaults.
    """

    name: str
    source: str  # one line: which paper and which file of its code
    settings: dict = field(default_factory=dict)
    datasets: dict[str, dict[str, str]] | None = None
    model_options: dict[str, dict] = field(default_factory=dict)

    def dataset_spec(self, spec: str) -> str:
        """``spec`` with the protocol's parameters filled in where ``spec`` gives none."""
        name, given = parse_spec(spec)
        if self.datasets is None:
            return spec
        if name not in self.datasets:
            covered = ", ".join(self.datasets)
            raise CollapsekitError(
                f"protocol {self.name!r} does not define dataset {name!r}; it covers: {covered}"
            )
        params = {**self.datasets[name], **given}
        return name + (":" + ",".join(f"{k}={v}" for k, v in params.items()) if params else "")


_PROTOCOLS: dict[str, Protocol] = {}


def register_protocol(protocol: Protocol) -> None:
    """Make ``protocol`` available by its name (``--protocol NAME``)."""
    if not protocol.name or protocol.name in _PROTOCOLS:
        raise ValueError(f"protocol name {protocol.name!r} is empty or already registered")
    _PROTOCOLS[protocol.name] = protocol


def get_protocol(name: str) -> Protocol:
    """The protocol registered as ``name``; CollapsekitError listing the valid names otherwise."""
    if name not in _PROTOCOLS:
        valid = ", ".join(sorted(_PROTOCOLS))
        raise CollapsekitError(f"unknown protocol {name!r}; choose one of: {valid}")
    return _PROTOCOLS[name]


def list_protocols() -> dict[str, str]:
    """Protocol names and the one line saying where each comes from."""
    return {name: protocol.source for name, protocol in sorted(_PROTOCOLS.items())}


def apply_protocol(config: TrainConfig) -> TrainConfig:
    """Fill ``config`` (a TrainConfig) from its protocol where it is unset; returns it.

    The dataset spec gains the protocol's parameters (explicit ones win), every
    setting still None takes the protocol's value, and the model's options gain
    the protocol's option defaults. Applying it twice changes nothing.
    """
    if not isinstance(config.protocol, str):
        raise CollapsekitError(f"protocol must be a name, got {config.protocol!r}")
    protocol = get_protocol(config.protocol)
    config.data = protocol.dataset_spec(config.data)
    for name, value in protocol.settings.items():
        if getattr(config, name) is None:
            setattr(config, name, value)
    config.options = {**protocol.model_options.get(config.model, {}), **config.options}
    return config
