"""torch-fidelity's image networks as feature extractors, from a LOCAL weights file only.

collapsekit never downloads at run time: without the file, the error says where
to get it. Weights are checked to hold plain tensors (``weights_only=True``)
before torch-fidelity, which loads with ``weights_only=False``, sees them.
"""

from __future__ import annotations

import logging
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch

from collapsekit.errors import CollapsekitError
from collapsekit.features.extractor import FeatureExtractor

logger = logging.getLogger(__name__)

# torch-fidelity networks: feature layer, logits layer (None: no classifier), where to get weights
TORCH_FIDELITY_NETWORKS = {
    "inception-v3-compat": (
        "2048",
        "logits_unbiased",
        "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
    ),
    "vgg16": ("fc2_relu", None, "https://download.pytorch.org/models/vgg16-397923af.pth"),
}


def check_weights_file(name: str, weights: str | Path | None) -> Path:
    """The weights path of a torch-fidelity network, checked to exist and to hold plain tensors."""
    url = TORCH_FIDELITY_NETWORKS[name][2]
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


def torch_fidelity_factory(name: str) -> Callable[..., FeatureExtractor]:
    def factory(
        weights: str | Path | None = None,
        device: str | torch.device | None = None,
        batch_size: int = 64,
        input_range: tuple[float, float] = (-1.0, 1.0),
    ) -> FeatureExtractor:
        from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

        path = check_weights_file(name, weights)
        feature_layer, logits_layer, _ = TORCH_FIDELITY_NETWORKS[name]
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
