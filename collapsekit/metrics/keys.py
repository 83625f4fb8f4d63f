"""Result keys: the names every metric, history row, summary and report share.

Later work and reports rely on these strings; import the constants rather than
typing the names.
"""

from __future__ import annotations

# Mode metrics (known modes).
MODES_CAPTURED = "modes_captured"  # modes with >= 1 high-quality sample (VEEGAN, PacGAN)
MODES_TOTAL = "modes_total"  # number of modes of the dataset
MODES_COVERED = "modes_covered"  # robust count: modes holding >= min_share of their expected samples
MODES_REACHED = "modes_reached"  # modes holding >= min_share of their expected samples, counting
# every sample at its nearest mode, good or not: high while modes_covered is low means blurry samples
HIGH_QUALITY_FRAC = "high_quality_frac"  # share of samples within the quality radius of a mode
MODE_COUNTS = "mode_counts"  # high-quality samples per mode (list of ints)
MODE_KL = "mode_kl"  # KL(histogram of high-quality samples || true weights), nats
NUM_SAMPLES = "num_samples"  # samples the metrics were computed on

# Discriminator equilibrium (window statistics of sigmoid(D)).
D_REAL = "d_real"  # mean sigmoid(D(x)) over the window
D_FAKE = "d_fake"  # mean sigmoid(D(G(z))) over the window
D_GAP = "d_gap"  # d_real - d_fake
D_REAL_STD = "d_real_std"  # spread of per-step d_real over the window
D_FAKE_STD = "d_fake_std"  # spread of per-step d_fake over the window

# A WGAN critic's raw scores (observe(..., kind="critic")), window statistics; no sigmoid.
CRITIC_REAL = "critic_real"  # mean critic score C(x) over the window
CRITIC_FAKE = "critic_fake"  # mean critic score C(G(z)) over the window
WASSERSTEIN_ESTIMATE = "wasserstein_estimate"  # critic_real - critic_fake: E[C(x)] - E[C(G(z))]
CRITIC_REAL_STD = "critic_real_std"  # spread of per-step critic_real over the window
CRITIC_FAKE_STD = "critic_fake_std"  # spread of per-step critic_fake over the window
WASSERSTEIN_ESTIMATE_STD = "wasserstein_estimate_std"  # spread of the per-step estimate

# Feature metrics (filled by the metrics layer).
FID = "fid"
KID = "kid"
KID_STD = "kid_std"
INCEPTION_SCORE = "inception_score"
INCEPTION_SCORE_STD = "inception_score_std"
PRECISION = "precision"
RECALL = "recall"
DENSITY = "density"
COVERAGE = "coverage"
NDB = "ndb"
NDB_FRAC = "ndb_frac"
SUPPORT_ESTIMATE = "support_estimate"

# History bookkeeping.
STEP = "step"
ELAPSED_SECONDS = "elapsed_s"
