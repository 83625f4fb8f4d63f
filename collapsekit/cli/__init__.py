"""The ``collapsekit`` command line: thin wrappers that parse, call the library and print.

Each command lives in its own module and is added to the group here.
"""

from __future__ import annotations

import click

from collapsekit.cli.common import setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="collapsekit")
@click.option("-v", "--verbose", is_flag=True, help="Show the library's log messages (INFO and up).")
def main(verbose: bool) -> None:
    """Tell whether, when and how a GAN's generator collapses."""
    setup_logging(verbose)


def _register_commands() -> None:
    from collapsekit.cli.evaluate import evaluate_command
    from collapsekit.cli.listing import list_command
    from collapsekit.cli.report import report_command
    from collapsekit.cli.reproductions import reproductions_command
    from collapsekit.cli.run import run_command
    from collapsekit.cli.sweep import sweep_command

    main.add_command(run_command)
    main.add_command(evaluate_command)
    main.add_command(list_command)
    main.add_command(report_command)
    main.add_command(reproductions_command)
    main.add_command(sweep_command)


_register_commands()
