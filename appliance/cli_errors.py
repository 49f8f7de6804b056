"""How an osonctl subcommand reports the errors whose messages already say what to do: one line on
stderr, exit status 2, no traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]


def reported(prefix: str, *errors: type[BaseException]) -> Callable[[Handler], Handler]:
    """Wrap a subcommand's handler: `errors` become `<prefix>: <message>` on stderr and exit status 2."""

    def wrap(handler: Handler) -> Handler:
        def run(args: argparse.Namespace) -> int:
            try:
                return int(handler(args))
            except errors as err:
                print(f"{prefix}: {err}", file=sys.stderr)
                return 2

        return run

    return wrap
