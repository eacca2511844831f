"""Reading the experiment files, and refusing bad ones with a specific error before any round."""

from __future__ import annotations

import gzip
from pathlib import Path

import demplan
import numpy as np
import pytest

from commonplan.errors import ParticipationInputError
from commonplan.participation import GoodClass, read_experiment, write_experiment

from .oracle import demplan_order


def test_reader_agrees_with_demplans_loader(experiment_paths):
    """Our EDN reader against demplan's (Rust) loader, field by field, on all ten experiments."""
    for path in experiment_paths:
        ours = read_experiment(path)
        theirs = demplan.load_dep1ex(path)
        g = ours.goods_per_class
        perm = demplan_order(g)
        assert (ours.workers.count, ours.consumers.count, g) == (3000, 3000, 10)
        np.testing.assert_array_equal(ours.workers.scale, theirs.technology_scale)
        np.testing.assert_array_equal(ours.workers.input_offsets, theirs.input_offsets)
        np.testing.assert_array_equal(perm[ours.workers.input_commodity], theirs.input_commodity)
        np.testing.assert_array_equal(ours.workers.input_exponent, theirs.input_coefficient)
        np.testing.assert_array_equal(perm[ours.worker_output_commodity], theirs.output_commodity)
        np.testing.assert_array_equal(ours.workers.effort_exponent, theirs.unit_extra["effort_c"])
        np.testing.assert_array_equal(
            ours.workers.disutility_exponent, theirs.unit_extra["effort_k"]
        )
        np.testing.assert_array_equal(ours.workers.disutility_scale, theirs.unit_extra["effort_s"])
        np.testing.assert_array_equal(ours.consumers.income, theirs.consumer_extra["entitlement"])
        utility = np.hstack([ours.consumers.private_exponents, ours.consumers.public_exponents])
        np.testing.assert_array_equal(utility, theirs.consumer_extra["utility_exponent"])
        endowment = np.empty(5 * g)
        endowment[perm] = ours.endowment
        np.testing.assert_array_equal(endowment, theirs.endowment)


def test_first_councils_as_in_the_file(dep1ex01):
    wc, cc = dep1ex01.workers, dep1ex01.consumers
    # first worker council of dep1ex01.clj: industry 2, product 1, inputs [[1 2 4 6] [7] [9]]
    assert (wc.industry[0], wc.product[0], wc.input_count[0]) == (2, 1, 6)
    np.testing.assert_array_equal(wc.input_commodity[:6], [10, 11, 13, 15, 26, 38])
    assert wc.input_exponent[0] == 0.13902884209084848
    assert wc.scale[0] == 5.322899913132311 and wc.disutility_exponent[0] == 3.5574849271680087
    assert cc.private_exponents[0, 0] == 0.027194872020097658 and cc.income[0] == 5000
    assert np.bincount(wc.industry).tolist() == [1000, 1000, 1000]
    assert dep1ex01.commodities[dep1ex01.n_commodities - 1] == (GoodClass.PUBLIC.label, 10)


def test_plain_and_gzipped_files_read_the_same(dep1ex01, experiment_paths, tmp_path):
    plain = tmp_path / "dep1ex01.clj"
    plain.write_bytes(gzip.decompress(experiment_paths[0].read_bytes()))
    assert read_experiment(plain).content_hash() == dep1ex01.content_hash()


def test_write_then_read_is_exact_and_demplan_reads_it(dep1ex01, tmp_path):
    path = write_experiment(dep1ex01, tmp_path / "copy.clj.gz")
    again = read_experiment(path)
    assert again.content_hash() == dep1ex01.content_hash()
    theirs = demplan.load_dep1ex(path)
    np.testing.assert_array_equal(theirs.input_coefficient, dep1ex01.workers.input_exponent)


# ---- bad input ------------------------------------------------------------------------------

SMALL = """(ns pequod-cljs.tiny)
(def ccs
[{:income 5000, :utility-exponents [0.03 0.04], :public-good-exponents [0.03 0.035], :cy 1}
 {:income 5000, :utility-exponents [0.045 0.03], :public-good-exponents [0.04 0.03], :cy 1}])
(def wcs
[{:industry 0, :product 1, :production-inputs [[1] [1] [1]], :input-exponents [0.26], :nature-exponents [0.27], :labor-exponents [0.27], :a 5, :c 0.07, :du 3.5, :s 1}
 {:industry 0, :product 2, :production-inputs [[2] [2] [1 2]], :input-exponents [0.2], :nature-exponents [0.2], :labor-exponents [0.2 0.2], :a 4.5, :c 0.06, :du 3.2, :s 1}
 {:industry 1, :product 1, :production-inputs [[2] [1] [2]], :input-exponents [0.26], :nature-exponents [0.26], :labor-exponents [0.26], :a 5.5, :c 0.08, :du 3.9, :s 1}
 {:industry 1, :product 2, :production-inputs [[1] [2] [1]], :input-exponents [0.25], :nature-exponents [0.27], :labor-exponents [0.28], :a 5, :c 0.05, :du 3, :s 1}
 {:industry 2, :product 1, :production-inputs [[1 2] [1] [2]], :input-exponents [0.2 0.2], :nature-exponents [0.2], :labor-exponents [0.2], :a 4, :c 0.09, :du 3.1, :s 1}
 {:industry 2, :product 2, :production-inputs [[2] [2] [2]], :input-exponents [0.27], :nature-exponents [0.26], :labor-exponents [0.27], :a 6, :c 0.1, :du 4, :s 1}])
"""


