"""Headless Chromium (Debian's `chromium` and `chromium-driver`, installed by scripts/browser)
driven by Selenium, and the screenshots the README shows."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "portal"
SCREENSHOTS_ENV = "TENANTSYNC_SCREENSHOTS"  # =1: write them into docs/portal/ (the README's)


def chromium():
    """A headless Chromium session (skips the test where the browser is not installed)."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        pytest.skip("chromium/chromium-driver missing: run `bash scripts/browser` as root")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def screenshot_dir(tmp: Path) -> Path:
    return DOCS if os.environ.get(SCREENSHOTS_ENV) == "1" else tmp


def screenshot(driver, folder: Path, name: str) -> Path:
    """The whole page (the window grown to its height), as a PNG."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(700, min(int(height) + 20, 2400)))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)
    return path
