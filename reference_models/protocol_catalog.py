"""The built-in protocols, registered in one place. ../shared/protocols.md and docs/models.md
say what each paper's code does; every value below is read from that code.
"""

from __future__ import annotations

from reference_models.protocols import Protocol, register_protocol

DEFAULT = Protocol(
    name="default",
    source="collapsekit's own settings (Metz et al.'s sizes with ReLU MLPs, alternating updates)",
)

# fjxmlzn/PacGAN, synthetic_data_experiments/2DRing_GAN&PacGAN/config.py and 2DGrid_...: the
# same code for both datasets; pacgan_task.py builds the nets, pacgan/bricks.py the losses.
PACGAN = Protocol(
    name="pacgan",
    source="PacGAN Table 1 (Lin et al. 2018): fjxmlzn/PacGAN synthetic_data_experiments code",
    settings={
        "nets": "pacgan-mlp",  # G 4 x 400 BN ReLU; D 3 maxout layers of 200 units, 5 pieces
        "z_dim": 2,  # num_zdim 2, z ~ N(0, I)
        "hidden": 400,  # gen_hidden_size 400 (disc_hidden_size 200 = hidden / 2)
        "batch_size": 100,
        "lr_generator": 1e-4,  # one Adam step rule for both: learning_rate 1e-4, beta1 0.8
        "lr_discriminator": 1e-4,
        "beta1": 0.8,
        "beta2": 0.999,  # Blocks' Adam default
        "generator_objective": "non_saturating",  # bricks.py: softplus(-D(G(z)))
        "updates": "simultaneous",  # ali_algorithm: both gradients from one forward pass
        "train_set_size": 100_000,  # num_sample: one fixed training set
        "steps": 400_000,  # num_epoch 400 x (100,000 / 100) steps
        "eval_every": 10_000,  # the code logs every epoch (1,000 steps); we store every 10
        "eval_samples": 2_500,  # num_log_figure_sample: 2,500 samples of a fixed z
    },
    datasets={
        "ring8": {"radius": "1", "std": "0.01"},  # MEANS (cos, sin)(2 pi i / 8), std 0.01
        "grid25": {"spacing": "2", "std": "0.05"},  # {-4, -2, 0, 2, 4}^2, std 0.05
    },
)

# poolio/unrolled_gan, "Unrolled GAN demo.ipynb": the notebook behind VEEGAN Table 1's
# unrolled row (and, with K = 0, its GAN row), without its 7-distinct-mode ring bug.
VEEGAN = Protocol(
    name="veegan",
    source="VEEGAN Table 1 (Srivastava et al. 2017) via Metz et al.'s notebook poolio/unrolled_gan",
    settings={
        "nets": "mlp-tanh",  # 2 x 128 tanh in G and D, orthogonal init gain 1.4, zero biases
        "z_dim": 256,
        "hidden": 128,
        "batch_size": 512,
        "lr_generator": 1e-3,  # tf AdamOptimizer 1e-3, beta1 0.5
        "lr_discriminator": 1e-4,  # keras Adam 1e-4, beta1 0.5
        "beta1": 0.5,
        "beta2": 0.999,
        "generator_objective": "saturating",  # G minimises -loss: the minimax objective
        "updates": "simultaneous",  # one session.run of g_train_op and d_train_op
        "train_set_size": 0,  # a fresh batch from the mixture every step
        "steps": 25_000,  # max_iter
        "eval_every": 1_000,
        "eval_samples": 2_500,  # VEEGAN: 2,500 samples, high quality within 3 std
    },
    datasets={
        "ring8": {"radius": "1", "std": "0.01"},  # sample_mog(radius=1.0, std=0.01), 8 modes
        "grid25": {"spacing": "2", "std": "0.05"},  # VEEGAN's grid: std 0.05
    },
    model_options={"unrolled": {"unroll_steps": 5}},  # unrolling_steps 5
)


# fjxmlzn/PacGAN, stacked_MNIST_experiments/unrolled_GAN_experiment/D=0.25G and D=0.5G
# (config.py, model.py): Metz et al.'s stacked-MNIST experiment with a deliberately weak D.
METZ = Protocol(
    name="metz",
    source="PacGAN Table 3 (Metz et al.'s stacked MNIST): fjxmlzn/PacGAN unrolled_GAN_experiment",
    settings={
        "nets": "metz",  # G 64/32/16/8 BN ReLU; D 3 convs of 2/4/8 (quarter) or 4/8/16 (half)
        "d_width": "quarter",  # D = 0.25G; --d-width half is the D = 0.5G experiment
        "z_dim": 256,  # N(0, 1)
        "batch_size": 128,
        "lr_generator": 1e-4,  # gen_learning_rate
        "lr_discriminator": 2e-4,  # disc_learning_rate
        "beta1": 0.5,
        "beta2": 0.99,
        "generator_objective": "non_saturating",
        "updates": "alternating",  # one d_optim run, then one g_optim run
        "train_set_size": 0,  # "generate data on the fly": fresh stacked triples every batch
        "steps": 500_000,  # num_training_sample = 500,000 x 128, one epoch
        "eval_every": 2_000,  # log_metrics when counter % 2000 == 1
        "eval_samples": 25_600,  # num_test_sample
        "eval_batch_norm": "batch",  # sampler(..., is_training=True), batches of 128
    },
    # min_confidence 0: every sample counts with its predicted triple, as the code's evaluation
    datasets={
        name: {"min_confidence": "0"}
        for name in ("stacked-digits", "stacked-fashion", "stacked-mnist")
    },
    model_options={"unrolled": {"unroll_steps": 5}, "pacgan": {"pack": 2}},
)


def register_builtin_protocols() -> None:
    for protocol in (DEFAULT, PACGAN, VEEGAN, METZ):
        register_protocol(protocol)
