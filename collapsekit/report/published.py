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
# PacGAN Table 3 is two experiments (Metz et al.'s stacked MNIST with D at 1/4 and 1/2 of G's
# channels): one source each, so methods are ranked within one D width.
PACGAN_TABLE_3_QUARTER = "PacGAN (Lin et al. 2018), Table 3, D = 1/4 G"
PACGAN_TABLE_3_HALF = "PacGAN (Lin et al. 2018), Table 3, D = 1/2 G"

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

METZ_PROTOCOL = (
    "Metz et al.'s stacked MNIST as PacGAN's code runs it: three random MNIST digits as the "
    "channels of a 28x28 image, 1,000 modes; G 64/32/16/8 BN ReLU, D three 3x3 stride-2 convs of "
    "2/4/8 (D = 1/4 G) or 4/8/16 (D = 1/2 G) channels; z 256; Adam D 2e-4, G 1e-4, betas (0.5, "
    "0.99); batch 128; 500,000 steps; 25,600 samples, modes = distinct predicted triples, "
    "KL(p_model || uniform over 1,000); +- standard error (DCGAN and unrolled rows from Metz "
    "et al.). Measured on MNIST digits: beside our stacked-digits and stacked-fashion runs "
    "(protocol metz, scaled to their size) only the ordering of the methods compares"
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


# PacGAN Table 3 (Metz et al.'s stacked MNIST): (value, standard error or None) of modes of
# 1,000 and KL(p_model || uniform), at D = 1/4 G and at D = 1/2 G.
_PACGAN_TABLE_3 = [
    ("DCGAN", ((30.6, 20.73), (5.99, 0.42)), ((628.0, 140.9), (2.58, 0.75))),
    ("Unrolled GAN (1 step)", ((65.4, 34.75), (5.91, None)), ((523.6, 55.77), (2.44, None))),
    ("Unrolled GAN (5 steps)", ((236.4, 63.30), (4.67, None)), ((732.0, 44.98), (1.66, None))),
    ("Unrolled GAN (10 steps)", ((327.2, 74.67), (4.66, None)), ((817.4, 37.91), (1.43, None))),
    ("PacDCGAN2", ((484.5, None), (2.61, None)), ((840.7, None), (1.00, None))),
]


def _metz(source: str, method: str, modes: tuple, kl: tuple) -> list:
    return [
        PublishedResult("stacked-mnist", method, metric, *value, source, METZ_PROTOCOL)
        for metric, value in ((keys.MODES_CAPTURED, modes), (keys.MODE_KL, kl))
    ]


def _build() -> tuple[PublishedResult, ...]:
    results: list[PublishedResult] = []
    for method, ring, grid in _VEEGAN_TABLE_1:
        results += _veegan("ring8", method, *ring) + _veegan("grid25", method, *grid)
    for method, ring, grid in _PACGAN_TABLE_1:
        results += _pacgan("ring8", method, *ring) + _pacgan("grid25", method, *grid)
    for method, modes, kl in _VEEGAN_TABLE_2:
        results += _veegan_stacked(method, modes, kl)
    for method, quarter, half in _PACGAN_TABLE_3:
        results += _metz(PACGAN_TABLE_3_QUARTER, method, *quarter)
        results += _metz(PACGAN_TABLE_3_HALF, method, *half)
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
    ``collapsekit.load_runs`` writes them); other options may differ. ``d_width`` is
    the metz nets' D width the runs must have (``"quarter"``); ``""`` matches any.
    """

    source: str  # PACGAN_TABLE_1, VEEGAN_TABLE_1
    method: str  # as the paper names it: "PacGAN2"
    protocol: str  # our protocol: "pacgan"
    model: str  # our model: "pacgan"
    options: str = ""
    d_width: str = ""


@dataclass(frozen=True)
class PaperSetting:
    """What a published table ran: its short name, training steps and trials per number.

    ``stand_ins`` are our datasets that stand in for the paper's (another dataset of
    the same shape, such as stacked-digits for MNIST's stacked digits): their rows
    compare the ordering of the methods only, never the value. ``measured_on``
    names the paper's data in words for those rows.
    """

    name: str  # "PacGAN Table 1"
    steps: int
    trials: int | None  # None: the table does not say over how many runs
    stand_ins: tuple[str, ...] = ()
    measured_on: str = ""


# Steps as the protocols' code runs them: PacGAN 400 epochs of 1,000 batches; the unrolled GAN
# notebook behind VEEGAN's GAN and unrolled rows 25,000 iterations; PacGAN's stacked MNIST code
# 500,000 batches. PacGAN Table 3 does not say how many runs its means are over (the code's
# config.py lists 50 per packing number; the DCGAN and unrolled rows are Metz et al.'s).
METZ_STAND_INS = ("stacked-digits", "stacked-fashion")
PAPER_SETTINGS = {
    PACGAN_TABLE_1: PaperSetting("PacGAN Table 1", 400_000, 10),
    VEEGAN_TABLE_1: PaperSetting("VEEGAN Table 1", 25_000, 5),
    PACGAN_TABLE_3_QUARTER: PaperSetting(
        "PacGAN Table 3 (MNIST), D = 1/4 G", 500_000, None, METZ_STAND_INS, "MNIST digits"
    ),
    PACGAN_TABLE_3_HALF: PaperSetting(
        "PacGAN Table 3 (MNIST), D = 1/2 G", 500_000, None, METZ_STAND_INS, "MNIST digits"
    ),
}


# PacGAN Table 3's methods and the runs that reproduce them (model, options), at each D width.
_METZ_METHODS = (
    ("DCGAN", "vanilla", ""),
    ("Unrolled GAN (1 step)", "unrolled", "unroll_steps=1"),
    ("Unrolled GAN (5 steps)", "unrolled", "unroll_steps=5"),
    ("Unrolled GAN (10 steps)", "unrolled", "unroll_steps=10"),
    ("PacDCGAN2", "pacgan", "pack=2"),
)
_METZ_D_WIDTHS = {PACGAN_TABLE_3_QUARTER: "quarter", PACGAN_TABLE_3_HALF: "half"}

# The published methods we implement (ALI, VEEGAN, WGAN-GP and GDPP we do not).
REPRODUCTIONS: tuple[Reproduction, ...] = (
    Reproduction(PACGAN_TABLE_1, "GAN", "pacgan", "vanilla"),
    Reproduction(PACGAN_TABLE_1, "PacGAN2", "pacgan", "pacgan", "pack=2"),
    Reproduction(PACGAN_TABLE_1, "PacGAN3", "pacgan", "pacgan", "pack=3"),
    Reproduction(PACGAN_TABLE_1, "PacGAN4", "pacgan", "pacgan", "pack=4"),
    Reproduction(VEEGAN_TABLE_1, "GAN", "veegan", "vanilla"),
    Reproduction(VEEGAN_TABLE_1, "Unrolled GAN", "veegan", "unrolled", "unroll_steps=5"),
    *(
        Reproduction(source, method, "metz", model, options, d_width)
        for source, d_width in _METZ_D_WIDTHS.items()
        for method, model, options in _METZ_METHODS
    ),
)
