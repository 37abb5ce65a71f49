"""The controller's commands on the `tenantsync` CLI: registry CRUD (`apply -f` for Supaglue's
JSON shapes), `render`, `run`, `syncs`, `runs`, `status`.

Where things are: `TENANTSYNC_REGISTRY_URL` (default: SQLite in `<project>/.tenantsync/`),
`TENANTSYNC_PROJECT_DIR` (the Meltano project, default: the working directory),
`TENANTSYNC_APPLICATION_ID` (default `default`), `TENANTSYNC_SECRET_KEY` (encrypts secrets).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from tenantsync.controller import crypto, db, meltano_runs, render, runner
from tenantsync.controller.display import table
from tenantsync.controller.registry import Registry, RegistryError


def _fail_cleanly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Known failures become one line on stderr and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (RegistryError, crypto.CryptoError, runner.RunError, render.RenderError,
                OSError) as exc:
            raise click.ClickException(str(exc)) from None
        except SQLAlchemyError as exc:
            raise click.ClickException(
                f"registry database error: {str(exc).splitlines()[0]}") from None

    return wrapper


def _open() -> Registry:
    return Registry(db.session())


def _commit(reg: Registry, customer: str | None = None) -> None:
    """Commit a change and re-render, as the service does: the Meltano project and the sync
    index (which Airflow's DAGs follow) stay true to the registry. A change to one customer
    alone re-renders only its syncs."""
    reg.s.commit()
    render.render(reg.s, db.project_dir(),
                  None if customer is None else [(reg.app_id, customer)])


def _command(group: click.Group, name: str, **kwargs: Any):
    def decorate(fn):
        return group.command(name, **kwargs)(_fail_cleanly(fn))
    return decorate


def register(main: click.Group) -> None:
    """Add the controller's commands to the `tenantsync` group."""
    for cmd in (apply, render_cmd, run_cmd, runs_cmd, status_cmd, keygen, rotate_key, customers,
                providers, destinations, schemas, sync_configs, connections, syncs):
        main.add_command(cmd)


# --- apply, render, run ---------------------------------------------------------------------

@click.command()
@click.option("-f", "--file", "files", multiple=True, required=True, type=click.File("r"),
              help="JSON document(s): one object, a list, or a bundle; '-' reads stdin.")
@_fail_cleanly
def apply(files: tuple) -> None:
    """Create or update registry objects from Supaglue-shaped JSON documents."""
    reg = _open()
    done: list[str] = []
    for fh in files:  # all or nothing: one transaction, reported once it is committed
        try:
            done += reg.apply(json.load(fh))
        except (ValueError, RegistryError) as exc:
            reg.s.rollback()
            why = exc if isinstance(exc, RegistryError) else f"not valid JSON ({exc})"
            raise RegistryError(f"{fh.name}: {why}; nothing was applied (of {len(files)} "
                                "file(s))") from None
    _commit(reg)
    for line in done:
        click.echo(f"applied {line}")


@click.command("render")
@_fail_cleanly
def render_cmd() -> None:
    """Write the Meltano configuration of every sync (tenantsync.meltano.yml)."""
    reg = _open()
    result = render.render(reg.s, db.project_dir())
    click.echo(f"{result.path}: {result.syncs} syncs, "
               f"{'updated' if result.changed else 'unchanged'}")


@click.command("run")
@click.argument("customer")
@click.argument("provider")
@click.option("--full-refresh", is_flag=True, help="Read everything again, ignoring state.")
@click.option("--force", is_flag=True, help="Run even if the sync is paused.")
@click.option("--log", "echo_log", is_flag=True, help="Print every line of Meltano's log.")
@_fail_cleanly
def run_cmd(customer: str, provider: str, full_refresh: bool, force: bool,
            echo_log: bool) -> None:
    """Run one customer's sync of PROVIDER now (meltano run), and record it.

    Exit codes: 0 done, 1 failed (worth retrying), 3 the provider refused the credentials
    (the sync is now paused), 4 the sync is paused (nothing ran)."""
    _run_now(_open(), customer, provider, full_refresh=full_refresh, force=force,
             echo_log=echo_log)


# `tenantsync run`'s exit codes besides 0 and 1 (schedulers act on them: tenantsync/airflow/)
EXIT_CREDENTIALS_REFUSED = 3
EXIT_PAUSED = 4


def _refuse_paused(customer: str, provider: str) -> None:
    click.echo(f"{customer} x {provider} is paused: `tenantsync syncs resume {customer} "
               f"{provider}` it first (or `tenantsync run --force`)", err=True)
    sys.exit(EXIT_PAUSED)


def _run_now(reg: Registry, customer: str, provider: str, **options: bool) -> None:
    """Run a sync, say how it ended, and exit non-zero when it failed."""
    sync = reg.sync(customer, provider)
    was_paused = sync.paused
    if was_paused and not options.get("force"):
        _refuse_paused(customer, provider)
    run = runner.run_sync(reg, customer, provider, db.project_dir(), echo=click.echo,
                          live=sys.stdout.isatty(), **options)
    ended = f"{run.status}: {run.strategy} sync, {run.num_records} records written"
    if run.status == "SUCCESS":
        click.echo(ended)
        return
    (view,) = reg.sync_views(sync.id)
    log = runner.run_log(db.project_dir(), render.sync_name(view), run.id)
    refused = sync.paused and not was_paused  # the finish hook paused it: credentials refused
    todo = (f"the provider refused the credentials, so the sync is now paused: import new "
            f"ones (`tenantsync apply -f <connection>.json`), then `tenantsync syncs resume "
            f"{customer} {provider}`" if refused else "fix the cause, then run it again")
    # the last line: what failed, what to do, where the whole log is
    click.echo(f"{ended}; {run.error}; {todo}; whole log: {log}", err=True)
    sys.exit(EXIT_CREDENTIALS_REFUSED if refused else 1)


@click.command("runs")
@click.option("--customer")
@click.option("--provider")
@click.option("--limit", default=20, show_default=True)
@_fail_cleanly
def runs_cmd(customer: str | None, provider: str | None, limit: int) -> None:
    """Recent sync runs, newest first."""
    reg = _open()
    if customer:
        reg.customer(customer)  # a typo is an error, not an empty table
    if provider:
        reg.provider(provider)
    meltano_runs.import_runs(reg, db.project_dir())  # those `meltano schedule run` started
    rows = [(r.id, r.sync.connection.customer.customer_id, r.sync.connection.provider.name,
             r.status, r.strategy, f"{r.started_at:%Y-%m-%d %H:%M:%S}",
             _duration(r), r.num_records, (r.error or "")[:60])
            for r in reg.runs(customer, provider, limit)]
    click.echo(table(["run", "customer", "provider", "status", "strategy", "started (UTC)",
                      "seconds", "records", "error"], rows))


@click.command("status")
@_fail_cleanly
def status_cmd() -> None:
    """Every sync: paused or scheduled, and its last run."""
    reg = _open()
    meltano_runs.import_runs(reg, db.project_dir())
    views = {v.sync_id: v for v in reg.sync_views()}
    rows = []
    for sync in reg.syncs():
        view = views[sync.id]
        last = reg.runs(view.customer_id, view.provider, 1)
        last_run = last[0] if last else None
        rows.append((view.customer_id, view.provider, render.sync_name(view),
                     "paused" if sync.paused else render.cron_interval(
                         view.period_ms, f"{view.application_id}/{view.customer_id}/"
                                         f"{view.provider}"),
                     "full refresh" if sync.args_for_next_run.get("perform_full_refresh")
                     else "", last_run.status if last_run else "never",
                     f"{last_run.started_at:%Y-%m-%d %H:%M:%S}" if last_run else "",
                     last_run.num_records if last_run else ""))
    click.echo(table(["customer", "provider", "job", "schedule", "next run", "last run",
                      "started (UTC)", "records"], rows))


@click.command()
def keygen() -> None:
    """Print a new random TENANTSYNC_SECRET_KEY."""
    click.echo(crypto.generate_secret())


@click.command("rotate-key")
@_fail_cleanly
def rotate_key() -> None:
    """Re-seal every secret of the registry under TENANTSYNC_NEW_SECRET_KEY (the current key in
    TENANTSYNC_SECRET_KEY), in one transaction; then give every process the new key."""
    import os

    from tenantsync.controller import keycheck

    new = os.environ.get(keycheck.NEW_KEY_ENV)
    if not new:
        raise crypto.CryptoError(f"{keycheck.NEW_KEY_ENV} is not set: put the new key there "
                                 "(`tenantsync keygen`), not on the command line")
    url = db.registry_url()
    with db.session(url) as s:
        n = keycheck.rotate(s, str(s.get_bind().url), new)
    click.echo(f"re-sealed {n} secret(s) under the new key; set {crypto.KEY_ENV} to it "
               "wherever tenantsync runs (serve, taps, the CLI)")


def _duration(run) -> str:
    if run.ended_at is None:
        return ""
    return f"{(run.ended_at - run.started_at).total_seconds():.1f}"


# --- CRUD groups ----------------------------------------------------------------------------

def _dump(row: Any, fields: Sequence[str]) -> str:
    return json.dumps({f: getattr(row, f) for f in fields}, indent=2, default=str)


@click.group()
def customers() -> None:
    """Your customers."""


@_command(customers, "list")
def customers_list() -> None:
    click.echo(table(["customer_id", "name", "email", "connections"],
                     [(c.customer_id, c.name, c.email,
                       ", ".join(sorted(x.provider.name for x in c.connections)))
                      for c in _open().customers()]))


@_command(customers, "add")
@click.argument("customer_id")
@click.option("--name", default="")
@click.option("--email", default="")
def customers_add(customer_id: str, name: str, email: str) -> None:
    reg = _open()
    reg.upsert_customer({"customer_id": customer_id, "name": name, "email": email})
    _commit(reg, customer_id)
    click.echo(f"customer {customer_id}")


@_command(customers, "delete")
@click.argument("customer_id")
def customers_delete(customer_id: str) -> None:
    reg = _open()
    reg.delete_customer(customer_id)
    _commit(reg, customer_id)
    click.echo(f"deleted customer {customer_id}")


@click.group()
def providers() -> None:
    """Providers (create or update with `tenantsync apply -f`)."""


@_command(providers, "list")
def providers_list() -> None:
    click.echo(table(["name", "category", "auth_type", "scopes", "oauth app"],
                     [(p.name, p.category, p.auth_type, " ".join(p.scopes),
                       "set" if p.sealed_credentials else "")
                      for p in _open().providers()]))


@_command(providers, "delete")
@click.argument("name")
def providers_delete(name: str) -> None:
    reg = _open()
    reg.delete_provider(name)
    _commit(reg)
    click.echo(f"deleted provider {name}")


@click.group()
def destinations() -> None:
    """Destinations (create or update with `tenantsync apply -f`)."""


@_command(destinations, "list")
def destinations_list() -> None:
    click.echo(table(["name", "type", "settings", "secrets"],
                     [(d.name, d.type, json.dumps(d.settings, sort_keys=True),
                       " ".join(d.secret_keys)) for d in _open().destinations()]))


@_command(destinations, "delete")
@click.argument("name")
def destinations_delete(name: str) -> None:
    reg = _open()
    reg.delete_destination(name)
    _commit(reg)
    click.echo(f"deleted destination {name}")


@click.group()
def schemas() -> None:
    """Schemas of standard objects (create or update with `tenantsync apply -f`)."""


@_command(schemas, "list")
def schemas_list() -> None:
    click.echo(table(["id", "name", "fields", "additional mappings"],
                     [(r.id, r.name, " ".join(f["name"] + (f"={f['mapped_name']}"
                                                           if f.get("mapped_name") else "")
                                              for f in r.fields),
                       "allowed" if r.allow_additional_field_mappings else "")
                      for r in _open().schemas()]))


@_command(schemas, "delete")
@click.argument("schema")
def schemas_delete(schema: str) -> None:
    reg = _open()
    reg.delete_schema(schema)
    reg.s.commit()
    click.echo(f"deleted schema {schema}")


@click.group("sync-configs")
def sync_configs() -> None:
    """Sync configs: provider -> destination, what and how (`tenantsync apply -f`)."""


@_command(sync_configs, "list")
def sync_configs_list() -> None:
    click.echo(table(["provider", "destination", "strategy", "period_ms", "every n", "objects"],
                     [(c.provider.name, c.destination.name, c.default_config.get("strategy"),
                       c.default_config.get("period_ms"),
                       c.default_config.get("full_sync_every_n_incrementals", ""),
                       " ".join(o["object"] for k in ("common", "standard", "custom")
                                for o in getattr(c, f"{k}_objects")))
                      for c in _open().sync_configs()]))


@_command(sync_configs, "get")
@click.argument("provider")
def sync_configs_get(provider: str) -> None:
    click.echo(_dump(_open()._sync_config(provider),
                     ("name", "default_config", "common_objects", "standard_objects",
                      "custom_objects")))


@_command(sync_configs, "delete")
@click.argument("provider")
@click.option("--force-delete-syncs", is_flag=True, help="Also delete the syncs it created.")
def sync_configs_delete(provider: str, force_delete_syncs: bool) -> None:
    reg = _open()
    reg.delete_sync_config(provider, force_delete_syncs=force_delete_syncs)
    _commit(reg)
    click.echo(f"deleted the sync config of {provider}")


@click.group()
def connections() -> None:
    """Connections: a customer's credentials for a provider (import with `apply -f`)."""


@_command(connections, "list")
def connections_list() -> None:
    click.echo(table(["id", "customer", "provider", "settings", "credentials updated (UTC)"],
                     [(c.id, c.customer.customer_id, c.provider.name,
                       " ".join(f"{k}={v}" for k, v in sorted((c.settings or {}).items())),
                       f"{c.credentials_updated_at:%Y-%m-%d %H:%M:%S}")
                      for c in _open().connections()]))


@_command(connections, "delete")
@click.argument("customer")
@click.argument("provider")
def connections_delete(customer: str, provider: str) -> None:
    reg = _open()
    reg.delete_connection(customer, provider)
    _commit(reg, customer)
    click.echo(f"deleted the connection of {customer} to {provider}")


@click.group()
def syncs() -> None:
    """Syncs: pause, resume, trigger."""


@_command(syncs, "list")
def syncs_list() -> None:
    reg = _open()
    click.echo(table(["id", "customer", "provider", "paused", "args for next run"],
                     [(s.id, s.connection.customer.customer_id, s.connection.provider.name,
                       "yes" if s.paused else "no", json.dumps(s.args_for_next_run))
                      for s in reg.syncs()]))


def _set_paused(customer: str, provider: str, paused: bool) -> None:
    reg = _open()
    reg.sync(customer, provider).paused = paused
    _commit(reg, customer)  # the schedule follows (@manual while paused)
    click.echo(f"{'paused' if paused else 'resumed'} {customer} x {provider}")


@_command(syncs, "pause")
@click.argument("customer")
@click.argument("provider")
def syncs_pause(customer: str, provider: str) -> None:
    _set_paused(customer, provider, True)


@_command(syncs, "resume")
@click.argument("customer")
@click.argument("provider")
def syncs_resume(customer: str, provider: str) -> None:
    _set_paused(customer, provider, False)


@_command(syncs, "trigger")
@click.argument("customer")
@click.argument("provider")
@click.option("--full-refresh", is_flag=True, help="The run reads everything again.")
@click.option("--later", is_flag=True, help="Only flag the next run (e.g. a full refresh).")
def syncs_trigger(customer: str, provider: str, full_refresh: bool, later: bool) -> None:
    reg = _open()
    sync = reg.sync(customer, provider)
    if sync.paused and not later:
        _refuse_paused(customer, provider)  # before anything is saved (the API's 409)
    if full_refresh:
        sync.args_for_next_run = {**sync.args_for_next_run, "perform_full_refresh": True}
    reg.s.commit()
    if later:
        click.echo(f"flagged the next run of {customer} x {provider}")
        return
    _run_now(reg, customer, provider)
