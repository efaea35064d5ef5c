"""The wheel installs one top-level package, `spm_sync`, with the connectors and mappings inside it.

Why: top-level `connectors`/`mappings` would collide with any other distribution of those names.
The wheel is built from a copy of the checkout so the build's `build/` and `*.egg-info` stay out of it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LEFT_OUT = shutil.ignore_patterns(
    ".git", ".venv", "state", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "benchmarks", "tests"
)


def test_wheel_holds_connectors_and_mappings_under_spm_sync_only(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=LEFT_OUT)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", tmp_path, source],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("spm_sync-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"spm_sync"}
    assert {
        "spm_sync/connectors/registry.py",
        "spm_sync/connectors/hubspot/source.py",
        "spm_sync/connectors/salesforce/source.py",
        "spm_sync/connectors/files/source.py",
        "spm_sync/mappings/salesforce.yaml",
        "spm_sync/mappings/hubspot.yaml",
        "spm_sync/mappings/files.yaml",
        "spm_sync/metrics/kpis.yaml",
    } <= names
