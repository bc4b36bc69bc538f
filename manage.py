#!/usr/bin/env python
"""Django's command-line utility. `platform/` is a source folder, not a package
(a package named `platform` would shadow the standard library), so it goes on
sys.path first."""
import os
import sys
from pathlib import Path

PLATFORM_DIR = Path(__file__).resolve().parent / "platform"


def main() -> None:
    sys.path.insert(0, str(PLATFORM_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
