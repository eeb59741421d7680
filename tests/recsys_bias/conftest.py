"""Point the dataset registry at the project's data mirror (a sibling ``shared/data`` folder) when one
exists and none is configured."""

import os

from reprobook.project import project_root

_mirror = project_root().parent / "shared" / "data"
if not os.environ.get("REPROBOOK_DATA_MIRROR") and _mirror.is_dir():
    os.environ["REPROBOOK_DATA_MIRROR"] = str(_mirror)
