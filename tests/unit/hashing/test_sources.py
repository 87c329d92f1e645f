"""The same rows give one Merkle root whether they sit in JSON Lines, Parquet, Arrow IPC
(file or stream), a Hugging Face save_to_disk directory, or a directory of files."""

import datetime as dt
import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cognify_hashing import SourceError, hash_dataset, hash_records, iter_records, open_source
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

RECORDS: list[dict[str, object]] = [
    {
        "id": 0,
        "prompt": "Hello",
        "score": 1.0,
        "ok": True,
        "tags": ["a", "b"],
        "meta": {"lang": "en", "weight": 0.5},
        "note": None,
    },
    {
        "id": 1,
        "prompt": "Gr\u00fc\u00dfe \U0001f600\n",
        "score": 0.1,
        "ok": False,
        "tags": [],
        "meta": {"lang": "de", "weight": 2.0},
        "note": "x",
    },
    {
        "id": 2**40,
        "prompt": '"quoted" \\ back\u2028',
        "score": -1e-7,
        "ok": True,
        "tags": ["c"],
        "meta": {"lang": "fr", "weight": 1e21},
        "note": None,
    },
]


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")  # a trailing blank line
    return path


def write_parquet(path: Path, records: list[dict[str, object]], rows_per_group: int = 2) -> Path:
    pq.write_table(pa.Table.from_pylist(records), path, row_group_size=rows_per_group)
    return path


def write_arrow(path: Path, table: pa.Table, *, stream: bool, rows_per_batch: int = 2) -> Path:
    opener = pa.ipc.new_stream if stream else pa.ipc.new_file
    with pa.OSFile(str(path), "wb") as sink, opener(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=rows_per_batch):
            writer.write_batch(batch)
    return path


