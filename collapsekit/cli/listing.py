"""``collapsekit list``: the datasets and models that can be named."""

from __future__ import annotations

import click

from collapsekit.data import list_datasets


@click.command("list")
def list_command() -> None:
    """Show the registered datasets, reference models and protocols."""
    import reference_models

    click.echo("Datasets (parameters: NAME:key=value,...):")
    for name, description in list_datasets().items():
        click.echo(f"  {name:<16} {description}")
    click.echo("Models:")
    for name, description in reference_models.list_models().items():
        click.echo(f"  {name:<16} {description}")
    click.echo("Protocols (--protocol NAME):")
    for name, source in reference_models.list_protocols().items():
        click.echo(f"  {name:<16} {source}")
