"""The ``lit-jepa`` command.

``lit-jepa data <command> ...`` runs the data tools (each command lives in its own module, listed in
``DATA_COMMANDS``). Training subcommands (``fit``, ``validate``, ``test``, ``predict``) arrive with the
LightningCLI of the pretraining module.
"""

from __future__ import annotations

import importlib
import sys

# command name -> "module:function"; each function takes the remaining argv and returns an exit status.
DATA_COMMANDS: dict[str, str] = {
    "check": "lit_jepa.data.doctor:main",
    "materialize": "lit_jepa.data.streaming:main",
    "toyworld": "lit_jepa.data.toyworld.cli:main",
}


def _usage() -> str:
    data = ", ".join(sorted(DATA_COMMANDS)) or "(none installed)"
    return f"usage: lit-jepa data {{{data}}} ...\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) >= 2 and argv[0] == "data" and argv[1] in DATA_COMMANDS:
        module, func = DATA_COMMANDS[argv[1]].split(":")
        return int(getattr(importlib.import_module(module), func)(argv[2:]) or 0)
    sys.stderr.write(_usage())
    return 0 if argv[:1] in (["-h"], ["--help"]) else 2


if __name__ == "__main__":
    sys.exit(main())