def write_save_to_disk(directory: Path, records: list[dict[str, object]], shards: int = 2) -> Path:
    """Lay out files the way `datasets.Dataset.save_to_disk` does (Arrow stream shards)."""
    directory.mkdir()
    table = pa.Table.from_pylist(records)
    features = {name: {"_type": "Value"} for name in table.column_names}
    table = table.replace_schema_metadata(
        {"huggingface": json.dumps({"info": {"features": features}})}
    )
    names = [f"data-{i:05d}-of-{shards:05d}.arrow" for i in range(shards)]
    per_shard = -(-len(records) // shards)
    for index, name in enumerate(names):
        part = table.slice(index * per_shard, per_shard)
        write_arrow(directory / name, part, stream=True, rows_per_batch=1000)
    state: dict[str, object] = {
        "_data_files": [{"filename": name} for name in names],
        "_fingerprint": "0123456789abcdef",
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": None,
    }
    (directory / "state.json").write_text(json.dumps(state, indent=2))
    info = {"citation": "", "description": "", "features": features, "license": ""}
    (directory / "dataset_info.json").write_text(json.dumps(info, indent=2))
    return directory


def columns(description: dict[str, object]) -> list[dict[str, str]]:
    listed = description["columns"]
    assert isinstance(listed, list)
    return listed


def every_format(tmp: Path, records: list[dict[str, object]]) -> dict[str, Path]:
    table = pa.Table.from_pylist(records)
    split = tmp / "split"
    split.mkdir()
    write_parquet(split / "part-0.parquet", records[:1])
    write_jsonl(split / "part-1.jsonl", records[1:])
    (split / "_SUCCESS").write_text("")
    return {
        "jsonl": write_jsonl(tmp / "data.jsonl", records),
        "parquet": write_parquet(tmp / "data.parquet", records),
        "arrow file": write_arrow(tmp / "data.arrow", table, stream=False),
        "arrow stream": write_arrow(tmp / "data.arrows", table, stream=True),
        "save_to_disk": write_save_to_disk(tmp / "hf", records),
        "directory": split,
    }


def test_the_same_records_in_every_format_give_one_root(tmp_path: Path) -> None:
    expected_count, expected_root = hash_records(RECORDS)
    for name, path in every_format(tmp_path, RECORDS).items():
        digest = hash_dataset(path)
        assert digest.root == "sha256:" + expected_root.hex(), name
        assert digest.record_count == expected_count == open_source(path).count(), name


def test_records_come_back_in_order_with_equal_values(tmp_path: Path) -> None:
    for name, path in every_format(tmp_path, RECORDS).items():
        assert list(iter_records(path)) == RECORDS, name


def test_jsonl_integers_agree_with_arrow_doubles_of_the_same_value(tmp_path: Path) -> None:
    (tmp_path / "ints.jsonl").write_text('{"x": 1}\n{"x": 2.0}\n{"x": 3.5}\n')
    write_parquet(tmp_path / "doubles.parquet", [{"x": 1.0}, {"x": 2.0}, {"x": 3.5}])
    assert (
        hash_dataset(tmp_path / "ints.jsonl").root
        == hash_dataset(tmp_path / "doubles.parquet").root
    )


def test_float32_columns_hash_like_their_shortest_decimal_in_jsonl(tmp_path: Path) -> None:
    values = [0.1, 0.25, 1 / 3, 3.4e38, 1e-7]
    table = pa.table({"v": pa.array(values, pa.float32())})
    pq.write_table(table, tmp_path / "f32.parquet")
    shortest = table.column("v").cast(pa.string()).to_pylist()
    (tmp_path / "f.jsonl").write_text("".join(f'{{"v": {text}}}\n' for text in shortest))
    assert hash_dataset(tmp_path / "f32.parquet").root == hash_dataset(tmp_path / "f.jsonl").root
    assert next(iter_records(tmp_path / "f32.parquet")) == {"v": 0.1}


def test_nanosecond_timestamps_hash_like_the_same_instants_in_microseconds(tmp_path: Path) -> None:
    micros = [0, 1_500_000_000_123_456, -1, None]
    nanos = [None if m is None else m * 1000 for m in micros]
    pq.write_table(
        pa.table({"t": pa.array(nanos, pa.timestamp("ns", "UTC"))}),
        tmp_path / "ns.parquet",
        coerce_timestamps=None,
        version="2.6",
    )
    pq.write_table(pa.table({"t": pa.array(micros, pa.timestamp("us", "UTC"))}), tmp_path / "us.pq")
    assert pq.read_schema(tmp_path / "ns.parquet").field("t").type.unit == "ns"
    assert hash_dataset(tmp_path / "ns.parquet").root == hash_dataset(tmp_path / "us.pq").root
    records = list(iter_records(tmp_path / "us.pq"))
    assert records[1]["t"] == dt.datetime(2017, 7, 14, 2, 40, 0, 123456, tzinfo=dt.UTC)


def test_nested_and_sliced_arrow_values_are_normalised_everywhere(tmp_path: Path) -> None:
    table = pa.table(
        {
            "scores": pa.array([[0.1, None], None, [0.5]], pa.list_(pa.float32())),
            "pairs": pa.array([[("a", 0.1)], [], None], pa.map_(pa.string(), pa.float32())),
            "nested": pa.array(
                [{"x": 0.1, "when": 5}, None, {"x": None, "when": 7}],
                pa.struct([("x", pa.float32()), ("when", pa.timestamp("ns"))]),
            ),
            "cat": pa.array(["u", "v", "u"]).dictionary_encode(),
        }
    )
    write_arrow(tmp_path / "nested.arrow", table, stream=False, rows_per_batch=1)
    records = list(iter_records(tmp_path / "nested.arrow"))
    assert records[0] == {
        "scores": [0.1, None],
        "pairs": [("a", 0.1)],
        "nested": {"x": 0.1, "when": "1970-01-01T00:00:00.000000005"},
        "cat": "u",
    }
    assert records[1] == {"scores": None, "pairs": [], "nested": None, "cat": "v"}
    assert records[2]["nested"] == {"x": None, "when": "1970-01-01T00:00:00.000000007"}


def test_schemas_are_described_with_arrow_type_names(tmp_path: Path) -> None:
    paths = every_format(tmp_path, RECORDS)
    parquet = open_source(paths["parquet"]).schema()
    assert columns(parquet)[:3] == [
        {"name": "id", "type": "int64"},
        {"name": "prompt", "type": "string"},
        {"name": "score", "type": "double"},
    ]
    assert hash_dataset(paths["jsonl"]).schema == open_source(paths["jsonl"]).schema()
    jsonl_types = {c["name"]: c["type"] for c in columns(open_source(paths["jsonl"]).schema())}
    assert jsonl_types["id"] == "int64"
    assert jsonl_types["note"] == "string"
    assert hash_dataset(paths["save_to_disk"]).schema == open_source(paths["arrow file"]).schema()


def test_jsonl_columns_of_mixed_types_are_described_not_refused(tmp_path: Path) -> None:
    (tmp_path / "mixed.jsonl").write_text('{"a": 1, "b": 1}\n{"a": "x", "c": [1]}\n')
    assert columns(open_source(tmp_path / "mixed.jsonl").schema()) == [
        {"name": "a", "type": "json"},
        {"name": "b", "type": "int64"},
        {"name": "c", "type": "list<item: int64>"},
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"a": 1, "a": 2}\n', "duplicate"),
        ('{"a": NaN}\n', "NaN"),
        ("[1, 2]\n", "JSON object"),
        ('{"a": 1\n', "delimiter"),
    ],
)
def test_malformed_jsonl_is_refused_with_the_line_number(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "bad.jsonl").write_text('{"ok": 1}\n' + content)
    with pytest.raises(SourceError, match=message) as caught:
        list(iter_records(tmp_path / "bad.jsonl"))
    assert "bad.jsonl:2:" in str(caught.value)


def test_a_dataset_dict_directory_asks_for_one_split(tmp_path: Path) -> None:
    write_save_to_disk(tmp_path / "train", RECORDS)
    (tmp_path / "dataset_dict.json").write_text('{"splits": ["train"]}')
    with pytest.raises(SourceError, match="one split"):
        open_source(tmp_path)
    assert hash_dataset(tmp_path / "train").record_count == len(RECORDS)


def test_unknown_files_and_empty_directories_are_refused(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a\n1\n")
    with pytest.raises(SourceError, match="unknown"):
        open_source(tmp_path / "data.csv")
    with pytest.raises(SourceError, match=r"no \.jsonl"):
        open_source(tmp_path).count()


def test_the_datasets_librarys_save_to_disk_output_gives_the_same_root(tmp_path: Path) -> None:
    import datasets

    datasets.Dataset.from_list(RECORDS).save_to_disk(str(tmp_path / "hf"))
    assert hash_dataset(tmp_path / "hf").root == "sha256:" + hash_records(RECORDS)[1].hex()


rows = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.integers(-(2**63), 2**63 - 1),
            "text": st.text(max_size=20),
            "value": st.floats(allow_nan=False, allow_infinity=False),
            "flag": st.none() | st.booleans(),
        }
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_random_rows_give_one_root_in_jsonl_parquet_and_save_to_disk(
    records: list[dict[str, object]],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        roots = {
            hash_dataset(write_jsonl(tmp / "d.jsonl", records)).root,
            hash_dataset(write_parquet(tmp / "d.parquet", records)).root,
            hash_dataset(write_save_to_disk(tmp / "hf", records, shards=1)).root,
        }
        assert roots == {"sha256:" + hash_records(records)[1].hex()}
