"""Stage 1 of the pipeline: fetch, normalize, store, describe and split the interaction data."""

from pagegen.data.fetch import FetchReport, fetch_dataset
from pagegen.data.history import user_history, user_ids, user_profile
from pagegen.data.info import DatasetInfo, describe
from pagegen.data.sources import DATASETS, DEFAULT_DATASET, get_spec
from pagegen.data.split import ColdStartSplit, LeaveLastOutSplit, cold_start, leave_last_out
from pagegen.data.store import Dataset, load_dataset, prepared_datasets, resolve_data_dir, write_dataset
from pagegen.data.synth import SynthConfig, synthesize

__all__ = [
    "DATASETS",
    "DEFAULT_DATASET",
    "ColdStartSplit",
    "Dataset",
    "DatasetInfo",
    "FetchReport",
    "LeaveLastOutSplit",
    "SynthConfig",
    "cold_start",
    "describe",
    "fetch_dataset",
    "get_spec",
    "leave_last_out",
    "load_dataset",
    "prepared_datasets",
    "resolve_data_dir",
    "synthesize",
    "user_history",
    "user_ids",
    "user_profile",
    "write_dataset",
]
