"""The one top-level error handler: one line for expected errors, exit codes users can script on.

1: an expected failure (bad rule file, PBS refused, ...), 3: a bug, 130: interrupted.
Tracebacks only with `WATCHER_DEBUG=1`.
"""

from __future__ import annotations

import os
import sys
import traceback

import click


class WatcherError(click.ClickException):
    """An expected failure: printed as one line, exit code 1."""

    exit_code = 1


def run_cli(group: click.Group) -> None:
    """Run `group` and exit with its code; a known error is one clear line, no traceback."""
    try:
        # Without standalone mode click returns `ctx.exit(n)`'s code instead of exiting with it.
        code = group.main(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if os.environ.get("WATCHER_DEBUG"):
            traceback.print_exc()
        else:
            click.echo(f"watcher: unexpected error: {exc!r} (set WATCHER_DEBUG=1 for details)",
                       err=True)
        sys.exit(3)
