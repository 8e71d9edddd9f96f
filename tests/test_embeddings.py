"""The Ollama embedder against a loopback server that speaks the Ollama API."""

import json

import numpy as np
import pytest

from pagegen.embeddings import OllamaEmbedder, make_embedder
from pagegen.errors import ConfigError, ModelUnavailableError
from tests.loopback import QuietHandler, loopback_server, server_url


class _OllamaStandIn(QuietHandler):
    """Embeds each text as (its length, 0, 1); knows only the default model."""

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/api/embed":
            self.send_error(404)
        elif request["model"] != "nomic-embed-text-v2-moe":
            self.send_json(404, {"error": f"model '{request['model']}' not found"})
        else:
            vectors = [[float(len(text)), 0.0, 1.0] for text in request["input"]]
            self.send_json(200, {"model": request["model"], "embeddings": vectors})


@pytest.fixture
def ollama_host():
    with loopback_server(_OllamaStandIn) as server:
        yield server_url(server)


def test_embeddings_are_normalized_and_batched(ollama_host):
    embedder = OllamaEmbedder(host=ollama_host, batch_size=2)
    vectors = embedder.embed(["abc", "abcd", "a"])
    expected = np.array([[3, 0, 1], [4, 0, 1], [1, 0, 1]], dtype=np.float32)
    np.testing.assert_allclose(vectors, expected / np.linalg.norm(expected, axis=1, keepdims=True), rtol=1e-6)
    assert embedder.name == "ollama:nomic-embed-text-v2-moe"


def test_unknown_model_is_named(ollama_host):
    with pytest.raises(ModelUnavailableError, match=r"refused embedding model 'no-such-model'"):
        OllamaEmbedder("no-such-model", host=ollama_host).embed(["x"])


def test_unreachable_server_is_a_clear_error(closed_port):
    with pytest.raises(ModelUnavailableError, match=rf"Ollama at http://127\.0\.0\.1:{closed_port} is unreachable"):
        OllamaEmbedder(host=f"http://127.0.0.1:{closed_port}", timeout=2).embed(["x"])


def test_host_comes_from_the_environment(monkeypatch, ollama_host):
    monkeypatch.setenv("OLLAMA_HOST", ollama_host)
    assert OllamaEmbedder().host == ollama_host
    with pytest.raises(ConfigError, match="unknown embedder 'word2vec'"):
        make_embedder("word2vec")
