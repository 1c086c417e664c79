"""The ``salus`` command line: a thin layer over the library.

Commands: ``init``, ``node``, ``demo``, ``keys new|show``, ``tx build|sign|submit|send``,
``query ...``, ``proof tx|state`` and ``verify``. Every command turns a
:class:`~salus.errors.SalusError` into one ``error: ...`` line and a non-zero exit
status, and every command's ``--help`` ends with an example.
"""

from salus.cli._root import cli, main

__all__ = ["cli", "main"]
