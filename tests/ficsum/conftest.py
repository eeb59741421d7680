"""Point the dataset registry at the shared mirror when nothing else is configured."""

import os
from pathlib import Path

_MIRROR = Path("/work/shared/data")

if "REPROBOOK_DATA_MIRROR" not in os.environ and _MIRROR.is_dir():
    os.environ["REPROBOOK_DATA_MIRROR"] = str(_MIRROR)
