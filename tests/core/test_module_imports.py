"""Every module of vibenvr/ imports on its own in a fresh interpreter, so no module-level import cycle hides
behind whichever module happened to be imported first. About half a second of interpreter start per module,
hence slow (``make test`` runs it; ``make check`` does not)."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "vibenvr"


def module_names():
    """Dotted names of every module under vibenvr/, packages included, in sorted order."""
    names = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def import_alone(name):
    """Import one module in a new interpreter; its error output, or None when it imported."""
    result = subprocess.run(
        [sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    if result.returncode == 0:
        return None
    return (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]


def test_the_walk_sees_the_packages():
    names = module_names()
    assert "vibenvr" in names
    assert "vibenvr.backups.document" in names
    assert "vibenvr.backups.document.validate" in names


@pytest.mark.slow
def test_every_module_imports_alone_in_a_fresh_interpreter():
    names = module_names()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        errors = dict(zip(names, pool.map(import_alone, names), strict=True))
    assert {name: error for name, error in errors.items() if error} == {}
