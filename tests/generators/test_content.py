"""The content generator: cold items and new users get scores from item text alone."""

import re

import numpy as np
import pytest

from pagegen.embeddings import MiniLMEmbedder
from pagegen.errors import ConfigError
from pagegen.generators import Content, build_training_data
from pagegen.generators.content import item_texts
from tests.factories import make_dataset

GENRES = ["Comedy", "Drama", "Horror", "Sci-Fi"]


class GenreEmbedder:
    """A transparent stand-in: one dimension per genre named in the text."""

    name = "genre-one-hot"

    def embed(self, texts, *, progress=False):
        vectors = np.zeros((len(texts), len(GENRES)), dtype=np.float32)
        for row, text in enumerate(texts):
            named = re.search(r"Genres: (.*?)\.", text).group(1).split(", ")
            for genre in named:
                if genre in GENRES:
                    vectors[row, GENRES.index(genre)] = 1.0
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


@pytest.fixture
def horror_fan(tmp_path):
    genres = [["Horror"], ["Horror"], ["Comedy"], ["Drama"], ["Horror", "Sci-Fi"], ["Comedy"]]
    rows = [
        (1, 1, 5.0, 1),
        (1, 2, 5.0, 2),
        (2, 3, 4.0, 3),
        (2, 4, 4.0, 4),
    ]  # items 5 and 6 are new: no one watched them
    dataset = make_dataset(tmp_path, "content", rows, n_items=6, genres=genres)
    return build_training_data(dataset, dataset.interactions, split="all")


def test_item_text():
    from polars import DataFrame

    catalogue = DataFrame({"item_id": [1], "title": ["Toy Story"], "year": [1995], "genres": [["Animation", "Comedy"]]})
    assert item_texts(catalogue) == ["Toy Story (1995). Genres: Animation, Comedy."]


def test_new_items_reach_the_users_who_would_like_them(horror_fan):
    model = Content(embedder_instance=GenreEmbedder()).fit(horror_fan)
    assert model.recommend(1, k=1)["item_id"].to_list() == [5]  # the unseen horror film
    assert model.recommend(2, k=1)["item_id"].to_list() == [6]  # the unseen comedy


def test_onboarding_from_genres_or_items(horror_fan):
    model = Content(embedder_instance=GenreEmbedder()).fit(horror_fan)
    by_genre = model.score_onboarding(["Comedy"], np.array([], dtype=np.int64))
    assert set(np.argsort(-by_genre)[:2].tolist()) == set(horror_fan.item_indices([3, 6]).tolist())
    by_item = model.score_onboarding([], horror_fan.item_indices([4]))
    assert int(np.argmax(by_item)) == horror_fan.item_index(4)
    with pytest.raises(ConfigError, match="at least one genre or liked item"):
        model.score_onboarding([], np.array([], dtype=np.int64))


def test_similar_items_share_genres(horror_fan):
    model = Content(embedder_instance=GenreEmbedder()).fit(horror_fan)
    assert model.similar(1, k=2)["item_id"].to_list()[0] == 2


def test_packaged_minilm_embeds_offline(monkeypatch):
    """The real packaged model: normalized 384-d vectors that put like with like."""
    vectors = MiniLMEmbedder().embed(
        [
            "Toy Story (1995). Genres: Animation, Children's, Comedy.",
            "Aladdin (1992). Genres: Animation, Children's, Comedy, Musical.",
            "Scream (1996). Genres: Horror, Thriller.",
        ]
    )
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_top_for_onboarding_leaves_out_liked_items(horror_fan):
    model = Content(embedder_instance=GenreEmbedder()).fit(horror_fan)
    top = model.top_for_onboarding(["Horror"], k=2, liked=horror_fan.item_indices([1]))
    assert top["item_id"].to_list() == [2, 5]  # pure horror first, then horror + sci-fi; item 1 was picked
