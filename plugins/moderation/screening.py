"""Screening one group message: banned phrases and near-copies of confirmed rumours.

Pure and synchronous (no database, no NoneBot): the plugin keeps one `Screener` per process,
filled from the database, and `bench/screening.py` and the quality test drive it directly.

Cost per message does not grow with the size of what is known:
- banned phrases: one Aho-Corasick automaton (pyahocorasick) over the normalised text, linear in
  the message, whatever the number of phrases;
- rumours: an exact-match dict, then for messages of at least `min_len` characters a MinHash
  (datasketch) of the character 3-grams looked up band by band in a MinHash LSH index: a fixed
  number of dict lookups. Keys that collide in more bands are likelier near-copies, so only the
  `max_candidates` best with at least `min_votes` shared bands are confirmed (exact 3-gram
  overlap and a rapidfuzz ratio). A large corpus makes the buckets fuller, which costs a
  counter increment per colliding key, not a comparison, and at most `count_budget` of those.

Decisions learnt from moderators: confirmed rumours are indexed; dismissed texts ("not a
rumour") are indexed too, and a message is not flagged when it equals a dismissed text or is at
least as close to a dismissed text as to the rumour it resembles.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Literal

import ahocorasick
import numpy as np
from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz

from plugins.moderation.normalise import normalise, shingles

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
        self._mh = MinHash(num_perm=self.p.num_perm, seed=7, hashfunc=zlib.crc32)
        self._phrases = ahocorasick.Automaton()
        self._phrase_groups: dict[str, tuple[str, str, set[int] | None]] = {}
        self._phrases_ready = False
        # key -> normalised text, per kind
        self._texts: dict[int, str] = {}
        self._kind: dict[int, Literal["rumour", "innocent"]] = {}
        self._getters: dict[int, list[Callable[[bytes], set[int] | None]]] = {}
        self._rumour_exact: dict[str, int] = {}
        self._innocent_exact: dict[str, int] = {}
        self._rumours = self._new_lsh()
        self._innocent = self._new_lsh()

    # --- building ---------------------------------------------------------

    def _new_lsh(self) -> MinHashLSH:
        lsh = MinHashLSH(num_perm=self.p.num_perm, params=(self.p.bands, self.p.rows))
        # The band tables' lookups, once: the in-memory storage's dict.get when it has one
        # (a Python-level get() per band is a third of the lookup time), else its get().
        self._getters[id(lsh)] = [getattr(getattr(t, "_dict", None), "get", None) or t.get for t in lsh.hashtables]
        return lsh

    def add_phrase(self, phrase: str, category: str, group_id: int | None = None) -> bool:
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

    def add(self, key: int, text: str, kind: Literal["rumour", "innocent"], *, normalised: bool = False) -> bool:
        """Index a confirmed rumour or a dismissed text under its corpus key (idempotent)."""
        norm = text if normalised else normalise(text)
        if not norm or key in self._texts:
            return False
        self._texts[key] = norm
        self._kind[key] = kind
        (self._rumour_exact if kind == "rumour" else self._innocent_exact).setdefault(norm, key)
        if len(norm) >= self.p.min_len:
            lsh = self._rumours if kind == "rumour" else self._innocent
            lsh.insert(key, self._minhash(shingles(norm, self.p.shingle)), check_duplication=False)
        return True

    def remove(self, key: int) -> bool:
        norm = self._texts.pop(key, None)
        if norm is None:
            return False
        kind = self._kind.pop(key)
        exact = self._rumour_exact if kind == "rumour" else self._innocent_exact
        if exact.get(norm) == key:
            del exact[norm]
            # Another key with the same text keeps it known.
            for other, t in self._texts.items():
                if t == norm and self._kind[other] == kind:
                    exact[norm] = other
                    break
        lsh = self._rumours if kind == "rumour" else self._innocent
        if key in lsh.keys:
            lsh.remove(key)
        return True

    def __contains__(self, key: int) -> bool:
        return key in self._texts

    def counts(self) -> dict[str, int]:
        c = Counter(self._kind.values())
        return {"rumour": c.get("rumour", 0), "innocent": c.get("innocent", 0), "phrases": len(self._phrase_groups)}

    # --- screening --------------------------------------------------------

    def screen(self, text: str, group_id: int | None = None) -> Hit | None:
        """Why this message should go to the moderators, or None (the common case)."""
        norm = normalise(text[:MAX_SCREENED_CHARS])
        if len(norm) < 2 or norm in self._innocent_exact:
            return None
        key = self._rumour_exact.get(norm)
        if key is not None:
            return Hit("rumour", "rumour", "", key, 1.0)
        phrase = self.find_phrase(norm, group_id, normalised=True)
        if phrase is not None:
            return phrase
        return self.match_rumour(norm)

    def find_phrase(self, text: str, group_id: int | None = None, *, normalised: bool = False) -> Hit | None:
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
        if len(norm) < self.p.min_len or not self._rumour_exact:
            return None
        grams = shingles(norm, self.p.shingle)
        hv = self._minhash(grams).hashvalues
        best = self._best(norm, grams, hv, self._rumours)
        if best is None:
            return None
        key, sim = best
        # Learnt from dismissals: as close (or closer) to a text moderators said is fine.
        if self._innocent_exact:
            innocent = self._best(norm, grams, hv, self._innocent)
            if innocent is not None and innocent[1].score >= sim.score:
                return None
        return Hit("rumour", "rumour", "", key, round(sim.score, 3))

    def similarity(self, norm: str, grams: set[str], other: str) -> Similarity:
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

    def _best(self, norm: str, grams: set[str], hv: np.ndarray, lsh: MinHashLSH) -> tuple[int, Similarity] | None:
        votes, needed = self._candidates(hv, lsh)
        if not votes:
            return None
        best: tuple[int, Similarity] | None = None
        for key, count in votes.most_common(self.p.max_candidates):
            if count < needed:
                break
            other = self._texts.get(key)
            if other is None:
                continue
            sim = self.similarity(norm, grams, other)
            if self.accepts(sim) and (best is None or sim.score > best[1].score):
                best = (key, sim)
        return best

    def _candidates(self, hashvalues: np.ndarray, lsh: MinHashLSH) -> tuple[Counter[int], int]:
        """Keys sharing at least one band with the query, counted by shared bands, and the
        number of shared bands a candidate needs.

        Same band keys as MinHashLSH.query (the band's hash values byte-swapped), but one
        byteswap for all bands and a count per key, which ranks the candidates for free.
        A large corpus fills some buckets with thousands of keys (a common phrase, or a
        cluster of confirmed variants of one rumour); counting them all would make the cost
        grow with the corpus. Past `count_budget` keys, the smallest buckets are counted first
        (the most specific bands) and the rest skipped; counts are then partial, so one shared
        band is enough to be compared (the similarity check decides).
        """
        raw = hashvalues.byteswap().tobytes()
        width = self.p.rows * hashvalues.itemsize
        buckets = []
        total = 0
        for i, get in enumerate(self._getters[id(lsh)]):
            bucket = get(raw[i * width : (i + 1) * width])
            if bucket:
                buckets.append(bucket)
                total += len(bucket)
        votes: Counter[int] = Counter()
        if total <= self.p.count_budget:
            for bucket in buckets:
                votes.update(bucket)
            return votes, self.p.min_votes
        buckets.sort(key=len)
        left = self.p.count_budget
        for bucket in buckets:
            if len(bucket) > left:
                if left == self.p.count_budget:  # even the most specific band is crowded
                    votes.update(islice(bucket, left))
                break
            votes.update(bucket)
            left -= len(bucket)
        return votes, 1

    def _minhash(self, grams: set[str]) -> MinHash:
        # One MinHash reused (cleared) for every message: building one per message spends
        # more time validating the permutations than hashing. screen() is synchronous, so
        # nothing interleaves; the hash values handed out are a fresh array each time.
        m = self._mh
        m.clear()
        m.update_batch([g.encode("utf-8") for g in grams])
        return m
