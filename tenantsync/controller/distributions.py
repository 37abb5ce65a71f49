"""The repository's distributions, each built from its own folder (`tenantsync plugins
wheels`): `kit/` (tenantsync-kit, what taps and target share), each `targets/<t>/` and
`taps/<p>/` (one per plugin), then the repository root (tenantsync, which depends on them all).
`installed_size` measures what installing one wheel alone brings into a fresh environment."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PLUGIN_FOLDERS = ("targets/*", "taps/*")


def plugin_folders(root: Path) -> list[Path]:
    """Every tap's and target's folder that is a distribution (has its pyproject.toml)."""
    return [p.parent for pattern in PLUGIN_FOLDERS
            for p in sorted(root.glob(f"{pattern}/pyproject.toml"))]


def folders(root: Path) -> list[Path]:
    """Every distribution's folder, dependencies first (absolute: pip reads a bare `kit` as
    a package name)."""
    root = root.resolve()
    return [root / "kit", *plugin_folders(root), root]


def _pip(python: str | Path, *args: str, cwd: Path | None = None) -> None:
    done = subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True,
                          cwd=cwd, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pip {' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")


def name(folder: Path) -> str:
    """The distribution's name, from its folder's pyproject.toml."""
    found = re.search(r'^name = "([^"]+)"', (folder / "pyproject.toml").read_text(), re.M)
    if not found:
        raise ValueError(f"{folder / 'pyproject.toml'}: no project name")
    return found.group(1)


def build(root: Path, out: Path) -> dict[str, Path]:
    """Build every distribution's wheel into `out` (one pip run, no dependencies fetched):
    {distribution: wheel}. The in-tree build/ folders setuptools leaves are removed."""
    out.mkdir(parents=True, exist_ok=True)
    sources = folders(root)
    fresh = [f / "build" for f in sources if not (f / "build").exists()]
    try:
        # The build backend (setuptools>=68, which scripts/setup installs) is this
        # environment's: no isolated build environment per folder.
        _pip(sys.executable, "wheel", "-q", "--no-deps", "--no-build-isolation",
             "-w", str(out), *map(str, sources))
    finally:
        for leftover in fresh:
            shutil.rmtree(leftover, ignore_errors=True)
    wheels = {}
    for folder in sources:
        dist = name(folder)
        built = out.glob(f"{re.sub(r'[-_.]+', '_', dist)}-*.whl")
        wheels[dist] = max(built, key=lambda p: p.stat().st_mtime)
    return wheels


def _tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def venv(where: Path) -> Path:
    """A fresh virtual environment at `where` (pip only); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    return where / "bin" / "python"


def site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                               check=True).stdout.strip())


def install(python: Path, wheel: Path, links: Path) -> None:
    """Install `wheel` and what it needs: tenantsync's own distributions from the wheels in
    `links`, the rest from the package index (pip's cache first)."""
    _pip(python, "install", "-q", "--find-links", str(links), str(wheel))


def installed_size(wheel: Path, links: Path) -> int:
    """Bytes that installing `wheel` alone adds to a fresh virtual environment."""
    with tempfile.TemporaryDirectory(prefix="tenantsync-size-") as tmp:
        python = venv(Path(tmp) / "venv")
        site = site_packages(python)
        empty = _tree_size(site)
        install(python, wheel, links)
        return _tree_size(site) - empty
