"""Feature extractors by name: what the feature metrics (FID, KID, IS, precision/recall...) look at.

A factory registered under a name builds a ``FeatureExtractor`` from keyword
options. Built-ins, all registered at the bottom of this module:

- ``identity``: the samples themselves, flattened (low-dimensional data such as ring8, grid25);
- ``inception-v3-compat`` and ``vgg16``: torch-fidelity's image networks, loaded
  from a LOCAL weights file (``weights=PATH``); collapsekit never downloads at run
  time and says where to get the file when it is missing.

Other parts of collapsekit register their own (the stacked-digits mode
classifier registers ``mode-classifier``). A factory may accept ``dataset``,
``weights`` and ``device``; ``collapsekit.evaluate`` passes those the factory's
signature names.

Example:
    >>> extractor = get_feature_extractor("identity")
    >>> extractor(torch.zeros(5, 3, 2, 2)).shape
    torch.Size([5, 12])
"""

from __future__ import annotations

import inspect
import logging
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from collapsekit.errors import CollapsekitError

logger = logging.getLogger(__name__)


@dataclass
class FeatureExtractor:
    """Maps samples (N, *shape) to features (N, F), and, when it can, to class logits (N, C).

    ``features`` and ``logits`` take one batch; calling the extractor runs them
    over all samples in batches of ``batch_size`` without gradients.
    """

    name: str
    features: Callable[[torch.Tensor], torch.Tensor]
    logits: Callable[[torch.Tensor], torch.Tensor] | None = None  # for the Inception Score
    batch_size: int = 512

    def __call__(self, samples: torch.Tensor) -> torch.Tensor:
        """Features of all samples: (N, F) float."""
        return self._batched(self.features, samples)

    def class_logits(self, samples: torch.Tensor) -> torch.Tensor | None:
        """Class logits of all samples (N, C), or None when this extractor has no classifier."""
        return None if self.logits is None else self._batched(self.logits, samples)

    @torch.no_grad()
    def _batched(
        self, function: Callable[[torch.Tensor], torch.Tensor], samples: torch.Tensor
    ) -> torch.Tensor:
        if samples.shape[0] == 0:
            raise CollapsekitError(f"{self.name}: no samples to extract features from")
        outputs = [
            function(samples[start : start + self.batch_size])
            for start in range(0, samples.shape[0], self.batch_size)
        ]
        return torch.cat(outputs).flatten(1).float()


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


def _identity() -> FeatureExtractor:
    return FeatureExtractor("identity", lambda samples: samples.flatten(1).float())


# torch-fidelity networks: feature layer, logits layer (None: no classifier), where to get weights
_TORCH_FIDELITY = {
    "inception-v3-compat": (
        "2048",
        "logits_unbiased",
        "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
    ),
    "vgg16": ("fc2_relu", None, "https://download.pytorch.org/models/vgg16-397923af.pth"),
}


def check_weights_file(name: str, weights: str | Path | None) -> Path:
    """The weights path of a torch-fidelity network, checked to exist and to hold plain tensors."""
    url = _TORCH_FIDELITY[name][2]
    how = (
        f"download it once with `curl -L -o {Path(url).name} {url}` on a machine with internet, "
        f"then pass --weights {Path(url).name} (library: weights=...)"
    )
    if weights is None:
        raise CollapsekitError(
            f"{name} needs a local weights file and collapsekit never downloads at run time; {how}"
        )
    path = Path(weights).expanduser()
    if not path.is_file():
        raise CollapsekitError(f"weights file {str(path)!r} for {name} does not exist; {how}")
    try:  # refuse pickles that would run code: torch-fidelity itself loads with weights_only=False
        torch.load(path, map_location="cpu", weights_only=True)
    except (
        RuntimeError,
        OSError,
        EOFError,
        zipfile.BadZipFile,
        ValueError,
        pickle.UnpicklingError,
    ) as error:
        raise CollapsekitError(
            f"weights file {str(path)!r} is not a plain {name} state dict ({_reason(error)}); {how}"
        ) from None
    return path


def _reason(error: BaseException) -> str:
    if isinstance(error, pickle.UnpicklingError):
        return "it holds Python objects besides tensors, and loading those could run code"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(error).__name__


def to_uint8_images(samples: torch.Tensor, input_range: tuple[float, float]) -> torch.Tensor:
    """Images (N, C, H, W) as the uint8 RGB torch-fidelity networks expect; one channel is repeated.

    Example:
        >>> to_uint8_images(torch.tensor([[[[-1.0, 1.0]]]]), (-1.0, 1.0)).tolist()
        [[[[0, 255]], [[0, 255]], [[0, 255]]]]
    """
    if samples.dim() != 4 or samples.shape[1] not in (1, 3):
        raise CollapsekitError(
            f"image feature extractors take (N, 3, H, W) or (N, 1, H, W) images, got shape {tuple(samples.shape)}"
        )
    if samples.dtype != torch.uint8:
        low, high = input_range
        samples = (
            ((samples.float() - low) / (high - low) * 255).round().clamp(0, 255).to(torch.uint8)
        )
    return samples.expand(-1, 3, -1, -1) if samples.shape[1] == 1 else samples


def _torch_fidelity_factory(name: str) -> Callable[..., FeatureExtractor]:
    def factory(
        weights: str | Path | None = None,
        device: str | torch.device | None = None,
        batch_size: int = 64,
        input_range: tuple[float, float] = (-1.0, 1.0),
    ) -> FeatureExtractor:
        from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

        path = check_weights_file(name, weights)
        feature_layer, logits_layer, _ = _TORCH_FIDELITY[name]
        layers = [feature_layer] + ([logits_layer] if logits_layer else [])
        device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        network = FEATURE_EXTRACTORS_REGISTRY[name](
            name, layers, feature_extractor_weights_path=str(path)
        )
        network = network.to(device).eval()
        logger.info("loaded %s from %s on %s", name, path, device)

        def run(samples: torch.Tensor, index: int) -> torch.Tensor:
            return network(to_uint8_images(samples, input_range).to(device))[index]

        logits = (lambda samples: run(samples, 1)) if logits_layer else None
        return FeatureExtractor(name, lambda samples: run(samples, 0), logits, batch_size)

    return factory


register_feature_extractor(
    "identity", _identity, "the samples themselves, flattened (low-dimensional data)"
)
register_feature_extractor(
    "inception-v3-compat",
    _torch_fidelity_factory("inception-v3-compat"),
    "torch-fidelity's InceptionV3 (2048-d pool features, logits for IS); needs weights=PATH",
)
register_feature_extractor(
    "vgg16",
    _torch_fidelity_factory("vgg16"),
    "torch-fidelity's VGG16 (fc2 features); needs weights=PATH",
)
import collapsekit.classifier.extractor  # noqa: E402, F401  (registers "mode-classifier")
