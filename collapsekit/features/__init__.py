"""Feature extractors by name: what the feature metrics (FID, KID, IS, precision/recall...) look at.

Built-ins, all registered here, in one place:

- ``identity``: the samples themselves, flattened (low-dimensional data such as ring8, grid25);
- ``inception-v3-compat`` and ``vgg16``: torch-fidelity's image networks, loaded
  from a LOCAL weights file (``weights=PATH``); collapsekit never downloads at run
  time and says where to get the file when it is missing (``fidelity.py``);
- ``mode-classifier``: the stacked digits' per-channel classifier (``mode_classifier.py``).

Example:
    >>> extractor = get_feature_extractor("identity")
    >>> extractor(torch.zeros(5, 3, 2, 2)).shape
    torch.Size([5, 12])
"""

from __future__ import annotations

import torch  # noqa: F401  (the example above)

from collapsekit.features.extractor import FeatureExtractor, identity_extractor
from collapsekit.features.fidelity import (
    check_weights_file,
    to_uint8_images,
    torch_fidelity_factory,
)
from collapsekit.features.mode_classifier import mode_classifier_extractor
from collapsekit.features.registry import (
    accepted_options,
    get_feature_extractor,
    list_feature_extractors,
    register_feature_extractor,
)

__all__ = [
    "FeatureExtractor",
    "accepted_options",
    "check_weights_file",
    "get_feature_extractor",
    "list_feature_extractors",
    "register_feature_extractor",
    "to_uint8_images",
]

register_feature_extractor(
    "identity", identity_extractor, "the samples themselves, flattened (low-dimensional data)"
)
register_feature_extractor(
    "inception-v3-compat",
    torch_fidelity_factory("inception-v3-compat"),
    "torch-fidelity's InceptionV3 (2048-d pool features, logits for IS); needs weights=PATH",
)
register_feature_extractor(
    "vgg16",
    torch_fidelity_factory("vgg16"),
    "torch-fidelity's VGG16 (fc2 features); needs weights=PATH",
)
register_feature_extractor(
    "mode-classifier",
    mode_classifier_extractor,
    "stacked digits: penultimate layer of the per-channel digit classifier (3 x 128-d); triple logits for IS",
)
