"""What a profile of the wsep chapter costs: a bounded slice of its random-process families, projected.

:func:`probe` runs the profile's own random-process families (``run_family``: vertices, MISL's
KL sphere, WSEP(k) and MISL-k optima for every k) one process at a time, round-robin over the
families, for about ``seconds``, and counts the processes done. The profile's total is
``family_processes`` per family; each chunk of processes is an independent sweep cell. The named
grids' exact geometry and the learned runs are not in the slice, and the note says so (at the
``paper`` profile the open 4×4 grid's exact stage alone takes minutes on one core).

``python -m reprobook estimate wsep --profile paper --seconds 20`` prints the projection.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from reprobook.benchmark import tree_cpu_seconds
from reprobook.estimate import Probe

__all__ = ["probe"]


def probe(parameters: dict[str, Any], seconds: float) -> Probe:
    """Run the profile's random processes for about ``seconds`` and return the measured slice."""
    from reprobook.wsep import chapter
    from reprobook.wsep.families import FamilyConfig, run_family

    params = chapter.validate_parameters(**parameters)
    families = params.families or ("det-line",)
    wall, cpu = time.perf_counter(), tree_cpu_seconds()
    done = 0
    for index in itertools.count():
        family = families[index % len(families)]
        run_family(FamilyConfig(family, first_seed=index // len(families), n_processes=1, gamma=params.gamma))
        done += 1
        if time.perf_counter() - wall >= seconds:
            break
    elapsed, used = time.perf_counter() - wall, tree_cpu_seconds() - cpu
    total = max(params.family_processes * len(params.families), done)
    notes = (f"The slice ran {done} random processes of the families {', '.join(families)}, the chapter's "
             "largest sweep; the named grids' exact geometry ("
             f"{', '.join(params.grids)}) and the learned runs are not in it, so the projection is a lower bound.")
    return Probe(units_done=done, wall_seconds=elapsed, cpu_seconds=used, device="cpu", units_total=total,
                 cells=max(len(params.family_configs()), 1), unit="random processes", notes=notes)
