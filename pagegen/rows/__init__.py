"""Stage 3 of the pipeline: candidate rows — what each carousel could be about, with scored items."""

from pagegen.rows.candidates import (
    CandidateRow,
    CandidateRows,
    ItemFacts,
    RowBuilder,
    RowReason,
    RowRules,
    plain_title,
)

__all__ = ["CandidateRow", "CandidateRows", "ItemFacts", "RowBuilder", "RowReason", "RowRules", "plain_title"]
