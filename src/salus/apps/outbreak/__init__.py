"""Outbreak data tracker (issue #7): scoped reporters, figures with corrections and proofs.

- :mod:`.contract`: the on-ledger part, the ``outbreak`` contract (reporting scopes,
  reports, corrections, batch anchors).
- :mod:`.regions` and :mod:`.tables`: ISO 3166 region ids and the JHU CSSE name tables.
- :mod:`.jhu` and :mod:`.export`: JHU CSSE files in (with the import report) and out.
- :mod:`.batches` and :mod:`.proof`: rows, the Merkle batch of a file, figure proofs and
  their offline verifier.
- :mod:`.index` and :mod:`.series`: the node-side figure index and the daily series.
- :mod:`.importing`: importing files and reporting figures against a running node.
- :mod:`.generate`: full-size synthetic JHU files for benchmarks and tests.
"""

from salus.apps.outbreak.batches import Batch, Row, build_batch, decode_row
from salus.apps.outbreak.contract import (
    AUTHORITY,
    METRICS,
    OUTBREAK,
    OutbreakContract,
    latest_figures,
)
from salus.apps.outbreak.export import export_daily, export_json, export_time_series
from salus.apps.outbreak.index import FigureIndex
from salus.apps.outbreak.jhu import Issue, JhuFormatError, ParsedFile, parse_file
from salus.apps.outbreak.proof import FigureVerdict, verify_figure
from salus.apps.outbreak.regions import WORLD, check_region, covers

__all__ = [
    "AUTHORITY",
    "METRICS",
    "OUTBREAK",
    "WORLD",
    "Batch",
    "FigureIndex",
    "FigureVerdict",
    "Issue",
    "JhuFormatError",
    "OutbreakContract",
    "ParsedFile",
    "Row",
    "build_batch",
    "check_region",
    "covers",
    "decode_row",
    "export_daily",
    "export_json",
    "export_time_series",
    "latest_figures",
    "parse_file",
    "verify_figure",
]
