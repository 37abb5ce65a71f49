"""The `tenantsync` command line."""

from __future__ import annotations

import click

from tenantsync.airflow.cli import airflow
from tenantsync.api.cli import register as register_api
from tenantsync.controller.cli import register as register_controller
from tenantsync.sandbox.cli import sandbox

# Commands that start sync runs: their runs record webhooks and pause on refused credentials
# as the service's runs do (the service's dispatcher delivers what they record).
RUNNING_COMMANDS = {"run", "syncs"}


@click.group()
@click.version_option(package_name="tenantsync")
@click.pass_context
def main(ctx: click.Context) -> None:
    """tenantsync: self-hosted, Supaglue-compatible managed syncs."""
    if ctx.invoked_subcommand in RUNNING_COMMANDS:
        from tenantsync.api import runs
        from tenantsync.controller import db as registry_db

        runs.install(registry_db.registry_url())


@main.command()
@click.option("--data-dir", type=click.Path(), default=None,
              help="Embedded Postgres data directory; the demo's registry and Meltano project "
                   "go beside it (default: .demo/postgres in the working directory).")
def demo(data_dir: str | None) -> None:
    """Run the demo sync into the embedded Postgres and show what landed."""
    from tenantsync.demo import run_demo

    run_demo(data_dir)


@main.group()
def db() -> None:
    """The embedded Postgres."""


@db.command("uri")
@click.option("--data-dir", type=click.Path(), default=None)
def db_uri(data_dir: str | None) -> None:
    """Start the embedded Postgres if needed and print its connection URI."""
    from tenantsync import embedded_pg

    click.echo(embedded_pg.start(data_dir))


@db.command("stop")
@click.option("--data-dir", type=click.Path(), default=None)
def db_stop(data_dir: str | None) -> None:
    """Stop the embedded Postgres."""
    from tenantsync import embedded_pg

    click.echo("stopped" if embedded_pg.stop(data_dir) else "not running")


@main.group()
def plugins() -> None:
    """Meltano plugin definitions of the registered providers' taps."""


@plugins.command("render")
@click.option("--root", type=click.Path(file_okay=False), default=".", show_default=True,
              help="The tenantsync repository (its plugins/ and meltano.yml).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file is stale.")
def plugins_render(root: str, check: bool) -> None:
    """Generate plugins/extractors/*.yml and the project files' extractors from each tap's
    settings."""
    from pathlib import Path

    from tenantsync.controller import plugins as generated

    if check:
        stale = generated.stale(Path(root))
        for path in stale:
            click.echo(f"stale: {path} (run `tenantsync plugins render`)", err=True)
        raise SystemExit(1 if stale else 0)
    for path in generated.write(Path(root)):
        click.echo(f"wrote {path}")


@plugins.command("wheels")
@click.option("--root", type=click.Path(file_okay=False), default=".", show_default=True,
              help="The tenantsync repository.")
@click.option("--out", type=click.Path(file_okay=False), default="dist", show_default=True,
              help="Folder the wheels are written to.")
@click.option("--sizes", is_flag=True,
              help="Also install each plugin's wheel alone in a fresh virtual environment "
                   "and report what it adds (slow: a minute or so per plugin).")
def plugins_wheels(root: str, out: str, sizes: bool) -> None:
    """Build the wheel of every distribution: tenantsync-kit, each tap and target, tenantsync."""
    from pathlib import Path

    from tenantsync.controller import distributions

    wheels = distributions.build(Path(root), Path(out))
    for dist, wheel in wheels.items():
        line = f"{dist:<28} {wheel}"
        if sizes and dist != "tenantsync-kit":
            size = distributions.installed_size(wheel, Path(out))
            line = f"{dist:<28} installed alone: {size / 1e6:6.1f} MB   {wheel}"
        click.echo(line)


main.add_command(sandbox)
main.add_command(airflow)
register_controller(main)
register_api(main)


if __name__ == "__main__":  # `python -m tenantsync.cli` (a background twin)
    main()
