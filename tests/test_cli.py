"""The CLI: JSON where figures are printed, and one clear line (never a traceback) for bad input."""

import json

import polars as pl
import pytest

from pagegen.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_synth_info_split_as_json(capsys, data_dir):
    code, out, _ = _run(
        capsys, "data", "synth", "--users", "50", "--items", "40", "--interactions", "600", "--seed", "1", "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert (report["users"], report["items"], report["interactions"]) == (50, 40, 600)
    assert isinstance(report["seconds"], float) and report["peak_memory_gib"] > 0  # both figures are printed

    code, out, _ = _run(capsys, "data", "info", "--dataset", "synth", "--json")
    info = json.loads(out)
    assert code == 0 and info["interactions"] == 600 and info["density"] == pytest.approx(600 / (50 * 40))
    assert set(info) >= {"users", "items", "interactions", "density", "first_interaction", "last_interaction", "genres"}

    code, out, _ = _run(capsys, "data", "split", "--dataset", "synth", "--json")
    split = json.loads(out)["leave_last_out"]
    assert code == 0 and split["train"] + split["validation"] + split["test"] == 600

    code, out, _ = _run(capsys, "data", "list", "--json")
    assert {"name": "synth", "description": "prepared locally", "download": "", "prepared": True} in json.loads(out)[
        "datasets"
    ]


def test_text_output_without_json(capsys, data_dir):
    _run(capsys, "data", "synth", "--users", "20", "--items", "30", "--interactions", "200")
    code, out, _ = _run(capsys, "data", "info", "--dataset", "synth")
    assert code == 0 and "users 20, items 30, interactions 200" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["data", "fetch", "--dataset", "ml-5k"], "unknown dataset 'ml-5k'; known datasets: ml-100k"),
        (["data", "info", "--dataset", "ml-1m"], "run `pagegen data fetch --dataset ml-1m` first"),
        (["data", "synth", "--users", "10", "--items", "5", "--interactions", "40"], "exceed half of all 10 × 5"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, data_dir, argv, message):
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert message in err and err.startswith("pagegen: error: ") and "Traceback" not in err
    assert err.count("\n") == 1


def test_unwritable_data_dir(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = _run(
        capsys,
        "--data-dir",
        str(blocker / "data"),
        "data",
        "synth",
        "--users",
        "5",
        "--items",
        "5",
        "--interactions",
        "10",
    )
    assert code == 2 and "is not writable" in err


@pytest.fixture
def synth_dataset(capsys, data_dir):
    _run(capsys, "data", "synth", "--users", "80", "--items", "60", "--interactions", "1600", "--seed", "4")
    return data_dir


def test_train_recommend_evaluate(capsys, synth_dataset):
    code, out, _ = _run(capsys, "train", "--dataset", "synth", "--model", "ease", "--json")
    trained = json.loads(out)
    assert code == 0 and trained["model"] == "ease" and trained["split"] == "leave-last-out"
    assert trained["metrics"]["l2"] in trained["params"]["l2_grid"] and trained["metrics"]["fit_seconds"] >= 0

    code, out, _ = _run(
        capsys, "recommend", "--dataset", "synth", "--model", "ease", "--user", "3", "--k", "5", "--json"
    )
    recommended = json.loads(out)
    assert code == 0 and [row["rank"] for row in recommended["items"]] == [1, 2, 3, 4, 5]
    assert {"item_id", "title", "year", "genres", "score"} <= set(recommended["items"][0])

    code, out, _ = _run(capsys, "recommend", "--dataset", "synth", "--model", "popularity", "--like", "1,2", "--k", "3")
    assert code == 0 and "for a new user who likes [1, 2]" in out

    code, out, _ = _run(capsys, "evaluate", "--dataset", "synth", "--model", "ease", "--json")
    report = json.loads(out)["reports"][0]
    assert (
        code == 0 and report["users"] == 80 and 0 <= report["metrics"]["ndcg@10"] <= report["metrics"]["recall@10"] <= 1
    )
    assert report["fit_seconds"] == trained["metrics"]["fit_seconds"]  # the saved model was reused

    code, out, _ = _run(capsys, "evaluate", "--dataset", "synth", "--model", "popularity", "--cold-start")
    assert code == 0 and "cold_recall@20" in out and "cold-start-0.1" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["recommend", "--dataset", "synth", "--model", "ease", "--user", "99999"],
            "unknown user 99999 in dataset 'synth'; pick a known user",
        ),
        (["recommend", "--dataset", "synth", "--model", "ease", "--like", "1,77777"], "unknown item 77777"),
        (
            ["train", "--dataset", "synth", "--model", "bpr"],
            "unknown model 'bpr'; known models: content, ease, popularity, sasrec, trending",
        ),
        (
            ["train", "--dataset", "synth", "--model", "ease", "--set", "lambda=3"],
            "ease does not take parameter(s) lambda",
        ),
        (["train", "--dataset", "synth", "--model", "ease", "--set", "l2"], "--set expects KEY=VALUE"),
    ],
)
def test_model_bad_input(capsys, synth_dataset, argv, message):
    code, _, err = _run(capsys, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_recommend_marks_the_held_out_next_item(capsys, synth_dataset):
    from pagegen.data import leave_last_out, load_dataset

    dataset = load_dataset("synth", synth_dataset)
    test = leave_last_out(dataset.interactions).test
    user, next_item = test.row(0)[:2]
    code, out, _ = _run(
        capsys, "recommend", "--dataset", "synth", "--model", "popularity", "--user", str(user), "--k", "60", "--json"
    )
    rows = json.loads(out)["items"]
    assert code == 0
    assert [row["item_id"] for row in rows if row["held_out"]] == [next_item]
    seen = set(dataset.interactions.filter(pl.col("user_id") == user)["item_id"].to_list()) - {next_item}
    assert not seen & {row["item_id"] for row in rows}  # everything else the user watched stays hidden


def test_evaluate_all_rejects_a_parameter_no_model_takes(capsys, synth_dataset):
    code, _, err = _run(capsys, "evaluate", "--dataset", "synth", "--model", "all", "--set", "colour=red")
    assert code == 2 and "no model takes parameter(s) colour" in err


def test_synth_refuses_release_names_and_paths(capsys, data_dir):
    for name, message in [("ml-100k", "is a MovieLens release"), ("../escape", "must be letters, digits")]:
        code, _, err = _run(
            capsys, "data", "synth", "--users", "5", "--items", "5", "--interactions", "10", "--name", name
        )
        assert code == 2 and message in err
    assert not (data_dir.parent / "escape").exists()
