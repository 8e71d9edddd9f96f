"""Offline evaluation of generators: metrics, full ranking, and the two protocols."""

from pagegen.evaluation.protocol import (
    LEAVE_LAST_OUT,
    ColdStartExperiment,
    EvaluationReport,
    Experiment,
    cold_start_experiment,
    evaluate_cold_start,
    evaluate_ranking,
    leave_last_out_experiment,
)

__all__ = [
    "LEAVE_LAST_OUT",
    "ColdStartExperiment",
    "EvaluationReport",
    "Experiment",
    "cold_start_experiment",
    "evaluate_cold_start",
    "evaluate_ranking",
    "leave_last_out_experiment",
]
