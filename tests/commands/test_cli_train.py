"""Tests of ``imdb-lab train`` end to end on a small archive."""

import os
import re
import subprocess
import sys

import pytest

from imdb_lab.cli import main


def run_train(args, env_data, cwd):
    """Run ``python -m imdb_lab train ARGS`` in a fresh process; return the CompletedProcess."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if env_data is not None:
        env["IMDB_LAB_DATA"] = str(env_data)
    return subprocess.run([sys.executable, "-m", "imdb_lab", "train", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


@pytest.mark.slow
def test_train_end_to_end(small_archive, tmp_path):
    output = tmp_path / "out" / "model.keras"
    output.parent.mkdir()
    # 160 steps: enough for the default learning rate (2e-3, decaying once an epoch) to learn the small archive on
    # every backend
    result = run_train(["--num-words", "40", "--epochs", "8", "--batch-size", "16", "--seed", "1",
                        "--output", str(output)], small_archive, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"test accuracy: [01]\.\d{4}", lines[-1]), result.stdout
    assert re.fullmatch(r"validation accuracy: [01]\.\d{4}", lines[-2])
    assert sum(line.startswith("Epoch ") for line in lines) >= 1  # progress per epoch
    assert float(lines[-1].split(": ")[1]) > 0.5, result.stdout
    from imdb_lab.models.saving import load_trained_model

    model, metadata = load_trained_model(output)
    assert model.input_shape == (None, 40)
    assert metadata["num_words"] == 40 and metadata["skip_top"] == 0
    assert metadata["features"] == {"kind": "multi_hot"}
    assert metadata["word_index"]["the"] == 1
    assert sorted(p.name for p in output.parent.iterdir()) == ["model.keras"]


@pytest.mark.parametrize("args, message", [
    (["--num-words", "-5"], "--num-words"),
    (["--epochs", "0"], "--epochs"),
    (["--batch-size", "many"], "--batch-size"),
    (["--seed", "-1"], "--seed"),
    (["--num-words", "10", "--skip-top", "10"], "--skip-top"),
    (["--output", "no/such/folder/model.keras"], "does not exist"),
    (["--output", "model.h5"], ".keras"),
    (["--source", "no-such-archive.tar.gz"], "--source"),
    (["--ngrams", "4"], "--ngrams"),
    (["--ngrams", "0"], "--ngrams"),
])
def test_bad_flags_exit_2_with_one_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["train", *args])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("imdb-lab train: error: ") and message in err[-1]
    assert "Traceback" not in "\n".join(err)
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_folder(tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main(["train", "--output", str(folder / "model.keras")]) == 2
    finally:
        folder.chmod(0o700)
    assert "not writable" in capsys.readouterr().err


@pytest.mark.slow
def test_bad_flag_in_a_real_process_prints_no_traceback(tmp_path):
    result = run_train(["--num-words", "100", "--skip-top", "200"], None, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "imdb-lab train: error: --skip-top=200 must be smaller than --num-words=100: every word would become the "
        "out-of-vocabulary mark"]


@pytest.mark.slow
def test_train_ngram_model_then_predict(small_archive, tmp_path):
    output = tmp_path / "bigrams.keras"
    result = run_train(["--ngrams", "2", "--num-words", "60", "--epochs", "3", "--seed", "1",
                        "--output", str(output)], small_archive, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "2-gram NBSVM model" in lines[0]
    assert re.fullmatch(r"test accuracy: [01]\.\d{4}", lines[-1]) and float(lines[-1].split(": ")[1]) > 0.7
    from imdb_lab.models.saving import read_metadata

    features = read_metadata(output)["features"]
    assert features["kind"] == "ngrams" and features["ngrams"] == 2 and features["codes"][0]

    # the saved model needs nothing else to predict from text
    predicted = subprocess.run(
        [sys.executable, "-m", "imdb_lab", "predict", "--model", str(output),
         "great wonderful superb film", "awful boring terrible waste", " "],
        capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=300)
    assert predicted.returncode == 0, predicted.stderr
    out = predicted.stdout.splitlines()
    assert [line.split()[0] for line in out] == ["positive", "negative", "empty"]


@pytest.mark.slow
def test_train_the_unigram_nb_model_then_predict(small_archive, tmp_path):
    output = tmp_path / "unigrams.keras"
    result = run_train(["--nb", "--num-words", "60", "--epochs", "3", "--seed", "1", "--output", str(output)],
                       small_archive, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "1-gram NBSVM model" in lines[0]
    assert float(lines[-1].split(": ")[1]) > 0.7
    from imdb_lab.models.saving import read_metadata

    features = read_metadata(output)["features"]
    assert features["kind"] == "ngrams" and features["ngrams"] == 1
    predicted = subprocess.run(
        [sys.executable, "-m", "imdb_lab", "predict", "--model", str(output), "great wonderful superb film",
         "awful boring terrible waste"],
        capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=300)
    assert predicted.returncode == 0, predicted.stderr
    assert [line.split()[0] for line in predicted.stdout.splitlines()] == ["positive", "negative"]
