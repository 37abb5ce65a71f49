"""The platform names no provider: outside a provider's folder under taps/, no module of
tenantsync/, kit/ or targets/ imports a provider package or names a provider in a string (a name
there means a hook of tenantsync.providers is missing). Tests and provider folders are exempt."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tenantsync import providers

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ("tenantsync", "kit", "targets")
# Supaglue's providers (registered or not yet) and every registered one.
NAMES = {"salesforce", "hubspot", "pipedrive", "ms_dynamics_365_sales", "outreach",
         "salesloft", "apollo", "gong", "intercom", "linear", *providers.names()}
ALTERNATIVES = "|".join(sorted(NAMES))
QUOTED = re.compile(rf"""["']({ALTERNATIVES})["']""")  # the project hook's grep
PACKAGES = {spec.namespace for spec in providers.all_specs()}


def _modules():
    for top in PLATFORM:
        yield from sorted((ROOT / top).rglob("*.py"))


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.partition(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.partition(".")[0])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # importlib / "module:attr" strings
            head = re.match(r"([A-Za-z_]\w*)[.:]", node.value)
            if head:
                found.add(head.group(1))
    return found


def test_no_platform_module_imports_a_provider_package():
    offenders = {}
    for path in _modules():
        used = _imports(ast.parse(path.read_text(), str(path)))
        bad = sorted(used & PACKAGES | {m for m in used if m.startswith("tap_")})
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert not offenders, offenders


def test_no_platform_module_names_a_provider():
    offenders = {str(p.relative_to(ROOT)): sorted(set(QUOTED.findall(p.read_text())))
                 for p in _modules() if QUOTED.search(p.read_text())}
    assert not offenders, offenders


def test_the_check_sees_what_it_looks_for():
    tree = ast.parse("import tap_x.tap\nfrom tap_y import z\nload('tap_z.spec:SPEC')")
    assert {"tap_x", "tap_y", "tap_z"} <= _imports(tree)
    assert QUOTED.search("if provider == 'hubspot':")
