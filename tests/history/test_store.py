"""The history store on real DuckDB files: ingest (idempotent, replacing, all or nothing), schema
migrations, queries the rules make, Parquet export read back with pandas."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from auditor.history import HistoryError, HistoryStore, history_path, open_for_audit
from auditor.history.fingerprints import DEFAULT_MINHASH, MinHashParams, band_keys, key_hash, unit_rows
from auditor.history.store import (SCHEMA_VERSION, TABLES, Exclusion, _in_key_order, batch_from_documents, migrate,
                                   schema_version)
from auditor.rules.kinds.duplicate import fold_key

from .helpers import page, taonan


@pytest.fixture()
def store(tmp_path):
    with HistoryStore.open(tmp_path / "h.duckdb") as s:
        yield s


def _pages(analysed, *numbers):
    return [analysed[n] for n in numbers]


# ---------------------------------------------------------------- ingest

def test_add_writes_every_table_and_the_same_pages_again_add_nothing(store, analysed):
    first = store.add(_pages(analysed, "000", "001"))
    assert first.added == (analysed["000"].path, analysed["001"].path) and not first.unchanged
    counts = store.counts()
    assert counts["documents"] == 2 and all(counts[t] > 0 for t in TABLES)
    assert counts["metrics"] == len(analysed["000"].metrics) + len(analysed["001"].metrics)
    again = store.add(_pages(analysed, "001", "000"))
    assert again.unchanged == (analysed["001"].path, analysed["000"].path) and not again.added
    assert again.rows == {} and store.counts() == counts


def test_rows_keep_original_offsets_and_the_page_facts(store, analysed):
    store.add(_pages(analysed, "001"))
    doc = store.table("documents").iloc[0]
    original = analysed["001"].original
    assert doc["sha256"] == analysed["001"].document.sha256 and doc["text"] == original
    assert doc["publication_year"] == 2021 and doc["encoding"] == "utf-8"
    for row in store.table("metrics").head(50).itertuples():
        assert original[row.start:row.end] == row.text
    clauses = store.table("clauses")
    assert clauses["hash"].is_unique is False or len(clauses) > 100  # the page prints a passage twice
    row = clauses.iloc[10]
    assert row["hash"] == key_hash(fold_key(original[row["start"]:row["end"]]))
    articles = store.table("articles")
    assert "洮南市总工会" in set(articles["entity"]) and set(articles["year"]) == {2020}


def test_a_changed_file_replaces_its_earlier_version(tmp_path, store):
    path = str(tmp_path / "taonan.txt")
    store.add([taonan(2020, "28.74万元", path=path)])
    result = store.add([taonan(2020, "30.5万元", path=path)])
    assert result.replaced == (path,) and not result.added
    assert store.counts()["documents"] == 1
    assert set(store.table("metrics")["text"]) >= {"30.5万元"}
    assert "28.74万元" not in set(store.table("metrics")["text"])
    # ids of the replaced page leave no orphans behind in any table
    ids = set(store.table("documents")["doc_id"])
    for table in TABLES:
        assert set(store.table(table)["doc_id"]) <= ids


def test_the_same_content_under_another_name_adds_nothing(store):
    store.add([taonan(2020, "28.74万元", path="a/2020.txt")])
    result = store.add([taonan(2020, "28.74万元", path="b/copy.txt")])
    assert result.unchanged == ("b/copy.txt",) and store.counts()["documents"] == 1


def test_a_failure_half_way_through_a_batch_leaves_the_store_as_it_was(tmp_path, analysed, monkeypatch):
    path = tmp_path / "h.duckdb"
    with HistoryStore.open(path) as s:
        s.add(_pages(analysed, "002"))
        before = s.counts()
        real = s._insert

        def failing(table, frame):
            real(table, frame)
            if table == "clauses":  # documents, articles and metrics are in by now
                raise RuntimeError("disk full")

        monkeypatch.setattr(s, "_insert", failing)
        with pytest.raises(RuntimeError):
            s.add(_pages(analysed, "000", "001"))
        assert s.counts() == before
    with HistoryStore.open(path, read_only=True) as s:
        assert s.counts() == before


def test_remove_by_path_or_sha_prefix_and_unknown_names_are_errors(store, analysed):
    store.add(_pages(analysed, "000", "001", "002"))
    assert store.remove([analysed["000"].path]) == [analysed["000"].path]
    assert store.remove([analysed["001"].document.sha256[:10]]) == [analysed["001"].path]
    assert store.counts()["documents"] == 1
    with pytest.raises(HistoryError) as err:
        store.remove(["nowhere.txt"])
    assert "nowhere.txt" in str(err.value) and str(store.path) in str(err.value)
    assert store.counts()["documents"] == 1


# ---------------------------------------------------------------- opening, versions, migrations

def test_schema_version_and_errors_name_the_store(tmp_path):
    path = tmp_path / "h.duckdb"
    with HistoryStore.open(path) as s:
        assert s.version == SCHEMA_VERSION
    with pytest.raises(HistoryError, match="no history store here"):
        HistoryStore.open(tmp_path / "missing.duckdb", read_only=True)
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError) as err:
        HistoryStore.open(junk)
    assert str(junk) in str(err.value) and "\n" not in str(err.value)
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE t (x INTEGER)").close()
    with pytest.raises(HistoryError, match="not an auditor history store"):
        HistoryStore.open(other)
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(HistoryError, match="newer auditor"):
        HistoryStore.open(path, read_only=True)


# Band keys as releases before version 4 made them: 16 bands of 4 rows, 64 bits, every sentence of
# 10+ content characters.
_V3_MINHASH = MinHashParams(ngram=5, num_perm=64, bands=16, seed=1, min_chars=10)


def _v3_bands(docs) -> pd.DataFrame:
    rows = []
    for i, doc in enumerate(docs):
        sentences = [u for u in unit_rows(doc)[1] if u.chars >= _V3_MINHASH.min_chars and len(u.core) >= 5]
        keys = band_keys([u.core for u in sentences], _V3_MINHASH)
        rows += [(i, u.ordinal, int(k)) for u, ks in zip(sentences, keys) for k in ks]
    return pd.DataFrame(rows, columns=["doc_id", "sentence", "band_key"])


def _old_store(path, docs, version: int) -> dict[str, int]:
    """A store as an earlier release made it: schema `version`, rows in that version's columns
    (band keys as that release made them, and its MinHash parameters in meta)."""
    con = duckdb.connect(str(path))
    assert migrate(con, target=version) == list(range(1, version + 1))
    batch = batch_from_documents(docs)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    counts = {}
    for table in (t for t in TABLES if t in tables):
        columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        old_bands = table == "bands" and version < 4
        frame = (_v3_bands(docs) if old_bands else batch.frames()[table])[columns]  # v1: no series, no date
        if version >= 4:  # version 4 appended each batch sorted by its key
            frame = _in_key_order(table, frame)
        con.register("f", frame)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM f")
        con.unregister("f")
        counts[table] = len(frame)
    if 2 <= version < 4:  # version 4 wrote its own parameters
        for key, value in _V3_MINHASH.as_meta().items():
            con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])
    assert schema_version(con) == version
    con.close()
    return counts


@pytest.mark.parametrize("version,read_only", [(1, False), (1, True), (2, True), (3, True), (3, False), (4, True),
                                               (4, False)])
def test_a_store_of_an_earlier_schema_opens_after_migration(tmp_path, analysed, version, read_only):
    path = tmp_path / "old.duckdb"
    docs = _pages(analysed, "000", "001")
    counts = _old_store(path, docs, version)
    with HistoryStore.open(path, read_only=read_only) as s:
        assert s.version == SCHEMA_VERSION and s.minhash == DEFAULT_MINHASH
        # version 4 answers lookups from key-sorted tables: only the small index on pages is left
        assert {r[0] for r in s.con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()} == {"documents_id"}
        now = s.counts()
        assert {t: now[t] for t in counts if t != "bands"} == {t: n for t, n in counts.items() if t != "bands"}
        # band keys, clause keys and series keys were made from what the old version stored, as a
        # fresh ingest makes them
        fresh = batch_from_documents(docs)
        bands = s.table("bands")
        assert len(bands) == len(fresh.bands) and _rows(bands) == _rows(fresh.bands[list(bands.columns)])
        # version 3 kept no key length: every clause is keyed (a superset of a fresh ingest's keys)
        keys = s.table("clause_keys")
        assert _rows(keys) >= _rows(fresh.clause_keys[list(keys.columns)])
        assert len(keys) == (counts["clauses"] if version < 4 else len(fresh.clause_keys))
        # version 5's sentence keys come from the stored sentences that have band keys
        sentence_keys = s.table("sentence_keys")
        assert _rows(sentence_keys[["hash", "doc_id"]]) == _rows(fresh.sentence_keys[["hash", "doc_id"]])
        assert len(sentence_keys) > 100
        assert "publication_date" in s.table("documents").columns
        stored = [r[0] for r in s.con.execute("SELECT series FROM metrics").fetchall()]  # in storage order
        assert sorted(x for x in stored if x is not None) == sorted(int(x) for x in fresh.metrics["series"].dropna())
        assert stored == sorted(stored, key=lambda x: (x is None, x or 0))  # sorted by series, NULLs last
        assert s.earlier_figures({("洮南市总工会", "relief_funds")}, (2020, 2021))
    with HistoryStore.open(path) as s:  # and it takes new pages like any other store
        assert s.add(_pages(analysed, "002")).added


def _rows(frame: pd.DataFrame) -> set[tuple]:
    return set(map(tuple, frame.to_numpy().tolist()))


def test_key_sorted_tables_are_sorted_again_once_an_eighth_of_them_came_unsorted(tmp_path, analysed, monkeypatch):
    import auditor.history.store as store_module

    monkeypatch.setattr(store_module, "_MIN_UNSORTED", 1)
    path = tmp_path / "h.duckdb"
    tails = []
    with HistoryStore.open(path) as s:
        for n in ("003", "004", "000", "001", "002"):
            s.add(_pages(analysed, n))
            tails.append(int(dict(s.con.execute("SELECT key, value FROM meta").fetchall())["unsorted.bands"]))
            for table, key in store_module._CLUSTERED.items():
                values = [r[0] for r in s.con.execute(f"SELECT {key} FROM {table}").fetchall()]
                unsorted = int(dict(s.con.execute("SELECT key, value FROM meta").fetchall())[f"unsorted.{table}"])
                assert values[:len(values) - unsorted] == sorted(values[:len(values) - unsorted],
                                                                   key=lambda x: (x is None, x or 0))
                assert unsorted < max(1, len(values) // store_module._UNSORTED_SHARE) or unsorted == 0
        # 001 came after the last sort (under an eighth of the rows); with 002 the tail was sorted in
        assert tails == [0, 0, 0, tails[3], 0] and tails[3] > 0
        before = s.counts()
    with HistoryStore.open(path, read_only=True) as s:  # whole tables, nothing lost by the rewrites
        assert s.counts() == before and before["documents"] == 5
        assert s.con.execute("SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'bands' "
                             "AND constraint_type = 'NOT NULL'").fetchall()[0][0] == 3


# ---------------------------------------------------------------- what the rules ask

def test_earlier_figures_are_one_join_and_leave_out_the_audited_pages(store, analysed):
    store.add(_pages(analysed, "000", "001"))
    keys = {("洮南市总工会", "relief_funds"), ("洮南市总工会", "hardship_relief_people")}
    rows = store.earlier_figures(keys, (2015, 2021))
    texts = {(m.year, m.text) for m, _ in rows}
    assert {(2020, "28.74万元"), (2021, "28.74万元"), (2020, "84名"), (2021, "84人")} <= texts
    metric, where = next((m, w) for m, w in rows if m.text == "84名")
    assert where.document == analysed["001"].path and where.published == 2021
    assert analysed["001"].original[where.start:where.end] == "84名"
    mine = store.earlier_figures(keys, (2015, 2021), Exclusion.of([analysed["000"]]))
    assert {m.document for m, _ in mine} == {analysed["001"].path}
    assert store.earlier_figures(keys, (2000, 2010)) == []


def test_clause_places_count_pages_and_follow_runs(store, analysed):
    store.add(_pages(analysed, "000", "001"))
    shared = "将劳动光荣、知识崇高、人才宝贵、创造伟大的社会风尚融入了职工岗位工作实践"
    h = key_hash(fold_key(shared))
    unknown = key_hash("从未刊发过的句子")
    counts, places = store.clause_places([h, unknown])
    assert counts == {h: 2} and {p.doc_id for p in places[h]} == {0, 1}
    assert unknown not in places
    counts, places = store.clause_places([h], Exclusion.of([analysed["000"]]))
    assert counts == {h: 1}
    (where,) = places[h]
    info = store.documents_info([where.doc_id])[where.doc_id]
    assert info.path == analysed["001"].path and info.text[where.start:where.end] == shared
    clauses = store.clauses_of([where.doc_id])[where.doc_id]
    assert [c.ordinal for c in clauses] == sorted(c.ordinal for c in clauses)


def test_sentence_candidates_find_a_near_copy_by_band_keys(store):
    old = page("本报讯 2020年，洮南市总工会深入开展职工技能培训，全年组织各类培训班共计十二期，覆盖企业职工三千余人次。",
               "a/2020.txt")
    store.add([old])
    new = "本报讯 2021年，洮南市总工会深入开展职工技能培训，全年组织各类培训班共计十五期，覆盖企业职工三千余人次。"
    frame = store.sentence_candidates(store.band_queries([fold_key(new)]))
    assert len(frame) >= 1 and frame.iloc[0]["bands"] >= 1
    assert old.original[frame.iloc[0]["start"]:frame.iloc[0]["end"]] == old.original


def test_sentence_candidates_skip_stock_text_and_find_nothing_unrelated(store):
    line = "各级工会组织广泛开展职工技能培训和岗位练兵活动，全年累计培训职工三千余人次。"
    store.add([page(f"本报讯 {y}年，某县总工会召开全委会议。{line}", f"a/{y}.txt") for y in (2017, 2018, 2019)])
    query = store.band_queries([fold_key(line)])
    assert set(store.sentence_candidates(query, max_bucket=3)["doc_id"]) == {0, 1, 2}
    assert store.sentence_candidates(query, max_bucket=2).empty  # every band on 3 pages: stock text
    other = store.band_queries([fold_key("白城市总工会召开第十五届委员会第三次全体会议审议通过年度工作报告和经费审查报告")])
    assert store.sentence_candidates(other).empty


def test_series_and_entities(store, analysed):
    store.add(_pages(analysed, "000", "001"))
    assert store.entities("洮南") == ["洮南市总工会"]
    assert len(store.entities("总工会")) > 3
    series = store.series("洮南市总工会", "relief_funds")
    assert list(series["year"]) == sorted(series["year"]) and {2020, 2021} <= set(series["year"])
    assert set(series["metric"]) == {"relief_funds"}


# ---------------------------------------------------------------- export

def test_export_then_read_back_with_pandas_equals_the_store(tmp_path, store, analysed):
    store.add(_pages(analysed, "000", "001", "002"))
    out = tmp_path / "export"
    counts = store.export_parquet(out)
    assert counts == store.counts()
    assert {p.name for p in (out / "documents").iterdir()} == {"pub_year=0", "pub_year=2021", "pub_year=2022"}
    for table in TABLES:
        back = pd.read_parquet(out / table)
        assert back["pub_year"].astype(int).isin([0, 2021, 2022]).all()
        back = back.drop(columns=["pub_year"])
        back = back.sort_values(list(back.columns)[:4]).reset_index(drop=True)
        mine = store.table(table).sort_values(list(back.columns)[:4]).reset_index(drop=True)
        assert list(back.columns) == list(mine.columns)
        for col in mine.columns[mine.dtypes.map(lambda t: t.kind == "M")]:  # DATE comes back as datetime.date
            back[col] = pd.to_datetime(back[col]).astype(mine[col].dtype)
        pd.testing.assert_frame_equal(back, mine, check_dtype=False)
    with pytest.raises(HistoryError, match="not empty"):
        store.export_parquet(out)
    store.export_parquet(out, overwrite=True)


# ---------------------------------------------------------------- where the store is

def test_history_path_resolution(tmp_path, monkeypatch):
    from auditor.config import Config

    monkeypatch.chdir(tmp_path)
    assert history_path(Config()) == tmp_path / ".auditor" / "history.duckdb"
    assert history_path(Config(history="h.duckdb", source=str(tmp_path / "sub" / "auditor.toml"))) == \
        tmp_path / "sub" / "h.duckdb"
    assert history_path(Config(history="h.duckdb"), "given.duckdb").name == "given.duckdb"
    assert open_for_audit(Config()) is None  # no store file: no history, no error
