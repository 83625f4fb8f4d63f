"""Published numbers for the benchmarks we run, each with its source and protocol.

The values are copied from the papers' tables (see ``/work/shared/published-results.md``
in the project notes, and the papers themselves). They are data, not code: add a
row to ``PUBLISHED`` to show another result beside ours. Protocols differ between
papers (ring radius and width, sample counts, how a mode counts as captured), so
a report always prints the protocol next to the number.

Example:
    >>> [r.method for r in published_for("ring8") if r.source == VEEGAN_TABLE_1][:2]
    ['GAN', 'ALI']
"""

from __future__ import annotations

from dataclasses import dataclass

from collapsekit.data.registry import parse_spec
from collapsekit.metrics import keys

VEEGAN_TABLE_1 = "VEEGAN (Srivastava et al. 2017), Table 1"
VEEGAN_TABLE_2 = "VEEGAN (Srivastava et al. 2017), Table 2"
PACGAN_TABLE_1 = "PacGAN (Lin et al. 2018), Table 1"

VEEGAN_PROTOCOL = (
    "2,500 samples; high quality = within 3 std of a mode centre; a mode is captured when it "
    "is the nearest component to at least one high-quality sample; mean of 5 runs"
)
VEEGAN_STACKED_PROTOCOL = (
    "stacked MNIST, 26,000 samples; modes = distinct predicted digit triples (of 1,000); "
    "KL(p_model || uniform); mean of 5 runs"
)
PACGAN_PROTOCOL = (
    "ring: radius 1, std 0.01; grid: {-4,-2,0,2,4}^2, std 0.05; 2,500 samples from a fixed z; "
    "high quality = Mahalanobis distance < 3; a mode is captured with at least one "
    "high-quality sample; z 2-D, G 4x400 BN ReLU, D maxout; 10 trials, +- standard error; "
    "their reverse KL reads as KL(high-quality mode histogram || uniform), which is our "
    "mode_kl on these uniform mixtures (see docs/report.md)"
)

# PacGAN's KL column, read as KL(high-quality mode histogram || uniform) = log K - the entropy
# their MetricLogger logs (its JSD column cannot reach the table's 0.70); docs/report.md says why.
PACGAN_REVERSE_KL = "pacgan_reverse_kl"


@dataclass(frozen=True)
class PublishedResult:
    """One published number: which benchmark, method and metric, and where it came from."""

    dataset: str  # our dataset name it corresponds to: "ring8", "grid25", "stacked-mnist"
    method: str  # as the paper names it
    metric: str  # a result key (collapsekit.keys) or PACGAN_REVERSE_KL
    value: float  # high-quality fractions as fractions (99.3% -> 0.993)
    error: float | None  # the paper's standard error, when it gives one
    source: str
    protocol: str


def _veegan(dataset: str, method: str, modes: float, high_quality_percent: float) -> list:
    return [
        PublishedResult(
            dataset, method, keys.MODES_CAPTURED, modes, None, VEEGAN_TABLE_1, VEEGAN_PROTOCOL
        ),
        PublishedResult(
            dataset,
            method,
            keys.HIGH_QUALITY_FRAC,
            high_quality_percent / 100,
            None,
            VEEGAN_TABLE_1,
            VEEGAN_PROTOCOL,
        ),
    ]


def _pacgan(
    dataset: str, method: str, modes: tuple, high_quality: tuple, reverse_kl: tuple
) -> list:
    def row(metric: str, value: float, error: float) -> PublishedResult:
        return PublishedResult(
            dataset, method, metric, value, error, PACGAN_TABLE_1, PACGAN_PROTOCOL
        )

    return [
        row(keys.MODES_CAPTURED, *modes),
        row(keys.HIGH_QUALITY_FRAC, high_quality[0] / 100, high_quality[1] / 100),
        row(PACGAN_REVERSE_KL, *reverse_kl),
    ]


def _veegan_stacked(method: str, modes: float, kl: float) -> list:
    return [
        PublishedResult(
            "stacked-mnist",
            method,
            keys.MODES_CAPTURED,
            modes,
            None,
            VEEGAN_TABLE_2,
            VEEGAN_STACKED_PROTOCOL,
        ),
        PublishedResult(
            "stacked-mnist", method, keys.MODE_KL, kl, None, VEEGAN_TABLE_2, VEEGAN_STACKED_PROTOCOL
        ),
    ]


# VEEGAN Table 1 (ring: modes of 8, % high quality; grid: modes of 25, % high quality).
_VEEGAN_TABLE_1 = [
    ("GAN", (1, 99.3), (3.3, 0.5)),
    ("ALI", (2.8, 0.13), (15.8, 1.6)),
    ("Unrolled GAN", (7.6, 35.6), (23.6, 16)),
    ("VEEGAN", (8, 52.9), (24.6, 40)),
]

