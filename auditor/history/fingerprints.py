"""Fingerprints of a page for the archive: clause and sentence hashes, MinHash band keys.

The archive never stores the keys themselves, only 64-bit hashes of them, so a lookup is a join
on one BIGINT column. The comparison form is the duplicate kind's own (`fold_key`: letters,
digits and decimal points) and the MinHash is its own (`minhash`), so a clause the in-audit rules
call a copy is a copy against the archive too.

Band keys are stored as 32 bits (`stored_band_keys`): a chance match of two unrelated sentences
in one band costs one verified candidate, never a finding (the rule compares the real text), and
the narrow sorted column packs to about a byte a row.

Offsets stored are into the ORIGINAL text, as every location auditor reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import blake2b
from typing import TYPE_CHECKING, Iterable, Sequence

from ..rules.kinds.duplicate import band_hashes, content_len, fold_key, minhash

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from ..pipeline import AnalysedDocument


@dataclass(frozen=True)
class MinHashParams:
    """How band keys are made. Stored in the archive's meta table: band keys made with other
    parameters cannot be compared, so a rule with different ones skips the archive.

    8 bands of 3 rows: on 2,705 mutated copies of the fixtures' sentences (1-3 characters
    changed) a near copy at n-gram Jaccard 0.7-0.8 shares a band 99.0% of the time, at 0.8-0.9
    99.8%, above that always (16 bands of 4 rows, version 3's: 99.8%, 100%, 100%, for twice the
    keys; 8 of 4: 93.6% at 0.7-0.8). See bench/bench_history.py --recall."""

    ngram: int = 5
    num_perm: int = 24
    bands: int = 8
    seed: int = 1
    # Sentences whose comparison form (letters and digits: fold_key) is shorter get no band keys.
    # Below about 20 a changed character leaves too few shared 5-grams for a near copy anyway (one
    # change in the middle of a sentence keeps Jaccard >= 0.7 only from about 33 characters on).
    min_chars: int = 20

    def as_meta(self) -> dict[str, str]:
        return {f"minhash.{k}": str(v) for k, v in self.__dict__.items()}

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> "MinHashParams":
        values = {k.split(".", 1)[1]: int(v) for k, v in meta.items() if k.startswith("minhash.")}
        return cls(**values)


DEFAULT_MINHASH = MinHashParams()


def key_hash(key: str) -> int:
    """A folded key as a signed 64-bit integer (DuckDB BIGINT). 64 bits: at 10^8 stored clauses
    a chance collision stays below one in a thousand audits."""
    return int.from_bytes(blake2b(key.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def text_hash(text: str) -> int | None:
    """The hash of a span's comparison form, or None when nothing is left to compare."""
    key = fold_key(text)
    return key_hash(key) if key else None


@dataclass(frozen=True, slots=True)
class UnitRow:
    """One clause or sentence of a page, as stored."""

    ordinal: int  # position among the page's clauses (or sentences): runs are consecutive ordinals
    sentence: int  # the sentence it belongs to (for a sentence: its own ordinal)
    paragraph: int
    article: int | None
    role: str
    start: int  # original offsets
    end: int
    hash: int
    chars: int  # content characters (duplicate.content_len)
    core: str  # the folded key, kept in memory for band keys; not stored


def unit_rows(doc: "AnalysedDocument") -> tuple[list[UnitRow], list[UnitRow]]:
    """(clauses, sentences) of every paragraph but page noise. Units whose folded key is empty
    (punctuation only) are left out; ordinals still count them, so a run never bridges one."""
    text = doc.norm.text
    clauses: list[UnitRow] = []
    sentences: list[UnitRow] = []
    n_clause = n_sentence = 0
    for p in doc.segmentation.paragraphs:
        if p.role == "noise":
            continue
        for s in p.sentences:
            sentences.extend(_row(doc, text, n_sentence, n_sentence, p.index, p.article, p.role, s.start, s.end))
            for c in s.clauses:
                clauses.extend(_row(doc, text, n_clause, n_sentence, p.index, p.article, p.role, c.start, c.end))
                n_clause += 1
            n_sentence += 1
    return clauses, sentences


def _row(doc, text: str, ordinal: int, sentence: int, paragraph: int, article: int | None, role: str,
         start: int, end: int) -> list[UnitRow]:
    span = text[start:end]
    key = fold_key(span)
    if not key:
        return []
    o_start, o_end = doc.norm.to_original(start, end)
    return [UnitRow(ordinal, sentence, paragraph, article, role, o_start, o_end, key_hash(key), content_len(span), key)]


def band_keys(cores: Sequence[str], params: MinHashParams = DEFAULT_MINHASH) -> "np.ndarray":
    """LSH band keys (len(cores) × bands, int64) of the MinHash signatures of `cores`.

    The keys are ``band_hashes`` (the in-audit near mode's own), so one BIGINT column holds every
    band and a lookup is one join. Every core must be at least `ngram` characters long."""
    import numpy as np

    if not cores:
        return np.empty((0, params.bands), dtype=np.int64)
    return band_hashes(minhash(list(cores), params.ngram, params.num_perm, params.seed), params.bands).view(np.int64)


def stored_band_keys(keys: "np.ndarray") -> "np.ndarray":
    """Band keys as the archive stores them: the high 32 bits (int32) of the 64-bit keys."""
    import numpy as np

    return (np.asarray(keys, dtype=np.int64) >> 32).astype(np.int32)


def band_cores(sentences: Iterable[UnitRow], params: MinHashParams = DEFAULT_MINHASH) -> list[UnitRow]:
    """The sentences that get band keys: long enough for a near copy to matter, and for n-grams.
    Length is the comparison form's (not content_len, which the rules may weigh otherwise): a
    sentence any near-copy rule asks about is at least as long there."""
    return [s for s in sentences if len(s.core) >= max(params.min_chars, params.ngram)]
