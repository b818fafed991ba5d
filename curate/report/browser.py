"""Headless Chromium for the report: the DOM after its script ran, and a screenshot.

Plain ``chromium --headless`` (Debian's ``chromium`` package); no browser driver library.
A throw-away profile directory per call keeps runs from sharing or locking a profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The browser to use: ``$CHROMIUM`` if set, else the first of ``CANDIDATES`` on PATH."""
    wanted = os.environ.get("CHROMIUM")
    if wanted:
        return shutil.which(wanted)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _chromium(binary: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="curate-chromium-") as profile:
        cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                              env={**os.environ, "HOME": profile})
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return done


def dump_dom(binary: str, page: Path, fragment: str = "", timeout: float = 120) -> str:
    """The page's DOM as serialised after its scripts ran (``#fragment`` reaches the page's script)."""
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    return _chromium(binary, ["--virtual-time-budget=5000", "--dump-dom", url], timeout).stdout


def screenshot_page(binary: str, page: Path, out: Path, width: int = 1400, height: int = 2200,
                    fragment: str = "", timeout: float = 120) -> Path:
    """A PNG of the top ``width`` x ``height`` pixels of the page."""
    out = out.resolve()
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    _chromium(binary, ["--virtual-time-budget=5000", f"--screenshot={out}", f"--window-size={width},{height}",
                       url], timeout)
    if not out.exists():
        raise RuntimeError(f"chromium wrote no screenshot to {out}")
    return out