def _write(tmp_path: Path, text: str, name: str = "tiny.clj") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_small_valid_file_reads_and_runs(tmp_path):
    from commonplan.participation import run_procedure

    economy = read_experiment(_write(tmp_path, SMALL))
    assert (economy.workers.count, economy.consumers.count, economy.goods_per_class) == (6, 2, 2)
    result = run_procedure(economy, years=1)
    assert result.converged


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        (
            ":income 5000, :utility-exponents [0.045",
            ":income -5, :utility-exponents [0.045",
            "consumer council 2, field :income",
            "-5",
        ),
        (
            ":utility-exponents [0.03 0.04]",
            ":utility-exponents [0.03 -0.04]",
            "consumer council 1, field :utility-exponents",
            "exponent 2",
        ),
        (
            ":utility-exponents [0.03 0.04]",
            ":utility-exponents [0.03 1e999]",
            "consumer council 1, field :utility-exponents",
            "inf",
        ),
        (
            ":utility-exponents [0.045 0.03]",
            ":utility-exponents [0.045]",
            "consumer council 2, field :utility-exponents",
            "expected 2 entries",
        ),
        (":a 4.5,", ":a -4.5,", "worker council 2, field :a", "-4.5"),
        (":c 0.08,", ":c ##NaN,", "worker council 3, field :c", "not a number"),
        (":du 3.9,", ":du 0,", "worker council 3, field :du", "0"),
        (":du 3.9,", ":dux 3.9,", "worker council 3, field :du", "missing"),
        (
            ":labor-exponents [0.28]",
            ":labor-exponents [0.58]",
            "worker council 4, fields",
            "no maximum",
        ),
        (
            ":nature-exponents [0.26], :labor",
            ":nature-exponents [0.0], :labor",
            "worker council 3, field :nature-exponents",
            "input exponent 2 is 0.0",
        ),
        (
            "[[2] [2] [1 2]]",
            "[[2] [2] [2 2]]",
            "worker council 2, field :production-inputs",
            "listed twice",
        ),
        (
            "[[2] [1] [2]]",
            "[[3] [1] [2]]",
            "worker council 3, field :production-inputs",
            "good 3 does not exist",
        ),
        (
            "[[2] [1] [2]]",
            "[[2] [1]]",
            "worker council 3, field :production-inputs",
            "three vectors",
        ),
        (
            ":industry 2, :product 2",
            ":industry 5, :product 2",
            "worker council 6, field :industry",
            "5",
        ),
        (
            ":industry 2, :product 2",
            ":industry 2, :product 0",
            "worker council 6, field :product",
            "0",
        ),
        (
            ":industry 2, :product 2",
            ":industry 2, :product 1.5",
            "worker council 6, field :product",
            "whole number",
        ),
        (
            ":input-exponents [0.26], :nature-exponents [0.27]",
            ":input-exponents [0.26 0.1], :nature-exponents [0.27]",
            "worker council 1, field :input-exponents",
            "1 entries",
        ),
    ],
)
def test_bad_values_name_council_and_field(tmp_path, old, new, where, message):
    assert old in SMALL
    path = _write(tmp_path, SMALL.replace(old, new, 1))
    with pytest.raises(ParticipationInputError) as caught:
        read_experiment(path)
    text = str(caught.value)
    assert str(path) in text and where in text and message in text


def test_a_class_without_producer_is_refused(tmp_path):
    text = SMALL.replace(":industry 1, :product 1", ":industry 0, :product 1").replace(
        ":industry 1, :product 2", ":industry 0, :product 2"
    )
    with pytest.raises(
        ParticipationInputError, match="no worker council produces any intermediate good"
    ):
        read_experiment(_write(tmp_path, text))


def test_a_good_without_producer_is_refused(tmp_path):
    text = SMALL.replace(":industry 2, :product 2", ":industry 2, :product 1")
    with pytest.raises(ParticipationInputError, match="no worker council produces public good 2"):
        read_experiment(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SMALL[: len(SMALL) // 2], "the file ends inside"),
        (SMALL.replace("(def wcs", "(def workers"), "no \\(def wcs"),
        (SMALL.replace("[[1] [1] [1]]", "[[1] [1] [1]}"), "closes"),
        (SMALL.replace(":cy 1}", ":cy 1 :orphan}", 1), "key without a value"),
        (SMALL + ")", "unexpected"),
        ("", "no \\(def ccs"),
    ],
)
def test_malformed_and_truncated_files(tmp_path, text, message):
    with pytest.raises(ParticipationInputError, match=message):
        read_experiment(_write(tmp_path, text))


def test_truncated_gzip_and_missing_file(tmp_path, experiment_paths):
    data = experiment_paths[0].read_bytes()
    cut = tmp_path / "cut.clj.gz"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(ParticipationInputError, match="gzip stream is damaged or truncated"):
        read_experiment(cut)
    with pytest.raises(ParticipationInputError, match="cannot read the file"):
        read_experiment(tmp_path / "absent.clj")
    binary = tmp_path / "binary.clj"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ParticipationInputError, match="not UTF-8"):
        read_experiment(binary)


def test_line_numbers_in_syntax_errors(tmp_path):
    text = SMALL.replace("[[1 2] [1] [2]]", '[[1 2] [1] [2]] "')
    with pytest.raises(ParticipationInputError, match="line 10") as caught:
        read_experiment(_write(tmp_path, text))
    assert "unreadable character '\"'" in str(caught.value)
