"""The bundled Singer sample of two customers' Salesforce data, piped through target-postgres
as any Singer runner would: a fixed, offline data set for tests of the destination schema
(the README's query patterns run on it)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SCHEMA = "supaglue"
APPLICATION = "demo-app"
CUSTOMERS = ("acme", "globex")


def _target_executable() -> str:
    beside = Path(sys.executable).with_name("target-postgres")
    return str(beside) if beside.exists() else shutil.which("target-postgres") or "target-postgres"


def load_customer(uri: str, customer: str) -> None:
    """Pipe one customer's Singer sample into target-postgres, as any Singer runner would."""
    config = {"application_id": APPLICATION, "customer_id": customer,
              "provider_name": "salesforce", "sqlalchemy_url": uri, "schema": SCHEMA}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(config, f)
    sample = Path(__file__).with_name("sample_data") / f"{customer}.singer"
    try:
        with sample.open("rb") as stdin:
            result = subprocess.run([_target_executable(), "--config", f.name], stdin=stdin,
                                    capture_output=True, check=False)
    finally:
        Path(f.name).unlink()
    if result.returncode != 0:
        raise SystemExit(f"target-postgres failed for customer {customer}:\n"
                         f"{result.stderr.decode(errors='replace')[-2000:]}")
