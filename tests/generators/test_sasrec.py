"""SASRec's sequence plumbing: the causal mask (a later item cannot change an earlier position's output)
and padding (how much of it, or what shares the batch, cannot change a history's scores)."""

import numpy as np
import pytest
import torch

from pagegen.generators import SASRec, build_training_data
from pagegen.generators.sasrec import PAD, SASRecNetwork, _training_windows

MAX_LEN = 8
N_ITEMS = 12  # the cooccurrence dataset's catalogue
PARAMS = {"hidden": 8, "layers": 2, "heads": 2, "max_len": MAX_LEN, "dropout": 0.0}
TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


@pytest.fixture
def network() -> SASRecNetwork:
    """Two layers, two heads, random weights from a fixed seed: the mask must hold whatever was learned."""
    torch.manual_seed(7)
    return SASRecNetwork(N_ITEMS, **PARAMS).eval()


@pytest.fixture
def model(cooccurrence, network) -> SASRec:
    """A SASRec restored from ``network``'s weights, as a saved model is loaded (no training needed)."""
    data = build_training_data(cooccurrence, cooccurrence.interactions, split="all")
    state = {key: value.numpy() for key, value in network.state_dict().items()}
    return SASRec.restore(PARAMS, state, data)


@torch.no_grad()
def test_a_later_item_cannot_change_an_earlier_positions_output(network):
    """Row t of the batch shares the first t + 1 items with row 0 and differs at every later position."""
    original = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6])
    other_future = torch.tensor([7, 10, 8, 2, 3, 3, 1, 5])  # differs from ``original`` at every position
    batch = torch.stack([torch.cat([original[: t + 1], other_future[t + 1 :]]) for t in range(MAX_LEN)])
    hidden = network(batch)
    for t in range(MAX_LEN - 1):
        torch.testing.assert_close(hidden[t, : t + 1], hidden[-1, : t + 1], **TOLERANCE)
        assert not torch.allclose(hidden[t, t + 1], hidden[-1, t + 1])  # the change is seen where it is


@torch.no_grad()
def test_right_padding_cannot_change_the_real_positions(network):
    real = [4, 2, 9]
    padded = torch.tensor([real + [PAD] * (MAX_LEN - len(real))])
    torch.testing.assert_close(network(padded)[0, : len(real)], network(torch.tensor([real]))[0], **TOLERANCE)


def test_a_history_scores_as_its_prefix_position_in_a_longer_sequence(model):
    """Scoring the first t items (right-padded, in one batch) equals reading position t − 1 of the whole
    sequence: neither the pads nor the items that follow reach back."""
    sequence = np.array([5, 11, 2, 0, 7, 8], dtype=np.int64)
    with torch.no_grad():
        logits = model.network.logits(model.network(torch.from_numpy(sequence[None, :] + 1)))[0].numpy()
    prefixes = model.score_histories([sequence[:t] for t in range(1, len(sequence) + 1)])
    np.testing.assert_allclose(prefixes, logits, **TOLERANCE)


def test_batch_company_and_items_beyond_the_window_cannot_change_a_historys_scores(model):
    short = np.array([3, 11], dtype=np.int64)
    longer = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dtype=np.int64)  # longer than the window: cut to its end
    alone = model.score_histories([short])[0]
    together = model.score_histories([longer, short, np.array([], dtype=np.int64)])
    np.testing.assert_allclose(together[1], alone, **TOLERANCE)
    np.testing.assert_allclose(together[0], model.score_histories([longer[-MAX_LEN:]])[0], **TOLERANCE)
    np.testing.assert_array_equal(together[2], np.zeros(model.data.n_items))  # no history: no sequence signal


def test_training_windows_cover_each_transition_once_and_pads_carry_no_label():
    """History 0 → 1 → 2 → 3 → 4 with a window of 3: the recent end fills a whole window, the rest is
    right-padded, and a padded position's label is −1 (the loss skips it)."""
    inputs, targets = _training_windows([np.arange(5)], max_len=3)
    np.testing.assert_array_equal(inputs, [[2, 3, 4], [1, PAD, PAD]])  # tokens are item index + 1
    np.testing.assert_array_equal(targets, [[2, 3, 4], [1, -1, -1]])
    transitions = sorted(
        (i - 1, t)
        for row_in, row_out in zip(inputs, targets, strict=True)
        for i, t in zip(row_in, row_out, strict=True)
        if t >= 0
    )
    assert transitions == [(0, 1), (1, 2), (2, 3), (3, 4)]
