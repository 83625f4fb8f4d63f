"""The ``mode-classifier`` feature extractor: the classifier's penultimate layer, and its triple logits.

FID, KID, precision/recall and density/coverage on stacked digits compare the
(N, 384) concatenated penultimate activations of the three channels; the
Inception Score uses the (N, 1000) log of the product of the per-channel
softmaxes (see ``collapsekit.classifier.mode``). Registered as
``mode-classifier`` in ``collapsekit/features/__init__.py``. The classifier
package knows nothing of features: this module adapts it, so the imports run one
way (features -> classifier).

Example:
    >>> from collapsekit.features import get_feature_extractor
    >>> extractor = get_feature_extractor("mode-classifier")  # shipped 8x8 classifier
    >>> extractor(torch.zeros(2, 3, 8, 8)).shape
    torch.Size([2, 384])
"""

from __future__ import annotations

import os

import torch

from collapsekit.classifier.mode import ModeClassifier
from collapsekit.classifier.store import load_digits_classifier
from collapsekit.errors import CollapsekitError
from collapsekit.features.extractor import FeatureExtractor

SAMPLES_PER_BATCH = 4096  # stacked images per call; the classifier batches channels itself


def mode_classifier_extractor(
    dataset: object | None = None,
    weights: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
) -> FeatureExtractor:
    """Feature extractor from a stacked dataset's classifier, a weights file, or the shipped one.

    ``dataset``: a stacked dataset (its ``classifier`` is used, e.g. stacked-fashion's);
    ``weights``: a classifier weights file with its ``.json`` checksum record beside it;
    neither: the shipped stacked-digits classifier.
    """
    classifier = _classifier(dataset, weights)
    if device is not None and torch.device(device) != classifier.device:
        classifier = ModeClassifier(classifier.model, device, checksum=classifier.checksum)
    return FeatureExtractor(
        "mode-classifier",
        features=classifier.features,
        logits=classifier.triple_logits,
        batch_size=SAMPLES_PER_BATCH,
    )


def _classifier(dataset: object | None, weights: str | os.PathLike | None) -> ModeClassifier:
    if weights is not None:
        return load_digits_classifier(str(weights))
    if dataset is None:
        return load_digits_classifier()
    classifier = getattr(dataset, "classifier", None)
    if not isinstance(classifier, ModeClassifier):
        name = getattr(dataset, "name", type(dataset).__name__)
        raise CollapsekitError(
            f"the mode-classifier features fit stacked-digits, stacked-mnist and stacked-fashion, not {name!r}; "
            "use the dataset's own feature space (e.g. identity for 2-D data)"
        )
    return classifier
