"""A sync's own Meltano project: where `tenantsync run` starts `meltano run`.

Meltano reads and indexes every file of its project for each plugin and schedule it
resolves, so a run started in the project that holds every sync pays for every tenant (4.4 s
of start-up at 2,000 syncs, more than a minute at 100,000). A run needs only its own job:
the project's `meltano.yml` and the other files it includes, copied, beside an include file
holding this sync's extractors, loader, job and schedule, written from the registry when
they change (a few queries, whatever the number of syncs). Meltano refuses a `meltano.yml`
or an included file that resolves outside the project root, hence copies, not links.

Its `.meltano` links to the project's, so `meltano schedule run <sync>` started inside it
shares Meltano's system database (state) with every other run.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from tenantsync.controller import render
from tenantsync.controller.models import Sync
from tenantsync.controller.registry import SyncView

SYSTEM_DIR = ".meltano"
PROJECT_DIR = "project"  # inside the sync's own system directory
LINKED = (SYSTEM_DIR, ".env")  # shared with the project, not copied


def folder(project: Path, view: SyncView) -> Path:
    """`.meltano/syncs/<sync>/project`: beside the sync's system directory's own files."""
    return project / SYSTEM_DIR / "syncs" / render.sync_name(view) / PROJECT_DIR


def write(session: Session, project: Path, view: SyncView) -> Path:
    """Bring the sync's own project up to date with the registry and the project's
    meltano.yml; return its folder. Writes only files whose content changed."""
    render.ensure_project(project)
    own = folder(project, view)
    own.mkdir(parents=True, exist_ok=True)
    config = session.get(Sync, view.sync_id).sync_config
    files = {render.INCLUDE_FILE: render.dump(render.sync_document(config, view))}
    files.update({str(path.relative_to(project)): path.read_text()
                  for path in project_files(project)})
    for name, text in files.items():
        path = own / name
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            render.write_atomic(path, text)
    for name in LINKED:
        link, target = own / name, project / name
        if target.exists() and not link.is_symlink():
            link.symlink_to(os.path.relpath(target, own))
    return own


def project_files(project: Path) -> list[Path]:
    """meltano.yml and the files it includes, less the rendered include file."""
    meltano_yml = project / "meltano.yml"
    patterns = (yaml.safe_load(meltano_yml.read_text()) or {}).get("include_paths") or []
    included = {path for pattern in patterns for path in project.glob(pattern)
                if path.is_file() and path.name != render.INCLUDE_FILE}
    return [meltano_yml, *sorted(included)]
