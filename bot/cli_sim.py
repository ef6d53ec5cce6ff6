"""One-line errors for `hedgebot sim` (the command itself lives in ``bot.sim_cli``): a fault spec
that does not parse is refused before anything starts, and a busy port says which and what to do."""

from __future__ import annotations

import errno
import sys
from functools import wraps
from typing import Any

import click

EXIT_USAGE = 2


def guard(command: click.Command) -> click.Command:
    """Wrap the command's callback; the command and its options are left as they are."""
    inner = command.callback
    assert inner is not None

    @wraps(inner)
    def callback(**kwargs: Any) -> Any:
        for key, flag, example, websocket in (
            (
                "faults_spec",
                "--faults",
                "order/create:drop_after_accept:1;position/list:http503:0.2",
                False,
            ),
            (
                "ws_faults_spec",
                "--ws-faults",
                "private:silent:1;public/linear:delay=500:0.1",
                True,
            ),
        ):
            spec = kwargs.get(key)
            if not spec:
                continue
            from bot.sim.faults import Faults

            try:
                Faults(websocket=websocket).load(spec)
            except (ValueError, TypeError) as exc:
                click.echo(
                    f"{flag}: {exc}; expected endpoint:kind[=param][:when] rules separated by ';'"
                    f", e.g. {example}",
                    err=True,
                )
                sys.exit(EXIT_USAGE)
        try:
            return inner(**kwargs)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            where = f"{kwargs.get('host')}:{kwargs.get('port')}"
            click.echo(
                f"cannot listen on {where}: the port is in use; stop what holds it or choose "
                "another with --port (0 picks a free one)",
                err=True,
            )
            sys.exit(1)

    command.callback = callback
    return command
