"""Offline evaluation of generators and pages: the two protocols, page quality, scenarios, reports."""

from pagegen.evaluation.protocol import EvaluationReport, evaluate_cold_start, evaluate_ranking, format_evaluation

__all__ = ["EvaluationReport", "evaluate_cold_start", "evaluate_ranking", "format_evaluation"]
