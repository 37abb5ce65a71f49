"""Meltano plugin definitions generated from the registered providers (`tenantsync plugins
render`): each tap's `plugins/extractors/<tap>--tenantsync.yml` from its settings schema, and
the extractors of the project files (the repository's `meltano.yml`, the controller's template).
`stale(root)` names the generated files that differ from what is committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tenantsync import providers
from tenantsync.controller import render

# What the controller's runs rely on; every tenantsync tap has them.
PROJECT_CAPABILITIES = ("about", "catalog", "discover", "state", "activate-version",
                        "stream-maps")
_WORDS = {"id": "ID", "url": "URL", "api": "API", "n": "N", "oauth": "OAuth"}
_HEADER = """\
# Meltano plugin definition: `meltano add extractor {name} --from-ref <this file>`.
# pip_url installs {name} alone (its distribution and the small tenantsync-kit).
# Before they are on a package index, build the wheels (`tenantsync plugins wheels`) and
# install with `UV_FIND_LINKS=<wheels folder> meltano install` (PIP_FIND_LINKS with
# Meltano's virtualenv backend), or set pip_url to a wheel or folder (README, "Distributions").
# Generated from the tap's settings by `tenantsync plugins render`: do not edit by hand.
"""


def _label(name: str) -> str:
    words = [_WORDS.get(w, w) for w in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _kind(prop: dict[str, Any]) -> str:
    types = prop.get("type", "string")
    kind = next(t for t in ([types] if isinstance(types, str) else types) if t != "null")
    if "enum" in prop:
        return "options"
    if kind == "string" and prop.get("format") in ("date-time", "date"):
        return "date_iso8601"
    return {"number": "decimal"}.get(kind, kind)


def _setting(name: str, prop: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "label": _label(name), "kind": _kind(prop)}
    if prop.get("secret"):
        out["sensitive"] = True
    if prop.get("default") is not None:
        out["value"] = prop["default"]
    if "enum" in prop:
        out["options"] = [{"label": str(v).capitalize(), "value": v}
                          for v in prop["enum"] if v is not None]
    if prop.get("description"):
        out["description"] = prop["description"]
    return out


def _groups(spec: providers.ProviderSpec, settings: set[str]) -> list[list[str]]:
    """Meltano's settings_group_validation: one group per auth kind of the spec."""
    groups = []
    for auth in spec.auth:
        group = (["client_id", "client_secret", "refresh_token"] if auth.kind == "oauth2"
                 and auth.expiring else list(auth.secrets))
        if set(group) <= settings:
            groups.append(group)
    return groups


def definition(spec: providers.ProviderSpec) -> dict[str, Any]:
    """The Meltano plugin definition of the provider's tap, from its settings schema."""
    tap = spec.tap_class()
    props = dict(tap.config_jsonschema["properties"])
    builtin: dict[str, Any] = {"type": "object", "properties": {}}
    tap.append_builtin_config(builtin)  # singer-sdk's (stream maps, flattening)
    props.update((k, v) for k, v in builtin["properties"].items() if k not in props)
    return {"name": spec.executable, "namespace": spec.namespace, "variant": "tenantsync",
            "label": f"{spec.label or spec.name} (tenantsync)",
            "description": spec.description, "pip_url": providers.distribution(spec.name),
            "executable": spec.executable,
            "capabilities": [str(c) for c in tap.capabilities],
            "settings_group_validation": _groups(spec, set(props)),
            "settings": [_setting(name, prop) for name, prop in props.items()]}


def definition_text(spec: providers.ProviderSpec) -> str:
    return _HEADER.format(name=spec.executable) + yaml.safe_dump(
        definition(spec), sort_keys=False, width=100, allow_unicode=True)


def project_text(text: str) -> str:
    """A Meltano project file with its `extractors:` list replaced by one entry per
    registered provider (the rest of the file, comments included, as it is)."""
    lines = text.splitlines(keepends=True)
    start = lines.index("  extractors:\n") + 1
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("  -")
               and not lines[i].startswith("    "))
    entries = [f"  - name: {s.executable}\n    namespace: {s.namespace}\n"
               f"    executable: {s.executable}\n"
               f"    capabilities: [{', '.join(PROJECT_CAPABILITIES)}]\n"
               for s in providers.all_specs()]
    return "".join([*lines[:start], *entries, *lines[end:]])


def expected(root: Path) -> dict[Path, str]:
    """Every generated file under the repository `root` -> its content."""
    files = {root / "plugins" / "extractors" / f"{s.executable}--tenantsync.yml":
             definition_text(s) for s in providers.all_specs()}
    template = render.TEMPLATE.relative_to(Path(render.__file__).parents[2])
    for project in (root / "meltano.yml", root / template):
        files[project] = project_text(project.read_text())
    return files


def stale(root: Path) -> list[Path]:
    """The generated files that are missing or differ from their generated content."""
    return [path for path, text in expected(root).items()
            if not path.exists() or path.read_text() != text]


def write(root: Path) -> list[Path]:
    """Write every stale generated file; returns those written."""
    files = expected(root)
    changed = [p for p in files if not p.exists() or p.read_text() != files[p]]
    for path in changed:
        path.write_text(files[path])
    return changed
