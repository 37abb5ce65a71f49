"""Lines per provider, at two revisions side by side: the tap, its twin, its own tests and its
plugin definition, and how many of the Python lines are tables.

    .venv/bin/python bench/provider_lines.py [--before 8854d72] [--after HEAD]

How it counts: physical lines of the .py files (blank lines and comments included) in
- tap: `taps/tap_<p>/` except its `sandbox/` and `tests/` (its spec.py included);
- twin: `taps/tap_<p>/sandbox/`, or `tenantsync/sandbox/<p>/` where twins lived before;
- tests: `taps/tap_<p>/tests/`, and files under `tests/` whose name contains the provider's
  name (the shared conformance suite, which every provider gets by registering, is counted
  once, apart);
- plugin: `plugins/extractors/tap-<p>--tenantsync.yml` (hand-written before, generated after).
"Tables" are the lines of module-level assignments whose value is a literal or comprehension
(dict, list, tuple, set) or a call (dataclass rows such as `RestObject(...)`, `Twin(...)`).
"""

from __future__ import annotations

import argparse
import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = (ast.Dict, ast.List, ast.Tuple, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp,
        ast.Call)


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                          check=True).stdout


def _files(rev: str) -> list[str]:
    return _git("ls-tree", "-r", "--name-only", rev).splitlines()


def _providers(files: list[str]) -> list[str]:
    return sorted({f.split("/")[1][len("tap_"):] for f in files
                   if f.startswith("taps/tap_") and f.endswith("/tap.py")})


def _group(path: str, p: str) -> str | None:
    if path.startswith((f"taps/tap_{p}/sandbox/", f"tenantsync/sandbox/{p}/")):
        return "twin"
    if path.startswith(f"taps/tap_{p}/tests/"):
        return "tests"
    if path.startswith(f"taps/tap_{p}/"):
        return "tap"
    if path.startswith("tests/") and p in Path(path).name:
        return "tests"
    if path == f"plugins/extractors/tap-{p}--tenantsync.yml":
        return "plugin"
    return None


def _table_lines(source: str) -> int:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return 0
    return sum(node.end_lineno - node.lineno + 1 for node in tree.body
               if isinstance(node, (ast.Assign, ast.AnnAssign))
               and isinstance(node.value, DATA))


def count(rev: str) -> dict[str, dict[str, list[int]]]:
    """provider -> group -> [lines, table lines]; "(shared)" -> conformance suite."""
    files = _files(rev)
    out: dict[str, dict[str, list[int]]] = {}
    for p in _providers(files):
        groups = out.setdefault(p, {g: [0, 0] for g in ("tap", "twin", "tests", "plugin")})
        for path in files:
            group = _group(path, p)
            if group is None or not path.endswith((".py", ".yml")):
                continue
            text = _git("show", f"{rev}:{path}")
            groups[group][0] += len(text.splitlines())
            if path.endswith(".py"):
                groups[group][1] += _table_lines(text)
    shared = [f for f in files if f.startswith("tests/conformance/") and f.endswith(".py")]
    out["(conformance suite, shared)"] = {"tests": [
        sum(len(_git("show", f"{rev}:{f}").splitlines()) for f in shared), 0]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="8854d72")
    parser.add_argument("--after", default="HEAD")
    args = parser.parse_args()
    before, after = count(args.before), count(args.after)
    print(f"{'provider':<30} {'part':<7} {'before':>14} {'after':>14}   (lines / of which tables)")
    for p in sorted(set(before) | set(after)):
        for group in ("tap", "twin", "tests", "plugin"):
            b = before.get(p, {}).get(group)
            a = after.get(p, {}).get(group)
            if b is None and a is None:
                continue
            cell = lambda v: f"{v[0]:>6} / {v[1]:>5}" if v else f"{'-':>14}"  # noqa: E731
            print(f"{p:<30} {group:<7} {cell(b):>14} {cell(a):>14}")
        totals = [sum(v[0] for v in d.get(p, {}).values()) for d in (before, after)]
        print(f"{p:<30} {'total':<7} {totals[0]:>14} {totals[1]:>14}")


if __name__ == "__main__":
    main()
