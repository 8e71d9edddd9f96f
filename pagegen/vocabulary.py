"""The names every stage and both front ends share, defined once: generators, row types, optimizers, title
backends, benchmark suites (and how many users the titles suite samples), and how many requests a page
answers and how long each may be.

Kept free of imports so the CLI's argument parser and the dashboard's URL parser can use them without
loading a model or a solver.
"""

from __future__ import annotations

GENERATOR_NAMES = ("ease", "sasrec", "content", "popularity", "trending")  # the candidate generators
RANKER = "ranker"  # the calibrated ranker over them: every card's value, P(the user's next item is this one)
ROW_TYPES = (
    "top_picks", "because_you_watched", "up_next", "new_for_you", "trending", "genre", "hidden_gems", "explore",
)  # fmt: skip
ASKED_ROW = "asked"  # the row a person asks for (`pagegen ask`): built from the request, pinned on top by its id
OPTIMIZERS = ("ilp", "greedy", "mmr")  # the exact page program, and the two baselines it is compared with
DEFAULT_OPTIMIZER = "ilp"
BACKENDS = ("auto", "ollama", "embedded", "template")  # auto: ollama if a server answers, else embedded, else template
DEFAULT_BACKEND = "auto"
ENGINES = ("local", "ray")  # where batch page work runs: worker processes here, or a Ray cluster
DEFAULT_ENGINE = "local"
BENCH_SUITES = (
    "data",
    "generators",
    "pages",
    "titles",
    "app",
    "export",
)  # `pagegen bench --suite`, in the order they run
MAX_ASKED = 3  # asked rows a page holds at most (the newest requests): the service's and the dashboard's limit
MAX_REQUEST_CHARS = 300  # longer requests are read up to here (a pasted essay is not a request)
BENCH_TITLE_USERS = 50  # sampled users whose default pages the titles suite titles (issue 13's targets)
