"""The exit status of every console script, and what ``--json`` says when the work stops.

======  ====================================================================================
status  meaning
======  ====================================================================================
0       ok
1       the work found a problem: a damaged input, a failed verification, a regression, a
        diverged training run (:class:`~ncp_driver.errors.NcpDriverError`)
2       a usage error: a bad argument or setting, a file that is not there, an output that
        exists without ``--force`` (:class:`~ncp_driver.errors.UsageError`; argparse's own)
130     interrupted (Ctrl-C)
======  ====================================================================================

Each error type carries its status (``exit_code``), so a command never decides it case by
case. With ``--json`` a failed command prints :func:`error_document` on stdout (the message
goes to stderr as always).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from ncp_driver.errors import NcpDriverError

__all__ = [
    "EPILOG",
    "INTERRUPTED",
    "OK",
    "PROBLEM",
    "USAGE",
    "error_document",
    "exit_code",
    "run_command",
]

OK = 0
PROBLEM = 1
USAGE = 2
INTERRUPTED = 130

EPILOG = (
    "Exit status: 0 ok; 1 the work found a problem (a damaged input, a failed verification, "
    "a regression); 2 a usage error (a bad argument, a missing file, an existing output "
    "without --force); 130 interrupted."
)

_KIND = {PROBLEM: "problem", USAGE: "usage"}


def exit_code(exc: BaseException) -> int:
    """The status for an error: its type's ``exit_code`` (1 for anything unforeseen)."""
    return int(getattr(exc, "exit_code", PROBLEM))


def error_document(exc: BaseException) -> dict[str, Any]:
    """``{"error": {"exit_code", "kind", "type", "message"}}``: which problem stopped the work."""
    code = exit_code(exc)
    return {
        "error": {
            "exit_code": code,
            "kind": _KIND.get(code, "problem"),
            "type": type(exc).__name__,
            "message": str(exc),
        }
    }


def run_command(
    prog: str, work: Callable[[], int | None], json_output: bool = False, interrupted: str = ""
) -> int:
    """Run a command's ``work`` and turn its outcome into the exit status.

    An :class:`NcpDriverError` is printed as ``PROG: error: ...`` on stderr (and, with
    ``json_output``, as :func:`error_document` on stdout); Ctrl-C gives 130; ``work`` may
    return a status of its own (a verification that failed), else 0.
    """
    try:
        status = work()
    except NcpDriverError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        if json_output:
            print(json.dumps(error_document(exc), indent=2))
        return exit_code(exc)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted{'; ' + interrupted if interrupted else ''}", file=sys.stderr)
        return INTERRUPTED
    return OK if status is None else status
