"""Screening one group message: banned phrases and near-copies of confirmed rumours.

Pure and synchronous (no database, no NoneBot): the plugin keeps one `Screener` per process,
filled from the database, and `bench/screening.py` and the quality test drive it directly.

Cost per message does not grow with the size of what is known:
- banned phrases: one Aho-Corasick automaton (pyahocorasick) over the normalised text, linear in
  the message, whatever the number of phrases;
- rumours: an exact-match look-up, then for messages of at least `min_len` characters a MinHash
  of the character 3-grams looked up band by band in a compact LSH index (plugins/moderation/
  lsh.py: sorted numpy arrays, one binary search for all bands). Candidates sharing at least
  `min_votes` bands are ranked by their similarity estimated from an 8-bit sketch, those below
  `min_estimate` dropped, and only the `max_candidates` best confirmed (exact 3-gram overlap and
  a rapidfuzz ratio). A large corpus makes the buckets fuller, which costs a count per colliding
  row, not a comparison, and at most `count_budget` of those.

numpy is imported with the first indexed text, not with this module: a bot with an empty corpus
does not pay for it at start.

Decisions learnt from moderators: confirmed rumours are indexed; dismissed texts ("not a
rumour") are indexed too, and a message is not flagged when it equals a dismissed text or is at
least as close to a dismissed text as to the rumour it resembles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import ahocorasick

from plugins.moderation.normalise import normalise, shingles

if TYPE_CHECKING:
    import numpy as np

    from plugins.moderation.lsh import Corpus

Kind = Literal["rumour", "innocent"]
_KIND = {"rumour": 1, "innocent": 2}

# Candidates (most shared bands first) whose similarity is estimated from their sketches.
SKETCHED = 64
# Texts longer than this are screened on their beginning only: a 10,000-character paste must
# not cost 10,000 characters of work, and a forwarded rumour is near the top.
MAX_SCREENED_CHARS = 1500


@dataclass(frozen=True)
class Params:
    """Matching parameters; the defaults are the ones the quality test holds to its thresholds."""

    shingle: int = 3
    num_perm: int = 128
    # 64 bands of 2 rows: a 60% excerpt with a comment (Jaccard about 0.4) still collides in
    # some band with near certainty; the rarer, unrelated collisions only cost a count.
    bands: int = 64
    rows: int = 2
    # Shorter normalised messages skip the LSH step (exact matches are still found).
    min_len: int = 10
    max_candidates: int = 8
    # A near-copy (Jaccard >= 0.4) collides in about 10 of the 64 bands; an unrelated text
    # sharing a word or two in one. Candidates with fewer shared bands are not compared.
    min_votes: int = 2
    # Keys counted per lookup at most (see Screener._candidates).
    count_budget: int = 2000
    # Candidates whose similarity (Jaccard of the 3-grams) estimated from the 8-bit sketch is
    # lower are not compared. Anything the confirmation below accepts on coverage and purity
    # has a Jaccard of at least 0.25 (and the LSH step rarely finds less).
    min_estimate: float = 0.12
    # Confirmation: how much of the rumour the message carries (coverage), how much of the
    # message is rumour (purity), and the shared 3-grams in absolute numbers.
    min_shared: int = 6
    min_coverage: float = 0.4
    min_purity: float = 0.4
    # rapidfuzz: a copy with some characters changed (Indel ratio, order-sensitive).
    min_ratio: float = 80.0


@dataclass(frozen=True)
class Hit:
    """Why a message was flagged."""

    kind: Literal["phrase", "rumour"]
    category: str  # "rumour", or the phrase list's category ("abuse", "fraud", "banned")
    detail: str  # the phrase as written in the list, or "" for rumours
    key: int | None = None  # corpus key of the rumour it copies
    score: float = 1.0


@dataclass(frozen=True)
class Similarity:
    shared: int
    coverage: float  # share of the rumour's 3-grams found in the message
    purity: float  # share of the message's 3-grams that come from the rumour
    ratio: float  # rapidfuzz ratio of the two normalised texts, 0-100

    @property
    def score(self) -> float:
        return max(min(self.coverage, self.purity), self.ratio / 100)



class Screener:
    def __init__(self, params: Params | None = None) -> None:
        self.p = params or Params()
        self._phrases = ahocorasick.Automaton()
        self._phrase_groups: dict[str, tuple[str, str, set[str] | None]] = {}
        self._phrases_ready = False
        self._corpus: Corpus | None = None  # created with the first text (imports numpy)

    # --- building ---------------------------------------------------------

    def add_phrase(self, phrase: str, category: str, group_id: str | None = None) -> bool:
        """A banned phrase for every group (group_id None) or for one group. False if it
        normalises to fewer than 2 characters (it would match inside ordinary words)."""
        norm = normalise(phrase)
        if len(norm) < 2:
            return False
        entry = self._phrase_groups.get(norm)
        if entry is None:
            self._phrase_groups[norm] = (phrase, category, None if group_id is None else {group_id})
        else:
            _, _, groups = entry
            if groups is not None:
                if group_id is None:
                    self._phrase_groups[norm] = (entry[0], entry[1], None)
                else:
                    groups.add(group_id)
        self._phrases_ready = False
        return True

    def clear_phrases(self) -> None:
        self._phrase_groups = {}

    def build_phrases(self) -> None:
        automaton = ahocorasick.Automaton()
        for norm, value in self._phrase_groups.items():
            automaton.add_word(norm, (norm, *value))
        if len(automaton):
            automaton.make_automaton()
        self._phrases = automaton
        self._phrases_ready = True

    @property
    def phrase_count(self) -> int:
        return len(self._phrase_groups)

    @property
    def corpus(self) -> Corpus:
        if self._corpus is None:
            from plugins.moderation.lsh import Corpus, Hasher

            p = self.p
            self._corpus = Corpus(Hasher(p.num_perm, p.bands, p.rows, p.shingle), p.min_len)
        return self._corpus

    def add(self, key: int, text: str, kind: Kind, *, normalised: bool = False, tag: int | None = None) -> bool:
        """Index a confirmed rumour or a dismissed text under its corpus key (idempotent).
        `tag`: a number kept with it for the caller (the plugin: the case that decided it)."""
        norm = text if normalised else normalise(text)
        if not norm or key in self:
            return False
        self.corpus.add(key, norm, _KIND[kind], -1 if tag is None else tag)
        return True

    def load(self, keys: Sequence[int], norms: Sequence[str], kinds: Sequence[Kind], tags: Sequence[int | None]) -> None:
        """Many normalised texts into an empty index at once (CPU-bound, releases the GIL for
        most of it: the plugin runs it in a worker thread). Empty texts and repeated keys are
        skipped as `add` would."""
        seen: set[int] = set()
        keep = [i for i, (k, t) in enumerate(zip(keys, norms)) if t and not (k in seen or seen.add(k))]  # type: ignore[func-returns-value]
        self.corpus.load(
            [keys[i] for i in keep], [norms[i] for i in keep], [_KIND[kinds[i]] for i in keep],
            [-1 if tags[i] is None else tags[i] for i in keep],  # type: ignore[misc]
        )

    def remove(self, key: int) -> bool:
        if self._corpus is None:
            return False
        row = self._corpus.row_of(key)
        if row is None:
            return False
        self._corpus.remove(row)
        return True

    def __contains__(self, key: int) -> bool:
        return self._corpus is not None and self._corpus.row_of(key) is not None

    def tag_of(self, key: int) -> int | None:
        row = None if self._corpus is None else self._corpus.row_of(key)
        if row is None:
            return None
        tag = int(self.corpus.tag[row])
        return None if tag < 0 else tag

    def counts(self) -> dict[str, int]:
        c = self._corpus.counts if self._corpus is not None else [0, 0, 0]
        return {"rumour": c[1], "innocent": c[2], "phrases": len(self._phrase_groups)}

    # --- screening --------------------------------------------------------

    def screen(self, text: str, group_id: str | None = None) -> Hit | None:
        """Why this message should go to the moderators, or None (the common case)."""
        norm = normalise(text[:MAX_SCREENED_CHARS])
        if len(norm) < 2:
            return None
        corpus = self._corpus
        if corpus is not None:
            rows = corpus.exact(norm)
            if rows:
                kinds = corpus.kind.a
                if any(kinds[r] == 2 for r in rows):
                    return None
                return Hit("rumour", "rumour", "", int(corpus.ckey[rows[0]]), 1.0)
        phrase = self.find_phrase(norm, group_id, normalised=True)
        if phrase is not None:
            return phrase
        return self.match_rumour(norm)

    def find_phrase(self, text: str, group_id: str | None = None, *, normalised: bool = False) -> Hit | None:
        if not self._phrases_ready:
            self.build_phrases()
        if not len(self._phrases):
            return None
        norm = text if normalised else normalise(text)
        for _end, (_norm, phrase, category, groups) in self._phrases.iter(norm):
            if groups is None or group_id in groups:
                return Hit("phrase", category, phrase)
        return None

    def match_rumour(self, norm: str) -> Hit | None:
        """The confirmed rumour this normalised message is a near-copy of, if any."""
        corpus = self._corpus
        if len(norm) < self.p.min_len or corpus is None or not corpus.counts[1]:
            return None
        grams = shingles(norm, self.p.shingle)
        keys, sketch = corpus.query(norm)
        best = self._best(norm, grams, keys, sketch, "rumour")
        if best is None:
            return None
        key, sim = best
        # Learnt from dismissals: as close (or closer) to a text moderators said is fine.
        if corpus.counts[2]:
            innocent = self._best(norm, grams, keys, sketch, "innocent")
            if innocent is not None and innocent[1].score >= sim.score:
                return None
        return Hit("rumour", "rumour", "", key, round(sim.score, 3))

    def similarity(self, norm: str, grams: set[str], other: str) -> Similarity:
        from rapidfuzz import fuzz  # with the first candidate: a bot with no corpus never needs it

        theirs = shingles(other, self.p.shingle)
        shared = len(grams & theirs)
        return Similarity(
            shared=shared,
            coverage=shared / len(theirs) if theirs else 0.0,
            purity=shared / len(grams) if grams else 0.0,
            ratio=fuzz.ratio(norm, other),
        )

    def accepts(self, sim: Similarity) -> bool:
        p = self.p
        if sim.shared < p.min_shared:
            return False
        if sim.ratio >= p.min_ratio:
            return True
        return sim.coverage >= p.min_coverage and sim.purity >= p.min_purity

    def _best(self, norm: str, grams: set[str], keys: np.ndarray, sketch: np.ndarray, kind: Kind) -> tuple[int, Similarity] | None:
        import numpy as np

        from plugins.moderation.lsh import estimate

        rows, counts = self._candidates(keys, kind)
        if not len(rows):
            return None
        corpus = self.corpus
        if len(rows) > SKETCHED:  # the most shared bands first, a bounded number
            top = np.argpartition(-counts, SKETCHED)[:SKETCHED]
            rows, counts = rows[top], counts[top]
        likely = estimate(corpus.sk8.a, rows, sketch)
        # Best estimates first; more shared bands break ties.
        order = np.lexsort((-counts, -likely))
        best: tuple[int, Similarity] | None = None
        for i in order[: self.p.max_candidates].tolist():
            if likely[i] < self.p.min_estimate:
                break
            row = int(rows[i])
            other = corpus.norms[row]
            if other is None:
                continue
            sim = self.similarity(norm, grams, other)
            if self.accepts(sim) and (best is None or sim.score > best[1].score):
                best = (int(corpus.ckey[row]), sim)
        return best

    def _candidates(self, keys: np.ndarray, kind: Kind) -> tuple[np.ndarray, np.ndarray]:
        """Rows of this kind sharing enough bands with the query, and how many each shares
        (arrays: `_best` ranks them with numpy, no dict in between).

        A large corpus fills some buckets with thousands of rows (a common phrase, or a
        cluster of confirmed variants of one rumour); counting them all would make the cost
        grow with the corpus. Past `count_budget` rows, the smallest buckets are counted first
        (the most specific bands) and the rest skipped; counts are then partial, so one shared
        band is enough to be compared (the similarity check decides).
        """
        import numpy as np

        corpus = self.corpus
        buckets = corpus.bands.buckets(keys)
        if not buckets:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        total = sum(len(b) for b in buckets)
        needed = self.p.min_votes
        if total > self.p.count_budget:
            needed = 1
            buckets.sort(key=len)
            chosen: list[np.ndarray | list[int]] = []
            left = self.p.count_budget
            for bucket in buckets:
                if len(bucket) > left:
                    if left == self.p.count_budget:  # even the most specific band is crowded
                        chosen.append(bucket[:left])
                    break
                chosen.append(bucket)
                left -= len(bucket)
            buckets = chosen
        code = _KIND[kind]
        if total <= 64:  # the usual case: a few small buckets, cheaper counted in Python
            kinds = corpus.kind.a
            votes: dict[int, int] = {}
            for bucket in buckets:
                for r in bucket.tolist() if isinstance(bucket, np.ndarray) else bucket:
                    votes[r] = votes.get(r, 0) + 1
            chosen_rows = [r for r, c in votes.items() if c >= needed and kinds[r] == code]
            if not chosen_rows:
                return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
            return np.asarray(chosen_rows, dtype=np.int64), np.asarray([votes[r] for r in chosen_rows], dtype=np.int64)
        rows, counts = np.unique(np.concatenate([np.asarray(b, dtype=np.int64) for b in buckets]), return_counts=True)
        keep = (corpus.kind.a[rows] == code) & (counts >= needed)
        return rows[keep], counts[keep]