# PacGAN Table 1: (value, standard error) for modes, % high quality, reverse KL.
_PACGAN_TABLE_1 = [
    ("GAN", ((6.3, 0.5), (98.2, 0.2), (0.45, 0.09)), ((17.3, 0.8), (94.8, 0.7), (0.70, 0.07))),
    ("ALI", ((6.6, 0.3), (97.6, 0.4), (0.36, 0.04)), ((24.1, 0.4), (95.7, 0.6), (0.14, 0.03))),
    ("PacGAN2", ((7.9, 0.1), (95.6, 2.0), (0.07, 0.03)), ((23.8, 0.7), (91.3, 0.8), (0.13, 0.04))),
    ("PacGAN3", ((7.8, 0.1), (97.7, 0.3), (0.10, 0.02)), ((24.6, 0.4), (94.2, 0.4), (0.06, 0.02))),
    ("PacGAN4", ((7.8, 0.1), (95.9, 1.4), (0.07, 0.02)), ((24.8, 0.2), (93.6, 0.6), (0.04, 0.01))),
]

# VEEGAN Table 2: stacked MNIST modes of 1,000 and KL.
_VEEGAN_TABLE_2 = [
    ("DCGAN", 99, 3.4),
    ("ALI", 16, 5.4),
    ("Unrolled GAN", 48.7, 4.32),
    ("VEEGAN", 150, 2.95),
]


def _build() -> tuple[PublishedResult, ...]:
    results: list[PublishedResult] = []
    for method, ring, grid in _VEEGAN_TABLE_1:
        results += _veegan("ring8", method, *ring) + _veegan("grid25", method, *grid)
    for method, ring, grid in _PACGAN_TABLE_1:
        results += _pacgan("ring8", method, *ring) + _pacgan("grid25", method, *grid)
    for method, modes, kl in _VEEGAN_TABLE_2:
        results += _veegan_stacked(method, modes, kl)
    return tuple(results)


PUBLISHED: tuple[PublishedResult, ...] = _build()

# Our models and the published method each one reimplements (for ordering and labels).
COMPARABLE_METHOD = {"vanilla": "GAN", "unrolled": "Unrolled GAN", "minibatch": None}


def published_for(data_spec: str) -> list[PublishedResult]:
    """Published results for the benchmark behind ``data_spec`` (``"ring8:std=0.01"`` -> ring8)."""
    name, _ = parse_spec(data_spec)
    return [result for result in PUBLISHED if result.dataset == name]


@dataclass(frozen=True)
class Reproduction:
    """How we reproduce one published method: the protocol, model and options of our runs.

    ``options`` are the model options the runs must carry (``"pack=2"``, as
    ``collapsekit.load_runs`` writes them); other options may differ.
    """

    source: str  # PACGAN_TABLE_1, VEEGAN_TABLE_1
    method: str  # as the paper names it: "PacGAN2"
    protocol: str  # our protocol: "pacgan"
    model: str  # our model: "pacgan"
    options: str = ""


@dataclass(frozen=True)
class PaperSetting:
    """What a published table ran: its short name, training steps and trials per number."""

    name: str  # "PacGAN Table 1"
    steps: int
    trials: int


# Steps as the protocols' code runs them: PacGAN 400 epochs of 1,000 batches; the unrolled GAN
# notebook behind VEEGAN's GAN and unrolled rows 25,000 iterations.
PAPER_SETTINGS = {
    PACGAN_TABLE_1: PaperSetting("PacGAN Table 1", 400_000, 10),
    VEEGAN_TABLE_1: PaperSetting("VEEGAN Table 1", 25_000, 5),
}

# The published methods we implement (ALI, VEEGAN, WGAN-GP and GDPP we do not).
REPRODUCTIONS: tuple[Reproduction, ...] = (
    Reproduction(PACGAN_TABLE_1, "GAN", "pacgan", "vanilla"),
    Reproduction(PACGAN_TABLE_1, "PacGAN2", "pacgan", "pacgan", "pack=2"),
    Reproduction(PACGAN_TABLE_1, "PacGAN3", "pacgan", "pacgan", "pack=3"),
    Reproduction(PACGAN_TABLE_1, "PacGAN4", "pacgan", "pacgan", "pack=4"),
    Reproduction(VEEGAN_TABLE_1, "GAN", "veegan", "vanilla"),
    Reproduction(VEEGAN_TABLE_1, "Unrolled GAN", "veegan", "unrolled", "unroll_steps=5"),
)
