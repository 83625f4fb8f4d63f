"""Run a reference trainer from start (or checkpoint) to finish under the Monitor."""

from __future__ import annotations

import dataclasses
import logging
import os

import torch
from tqdm.auto import tqdm

import collapsekit
from reference_models.registry import get_model
from reference_models.training import GANTrainer, TrainConfig, resolve_device

logger = logging.getLogger(__name__)

NAN_CHECK_EVERY = 25  # steps between finiteness checks of the losses (one sync each)
PROGRESS_EVERY = 100  # steps between refreshes of D(x), D(G(z)) in the progress bar
D_MAP_SIZE = 128  # grid points per axis of the stored sigmoid(D) map (2-D data), read by the report


def build_trainer(config: TrainConfig) -> GANTrainer:
    """Validate ``config`` and build its trainer (before any folder is written)."""
    config.validate()
    dataset = collapsekit.get_dataset(config.data)
    trainer_class = get_model(config.model)
    return trainer_class(config, dataset, resolve_device(config.device))


def train(
    config: TrainConfig,
    run_dir: str | os.PathLike | None,
    progress: bool = True,
) -> collapsekit.Summary:
    """Train a new run into ``run_dir`` (None: in memory) and return its summary."""
    trainer = build_trainer(config)
    monitor = _monitor(trainer, run_dir, resume=False)
    _evaluate(monitor, trainer, sampler := trainer.sampler(monitor.num_samples), checkpoint=run_dir is not None)
    return _run_steps(trainer, monitor, sampler, progress)


def resume(run_dir: str | os.PathLike, progress: bool = True) -> collapsekit.Summary:
    """Continue the run in ``run_dir`` from its last checkpoint."""
    run = collapsekit.RunDir.open(run_dir)
    config = TrainConfig.from_dict(run.read_config())
    trainer = build_trainer(config)
    monitor = _monitor(trainer, run_dir, resume=True)
    state = monitor.resume()
    if state is None:
        raise collapsekit.RunFolderError(f"{run_dir} has no checkpoint yet; start the run again instead")
    trainer.load_state_dict(state)
    return _run_steps(trainer, monitor, trainer.sampler(monitor.num_samples), progress)


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


def _run_steps(trainer: GANTrainer, monitor, sampler, progress: bool) -> collapsekit.Summary:
    steps = trainer.config.steps
    bar = tqdm(total=steps, initial=trainer.step, disable=not progress, unit="step", dynamic_ncols=True)
    checkpoint = monitor.run is not None
    loss_sum = torch.zeros((), device=trainer.device)
    try:
        with bar:
            _show(bar, monitor, monitor.rows[-1] if monitor.rows else None)
            while trainer.step < steps:
                result = trainer.train_step()
                step = trainer.step
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
    except KeyboardInterrupt:
        monitor.close(status="interrupted")
        raise
    if checkpoint:
        write_discriminator_map(trainer, monitor.run.path)
    return monitor.close()


def _evaluate(monitor, trainer: GANTrainer, sampler, checkpoint: bool) -> dict:
    row = monitor.evaluate(trainer.step, sampler, force=True)
    if checkpoint and monitor.diverged_at is None:  # never checkpoint a diverged state
        monitor.save_checkpoint(trainer.state_dict())
    return row


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
            logits[batch] = discriminator(points[batch].to(trainer.device)).reshape(-1).float().cpu()
    discriminator.train(was_training)
    values = torch.sigmoid(logits).reshape(size, size)  # (H, W)
    collapsekit.write_d_map(run_dir, x.numpy(), y.numpy(), values.numpy())


def _diverged(trainer: GANTrainer, monitor, sampler, step: int) -> collapsekit.Summary:
    logger.warning("losses became NaN or inf by step %d; stopping (the last checkpoint is kept)", step)
    monitor.diverged_at = monitor.diverged_at or step
    monitor.evaluate(step, sampler, force=True)
    return monitor.close(status="diverged")


def _show(bar: tqdm, monitor, row: dict | None) -> None:
    if bar.disable:
        return
    postfix = dict(getattr(bar, "_collapsekit_postfix", {}))
    if row is not None and collapsekit.keys.MODES_CAPTURED in row:
        postfix["modes"] = f"{row[collapsekit.keys.MODES_CAPTURED]}/{row[collapsekit.keys.MODES_TOTAL]}"
        postfix["hq"] = f"{row[collapsekit.keys.HIGH_QUALITY_FRAC]:.2f}"
    equilibrium = monitor.equilibrium_now()
    postfix["D(x)"] = f"{equilibrium[collapsekit.keys.D_REAL]:.3f}"
    postfix["D(G(z))"] = f"{equilibrium[collapsekit.keys.D_FAKE]:.3f}"
    bar._collapsekit_postfix = postfix
    bar.set_postfix(postfix, refresh=False)
