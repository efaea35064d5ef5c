"""Repair a dlt pipeline's working folder after a process was killed in the middle of a step.

dlt moves a load package through `normalize/<tmp>/new` (being extracted) -> `normalize/extracted`
-> `load/new` (being normalized) -> `load/normalized` -> `load/loaded`, each move one atomic rename,
but a step's commit is a rename *followed by* a delete. A kill between the two leaves the same load
id in two places, and every later run fails (`Directory not empty: load/new/<id> -> load/normalized/<id>`).

What is safe, read from dlt 1.x (`pipeline.extract` saves the local state with the cursors only after
the package is committed to `normalize/extracted`; `Normalize.spool_files` renames `load/new/<id>`
to `load/normalized/<id>` and then deletes `normalize/extracted/<id>`):

- an extracted copy of a package that is already normalized or loaded: the commit happened, only the
  delete was lost -> finish it (delete the copy);
- `load/new/<id>` without its extracted package, or next to its normalized one: a half-written
  leftover dlt never reads again -> delete it (dlt itself redoes `load/new/<id>` from the extracted
  package when that still exists);
- a temporary extract folder (`normalize/<tmp>/`): the kill came before the package was committed,
  so the cursors were never saved and the next extract pulls the same rows again -> drop it.

Packages in `normalize/extracted` and `load/normalized` hold data whose cursors *were* saved: they
are never dropped; the caller finishes them (normalize + load) before extracting anything new.
(On a pipeline's very first run dlt itself discards such leftovers with the local state, since the
destination holds no state yet; the repair matters from the second run on, the incremental syncs.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

EXTRACTED = "extracted"


def _ids(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()


def repair_working_folder(working_dir: Path) -> list[str]:
    """Finish or drop what a killed process left half-moved; returns one note per repair (empty: none)."""
    normalize, load = working_dir / "normalize", working_dir / "load"
    extracted, new = _ids(normalize / EXTRACTED), _ids(load / "new")
    done = _ids(load / "normalized") | _ids(load / "loaded")
    notes = []
    for load_id in sorted(extracted & done):
        shutil.rmtree(normalize / EXTRACTED / load_id)
        notes.append(f"package {load_id}: normalized before the kill; removed its extracted copy")
    for load_id in sorted(new):
        if load_id in done or load_id not in extracted:
            shutil.rmtree(load / "new" / load_id)
            notes.append(f"package {load_id}: removed a half-normalized copy")
    for temp in sorted(_ids(normalize) - {EXTRACTED}):
        shutil.rmtree(normalize / temp)
        notes.append(f"extract folder {temp}: never committed (cursors not saved); dropped, it is pulled again")
    return notes
