"""The language-model layer: backends behind one seam, row titles, item descriptions, zero-shot reranking."""
