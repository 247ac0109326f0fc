"""CSV rendering: header first, None as empty, ragged rows refused; times in seconds since launch; the columns."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from pavilion.runtime.exports import ASSIGNMENT_COLUMNS, LEDGER_COLUMNS, dollars, seconds_since, to_csv

COLUMNS = ("time_s", "worker", "event", "queue", "detail")


def test_rows_round_trip_through_the_csv_reader() -> None:
    rows = [
        ("0.000", "", "launched", "", ""),
        ("1.250", "a1", "joined", "waiting", 'say "hi", then'),
        ("2", None, "x", "", ""),
    ]
    parsed = list(csv.reader(io.StringIO(to_csv(COLUMNS, rows))))
    assert parsed[0] == list(COLUMNS)
    assert parsed[2] == ["1.250", "a1", "joined", "waiting", 'say "hi", then']
    assert parsed[3][1] == ""


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="2 values for 5 columns"):
        to_csv(COLUMNS, [("1", "a")])


def test_assignment_columns_start_with_the_policy_worker_id() -> None:
    assert ASSIGNMENT_COLUMNS[0] == "worker"  # the same id as the event log's `worker` column
    assert len(set(ASSIGNMENT_COLUMNS)) == len(ASSIGNMENT_COLUMNS)


def test_ledger_columns_name_whom_and_the_idempotency_key() -> None:
    assert {"worker", "platform_worker_id", "amount_usd", "status", "idempotency_key"} <= set(LEDGER_COLUMNS)
    assert len(set(LEDGER_COLUMNS)) == len(LEDGER_COLUMNS)


def test_cents_print_as_dollars() -> None:
    assert (dollars(0), dollars(7), dollars(1234)) == ("0.00", "0.07", "12.34")


def test_times_are_seconds_since_the_origin() -> None:
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    assert seconds_since(origin + timedelta(seconds=90, milliseconds=5), origin) == "90.005"
    assert seconds_since(None, origin) == ""
    assert seconds_since(origin, None) == ""
