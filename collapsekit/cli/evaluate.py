"""``collapsekit evaluate``: score samples from any generator against a dataset or real samples."""

from __future__ import annotations

import json
import warnings

import click

from collapsekit.atomic import json_safe
from collapsekit.cli.common import clear_errors, format_table
from collapsekit.cli.threads import threads_option, use_threads
from collapsekit.data import get_dataset, load_dataset_file
from collapsekit.errors import CollapsekitError
from collapsekit.evaluate import evaluate
from collapsekit.samples_io import load_samples


@click.command("evaluate")
@click.argument("samples_path", metavar="SAMPLES", required=False)
@click.option(
    "--data", "dataset", help="Dataset the samples imitate, e.g. ring8 or grid25:std=0.1."
)
@click.option(
    "--data-file",
    metavar="FILE",
    help="Your own mixture: a JSON file saved by mixture.to_json(), or a run's config.json.",
)
@click.option(
    "--real",
    "real_path",
    metavar="FILE",
    help="Real samples to compare with (default: fresh ones of --data).",
)
@click.option(
    "--metrics", help="Comma-separated metric groups or result keys (default: all that apply)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of result keys.")
@click.option(
    "--baseline", is_flag=True, help="Score real samples against real samples instead of SAMPLES."
)
@click.option("--num-samples", type=click.IntRange(min=1), help="Samples drawn for --baseline.")
@click.option("--features", help="Feature extractor (default: the dataset's).")
@click.option("--weights", metavar="PATH", help="Local weights file of the feature extractor.")
@click.option("--key", help="Array to read from .npz files and .pt dictionaries.")
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the real samples drawn."
)
@threads_option
@clear_errors
def evaluate_command(
    samples_path: str | None,
    dataset: str | None,
    data_file: str | None,
    real_path: str | None,
    metrics: str | None,
    as_json: bool,
    baseline: bool,
    num_samples: int | None,
    features: str | None,
    weights: str | None,
    key: str | None,
    seed: int,
    threads: int | None,
) -> None:
    """Score SAMPLES (.npy, .npz or .pt) against real samples of --data or --real.

    \b
    Examples:
      collapsekit evaluate samples.npy --data ring8
      collapsekit evaluate samples.pt --data grid25 --metrics modes,precision_recall --json
      collapsekit evaluate --data ring8 --baseline
      collapsekit evaluate samples.npy --data-file mixture.json
    """
    if samples_path is None and not baseline:
        raise CollapsekitError(
            "give a SAMPLES file to evaluate, or --baseline to score real vs real samples"
        )
    if samples_path is not None and baseline:
        raise CollapsekitError(
            "--baseline scores real samples against real samples; drop SAMPLES or --baseline"
        )
    if dataset is not None and data_file is not None:
        raise CollapsekitError("pass either --data NAME or --data-file FILE, not both")
    if data_file is not None:
        dataset = load_dataset_file(data_file)
    if dataset is None and real_path is None:
        raise CollapsekitError(
            "nothing to compare with; pass --data NAME, --data-file FILE or --real FILE"
        )
    samples = load_samples(samples_path, key) if samples_path is not None else None
    real = load_samples(real_path, key) if real_path is not None else None
    use_threads(threads, _kind(samples if samples is not None else real, dataset))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = evaluate(
            samples, dataset, real, metrics, baseline=baseline, num_samples=num_samples,
            features=features, weights=weights, seed=seed,
        )  # fmt: skip
    for warning in caught:
        click.echo(f"Warning: {warning.message}", err=True)
    if as_json:
        click.echo(json.dumps(json_safe(result), sort_keys=True, allow_nan=False))
        return
    what = "real samples (baseline)" if baseline else samples_path
    name = getattr(dataset, "spec", dataset)
    against = real_path or f"fresh {name} samples"
    click.echo(f"{what} against {against}:")
    click.echo(format_table(list(result.items())))


def _kind(samples, dataset: str | None) -> str:
    """"image" for samples (N, C, H, W) or an image dataset, else "vector" (for the thread count)."""
    if samples is not None:
        return "image" if samples.dim() == 4 else "vector"
    return "image" if len(get_dataset(dataset).sample_shape) == 3 else "vector"
