"""``python -m ncp_driver.modelcard``."""

from __future__ import annotations

import sys

from ncp_driver.modelcard.cli import main

if __name__ == "__main__":
    sys.exit(main())
