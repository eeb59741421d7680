"""``python -m reprobook``: see :mod:`reprobook.cli`."""

from reprobook.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
