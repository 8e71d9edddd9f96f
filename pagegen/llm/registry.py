"""The title backends by name, and the one place that picks one: ``auto`` means the best that works here."""

from __future__ import annotations

from pathlib import Path

from pagegen.errors import ConfigError
from pagegen.llm.backends import DEFAULT_OLLAMA_CHAT_MODEL, Backend, OllamaBackend, TemplateBackend
from pagegen.llm.embedded import EmbeddedBackend, embedded_ready
from pagegen.vocabulary import BACKENDS, DEFAULT_BACKEND


def make_backend(
    name: str = DEFAULT_BACKEND, *, data_dir: Path | None = None, ollama_model: str | None = None
) -> Backend:
    """The backend called ``name``; ``auto``: ollama if a server answers, else the embedded model if
    it is prepared under ``data_dir``, else the template."""
    if name not in BACKENDS:
        raise ConfigError(f"unknown LLM backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "template":
        return TemplateBackend()
    if name in ("auto", "ollama"):
        backend = OllamaBackend(ollama_model or DEFAULT_OLLAMA_CHAT_MODEL)
        if name == "ollama" or backend.available():
            return backend
    if name == "embedded":
        return EmbeddedBackend(data_dir)
    return EmbeddedBackend(data_dir) if data_dir is not None and embedded_ready(data_dir) else TemplateBackend()


def request_reader(name: str = DEFAULT_BACKEND, *, data_dir: Path | None = None) -> Backend:
    """The backend that reads requests (``pagegen ask``): ``auto`` asks an Ollama server when one answers
    and otherwise the rules (the template backend), not the embedded model, whose readings are worse
    than the rules' (``pagegen evaluate --ask`` measures both); ``embedded`` asks it anyway."""
    if name == "auto":
        backend = OllamaBackend(DEFAULT_OLLAMA_CHAT_MODEL)
        return backend if backend.available() else TemplateBackend()
    return make_backend(name, data_dir=data_dir)
