"""What a plain CSV with a mistake in it gives: the mistake named, not a later symptom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from commonplan.errors import FileFormatError, InvalidValueError
from commonplan.io import read_table
from commonplan.io.plain import read_flow_table

GOOD = ",a,b,final_demand\na,1,2,3\nb,4,5,6\n"


def write(folder: Path, text: str, name: str = "table.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_good_table_reads(tmp_path):
    economy = read_flow_table(write(tmp_path, GOOD))
    np.testing.assert_allclose(economy.gross_output.to_numpy(), [6.0, 15.0])


@pytest.mark.parametrize(
    ("text", "line", "label", "found"),
    [
        (",a,b,final_demand\na,1,2,3\nb,4,5\n", 3, "b", 3),  # a cell short
        (",a,b,final_demand\na,1,2,3,9\nb,4,5,6\n", 2, "a", 5),  # a cell too many
        (",a,b,final_demand\n\na,1,2,3\nb,4\n", 4, "b", 2),  # after a blank line
        (",a,b,final_demand\na,1,2,3\nb,4,", 3, "b", 3),  # the file cut off
    ],
)
def test_a_ragged_row_is_reported_as_one(tmp_path, text, line, label, found):
    path = write(tmp_path, text)
    with pytest.raises(FileFormatError) as caught:
        read_flow_table(path)
    message = str(caught.value)
    assert f"ragged row: line {line} (row {label!r}) has {found} columns, the header has 4" in (
        message
    )
    assert "nan" not in message


def test_a_ragged_row_in_a_semicolon_file(tmp_path):
    path = write(tmp_path, ";a;b;final_demand\na;1;2;3\nb;4;5\n")
    with pytest.raises(FileFormatError, match=r"line 3 \(row 'b'\) has 3 columns"):
        read_flow_table(path)


def test_a_quoted_cell_with_commas_is_refused_not_read_as_100(tmp_path):
    path = write(tmp_path, ',a,b,final_demand\na,1,"1,0,0",3\nb,4,5,6\n')
    with pytest.raises(InvalidValueError, match=r"row 'a', column 'b': cell '1,0,0'"):
        read_flow_table(path)
    # thousands separators in groups of three stay numbers
    economy = read_flow_table(write(tmp_path, ',a,b,final_demand\na,1,"1,000",3\nb,4,5,6\n'))
    assert economy.flows().toarray()[0, 1] == pytest.approx(1000.0, rel=1e-12)


def test_year_on_a_single_year_file_is_refused_naming_its_year(shared_data):
    path = shared_data / "textbook_examples/BEL2020ttl.csv"
    with pytest.raises(FileFormatError, match=r"holds the year 2020 only, not 1999"):
        read_table(path, year=1999)
    assert read_table(path, year=2020).metadata.year == 2020
    with pytest.raises(FileFormatError, match=r"holds the year 2019 only, not 1999"):
        read_table(shared_data / "colombia_dane_2019/matriz19.xlsx", year=1999)


def test_year_chooses_in_a_multi_year_file_and_labels_a_yearless_one(shared_data, tmp_path):
    niot = shared_data / "us_wiod_niot_2000_2014/usaiot.csv"
    assert read_table(niot, year=2005).metadata.year == 2005
    with pytest.raises(Exception, match=r"one of the years \[2000, 2001"):
        read_table(niot, year=1999)
    assert read_table(write(tmp_path, GOOD), year=1999).metadata.year == 1999
