"""``python -m salus.cli``: the same as the ``salus`` console script."""

from salus.cli import main

main()
