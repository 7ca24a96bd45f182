"""Reading a day's outputs: a missing folder or file is one clear error."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from regua.reports.report import OUTPUT_FILES, OutputsMissingError, read_outputs

AS_OF = date(2026, 10, 30)


def test_a_missing_day_names_the_folder_and_the_command(tmp_path):
    with pytest.raises(OutputsMissingError, match=r"missing folder .*2026-10-30.*regua score"):
        read_outputs(tmp_path, AS_OF)


def test_a_missing_file_is_named_and_a_complete_day_is_read(tmp_path):
    folder = tmp_path / AS_OF.isoformat()
    folder.mkdir()
    frame = pl.DataFrame({"customer_id": ["C1"]})
    for name in OUTPUT_FILES[:-1]:
        frame.write_parquet(folder / name)
    with pytest.raises(OutputsMissingError, match=r"manifest\.json"):
        read_outputs(tmp_path, AS_OF)
    (folder / "manifest.json").write_text(json.dumps({"models": {}}))
    day = read_outputs(tmp_path, AS_OF)
    assert day.folder == folder and day.manifest == {"models": {}}
    assert day.segments.equals(frame)
