"""Run a reference trainer from start (or checkpoint) to finish under the Monitor."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import math
import os
from pathlib import Path

import PIL.Image
import torch
from tqdm.auto import tqdm

import collapsekit
from collapsekit.atomic import atomic_write_bytes
from collapsekit.limits import check_count, check_samples_fit
from collapsekit.run_cleanup import clear_run_files
from reference_models.protocols import apply_protocol
from reference_models.recovery import (
    check_trained_as,
    checkpoint_state,
    load_trainer_state,
    repair_run_files,
    trainer_state,
)
from reference_models.registry import get_model
from reference_models.training import GANTrainer, TrainConfig, data_kind, resolve_device

logger = logging.getLogger(__name__)

NAN_CHECK_EVERY = 25  # steps between finiteness checks of the losses (one sync each)
PROGRESS_EVERY = 100  # steps between refreshes of D(x), D(G(z)) in the progress bar
D_MAP_SIZE = 128  # grid points per axis of the stored sigmoid(D) map (2-D data), read by the report
GRID_ROWS = 8  # sample grids (image data): 8 x 8 images per evaluation
GRID_MIN_TILE = 32  # pixels per image side in a grid at least (8x8 images are enlarged 4x)
# D is observed at most this many times per run: equilibrium.csv (about 46 bytes a row) stays
# near 2.3 MB. Runs of up to 50,000 steps observe every step; PacGAN's 400,000 every 8th.
MAX_OBSERVED_STEPS = 50_000


def build_trainer(config: TrainConfig) -> GANTrainer:
    """Validate ``config`` and build its trainer (before any folder is written)."""
    config.validate()
    apply_protocol(config)  # in place, like fill_defaults: config.json stores what it resolved
    dataset = collapsekit.get_dataset(config.data)
    config.fill_defaults(dataset)  # in place: config.json stores the settings used
    check_evaluation_fits(config, dataset)
    trainer_class = get_model(config.model)
    return trainer_class(config, dataset, resolve_device(config.device))


def check_evaluation_fits(config: TrainConfig, dataset: collapsekit.Dataset) -> None:
    """Refuse, before any allocation, an evaluation whose samples and noise exceed the memory."""
    count = dataset.eval_samples if config.eval_samples is None else config.eval_samples
    count = check_count(count, "eval_samples")
    values = config.z_dim + math.prod(dataset.sample_shape)  # fixed noise batch + samples
    check_samples_fit(count, values, "eval_samples", "lower --eval-samples")


def train(
    config: TrainConfig,
    run_dir: str | os.PathLike | None,
    progress: bool = True,
) -> collapsekit.Summary:
    """Train a new run into ``run_dir`` (None: in memory) and return its summary."""
    trainer = build_trainer(config)
    monitor = _monitor(trainer, run_dir, resume=False)
    with _marked_if_interrupted(monitor):
        sampler = trainer.sampler(monitor.num_samples)
        _evaluate(monitor, trainer, sampler, checkpoint=run_dir is not None)
        return _run_steps(trainer, monitor, sampler, progress)


def resume(run_dir: str | os.PathLike, progress: bool = True) -> collapsekit.Summary:
    """Continue the run in ``run_dir`` from its last checkpoint.

    A run stopped before its first checkpoint starts again from step 0 (nothing
    of it can be kept). A ``config.json`` that no longer describes the
    checkpoint's run is refused; damaged history, sample and equilibrium files
    are repaired first (see ``reference_models/recovery.py``).
    """
    run = collapsekit.RunDir.open(run_dir)
    config = TrainConfig.from_dict(run.read_config())
    if not run.has_checkpoint():
        logger.info("%s stopped before its first checkpoint; starting it again", run_dir)
        clear_run_files(run_dir)
        return train(config, run_dir, progress)
    trainer = build_trainer(config)
    checkpoint = run.load_checkpoint()
    check_trained_as(trainer_state(checkpoint, run_dir), trainer.config, run_dir)
    repair_run_files(run, checkpoint)
    monitor = _monitor(trainer, run_dir, resume=True)
    state = monitor.resume()
    with _marked_if_interrupted(monitor):
        load_trainer_state(trainer, state, run_dir)
        return _run_steps(trainer, monitor, trainer.sampler(monitor.num_samples), progress)


def load_trained(run_dir: str | os.PathLike) -> GANTrainer:
    """The trainer of the run in ``run_dir`` at its last checkpoint, for looking at its networks."""
    run = collapsekit.RunDir.open(run_dir)
    trainer = build_trainer(TrainConfig.from_dict(run.read_config()))
    checkpoint = run.load_checkpoint()
    if checkpoint is None:
        raise collapsekit.RunFolderError(
            f"{run_dir} has no checkpoint.pt (the committed reference runs leave it out): train the "
            "run again with `collapsekit sweep --models M --data D --seeds S --out DIR`; the same "
            "seed gives the same run"
        )
    trainer.load_state_dict(checkpoint["trainer"])
    return trainer


@contextlib.contextmanager
def _marked_if_interrupted(monitor):
    """Ctrl-C (or SIGTERM turned into it) once the run has a checkpoint: its summary says
    ``interrupted``, so a folder with a checkpoint always gets a summary. Before the first
    checkpoint the folder stays without one: nothing to resume, the run starts again."""
    try:
        yield
    except KeyboardInterrupt:
        if monitor.run is None or monitor.run.has_checkpoint():
            monitor.close(status="interrupted")
        raise


def _monitor(trainer: GANTrainer, run_dir, resume: bool) -> collapsekit.Monitor:
    config = trainer.config
    return collapsekit.Monitor(
        data=trainer.dataset,
        run_dir=run_dir,
        eval_every=config.eval_every,
        num_samples=config.eval_samples,
        config=dataclasses.asdict(config),
        resume=resume,
    )


def observe_every(steps: int) -> int:
    """Steps between two observations of D's outputs in a run of ``steps`` steps: 1 up to
    ``MAX_OBSERVED_STEPS`` steps, then the smallest stride that keeps to that many rows.

    The stride depends on the run's length only, so a resumed run observes the same steps.
    """
    return max(1, math.ceil(steps / MAX_OBSERVED_STEPS))


def _run_steps(trainer: GANTrainer, monitor, sampler, progress: bool) -> collapsekit.Summary:
    steps = trainer.config.steps
    every = observe_every(steps)
    bar = tqdm(
        total=steps, initial=trainer.step, disable=not progress, unit="step", dynamic_ncols=True
    )
    checkpoint = monitor.run is not None
    loss_sum = torch.zeros((), device=trainer.device)
    with bar:
        _show(bar, monitor, monitor.rows[-1] if monitor.rows else None)
        while trainer.step < steps:
            result = trainer.train_step()
            step = trainer.step
            if step % every == 0:
                monitor.observe(step, result.real_logits, result.fake_logits)
            loss_sum += result.loss_discriminator + result.loss_generator
            bar.update(1)
            if step % NAN_CHECK_EVERY == 0 and not torch.isfinite(loss_sum):
                return _diverged(trainer, monitor, sampler, step)
            if monitor.due(step) or step == steps:
                _show(bar, monitor, _evaluate(monitor, trainer, sampler, checkpoint))
                if monitor.diverged_at is not None:  # NaN samples or D outputs
                    return monitor.close(status="diverged")
            elif step % PROGRESS_EVERY == 0:
                _show(bar, monitor, None)
    if checkpoint:
        write_discriminator_map(trainer, monitor.run.path)
    return monitor.close()


def _evaluate(monitor, trainer: GANTrainer, sampler, checkpoint: bool) -> dict:
    row = monitor.evaluate(trainer.step, sampler, force=True)
    if checkpoint:
        write_sample_grid(trainer, sampler, monitor.run.path)
    if checkpoint and monitor.diverged_at is None:  # never checkpoint a diverged state
        monitor.save_checkpoint(checkpoint_state(trainer, monitor.rows))
    return row


def write_sample_grid(trainer: GANTrainer, sampler, run_dir, rows: int = GRID_ROWS) -> Path | None:
    """Store ``rows`` x ``rows`` generated images as ``samples/step_<step>.png`` (image data only).

    The images come from the first noise vectors of the fixed evaluation batch, so
    successive grids show the same z; channels are drawn as RGB, [-1, 1] -> 0..255,
    each pixel enlarged to at least ``GRID_MIN_TILE`` pixels per image side.
    """
    if data_kind(trainer.dataset) != "image":
        return None
    noise = sampler.noise[: rows * rows]  # (n, z_dim)
    generator = trainer.generator
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        images = generator(noise.to(trainer.device)).float().cpu()  # (n, C, S, S)
    generator.train(was_training)
    path = Path(run_dir) / "samples" / f"step_{trainer.step:08d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, image_grid_png(images, rows))
    return path


def image_grid_png(images: torch.Tensor, rows: int) -> bytes:
    """PNG bytes of ``images`` (n, C, S, S) in [-1, 1] tiled ``rows`` per row, with 1-pixel gaps.

    Example:
        >>> png = image_grid_png(torch.zeros(4, 3, 8, 8), rows=2)
        >>> png[:4]
        b'\\x89PNG'
    """
    count, channels, side, _ = images.shape
    scale = max(1, -(-GRID_MIN_TILE // side))  # ceil: 8x8 digits drawn at 32x32
    tile = side * scale + 1
    columns = -(-count // rows) if count < rows * rows else rows
    grid_rows = -(-count // columns)
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)  # (n, C, S, S)
    if channels == 1:
        pixels = pixels.expand(-1, 3, -1, -1)
    pixels = pixels[:, :3].repeat_interleave(scale, dim=2).repeat_interleave(scale, dim=3)
    canvas = torch.full((3, grid_rows * tile + 1, columns * tile + 1), 255, dtype=torch.uint8)
    for index in range(count):
        top, left = 1 + (index // columns) * tile, 1 + (index % columns) * tile
        canvas[:, top : top + tile - 1, left : left + tile - 1] = pixels[index]
    buffer = io.BytesIO()
    PIL.Image.fromarray(canvas.permute(1, 2, 0).numpy()).save(buffer, format="PNG")
    return buffer.getvalue()


def write_discriminator_map(trainer: GANTrainer, run_dir, size: int = D_MAP_SIZE) -> None:
    """Store sigmoid(D) on a ``size`` x ``size`` grid over the data's extent plus a quarter margin.

    Only for 2-D data. The grid goes through D in batches of the training batch
    size, each a random spread of grid points: a discriminator with minibatch
    features sees batches like those it was trained on (its map stays approximate).
    """
    if tuple(trainer.dataset.sample_shape) != (2,):
        return
    rng = torch.Generator().manual_seed(0)
    real = trainer.dataset.sample(4096, generator=rng)  # (4096, 2)
    low, high = real.min(dim=0).values, real.max(dim=0).values
    margin = 0.25 * (high - low)
    x = torch.linspace(float(low[0] - margin[0]), float(high[0] + margin[0]), size)  # (W,)
    y = torch.linspace(float(low[1] - margin[1]), float(high[1] + margin[1]), size)  # (H,)
    grid_y, grid_x = torch.meshgrid(y, x, indexing="ij")  # (H, W) each
    points = torch.stack([grid_x.flatten(), grid_y.flatten()], dim=1)  # (H * W, 2)
    order = torch.randperm(points.shape[0], generator=rng)
    logits = torch.empty(points.shape[0])  # (H * W,)
    discriminator = trainer.discriminator
    was_training = discriminator.training
    discriminator.eval()
    with torch.no_grad():
        for batch in order.split(trainer.config.batch_size):
            points_in = points[batch].to(trainer.device)
            logits[batch] = trainer.discriminator_logits_at(points_in).reshape(-1).float().cpu()
    discriminator.train(was_training)
    values = torch.sigmoid(logits).reshape(size, size)  # (H, W)
    collapsekit.write_d_map(run_dir, x.numpy(), y.numpy(), values.numpy())


def _diverged(trainer: GANTrainer, monitor, sampler, step: int) -> collapsekit.Summary:
    logger.warning(
        "losses became NaN or inf by step %d; stopping (the last checkpoint is kept)", step
    )
    monitor.diverged_at = monitor.diverged_at or step
    monitor.evaluate(step, sampler, force=True)
    return monitor.close(status="diverged")


def _show(bar: tqdm, monitor, row: dict | None) -> None:
    if bar.disable:
        return
    postfix = dict(getattr(bar, "_collapsekit_postfix", {}))
    if row is not None and collapsekit.keys.MODES_CAPTURED in row:
        postfix["modes"] = (
            f"{row[collapsekit.keys.MODES_CAPTURED]}/{row[collapsekit.keys.MODES_TOTAL]}"
        )
        postfix["hq"] = f"{row[collapsekit.keys.HIGH_QUALITY_FRAC]:.2f}"
    equilibrium = monitor.equilibrium_now()
    postfix["D(x)"] = f"{equilibrium[collapsekit.keys.D_REAL]:.3f}"
    postfix["D(G(z))"] = f"{equilibrium[collapsekit.keys.D_FAKE]:.3f}"
    bar._collapsekit_postfix = postfix
    bar.set_postfix(postfix, refresh=False)
