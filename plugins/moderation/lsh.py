"""Compact MinHash LSH over numpy arrays: the near-copy part of the screening index.

datasketch kept a dict of byte strings per band per text (~10 KB a text). Here a text costs
its 64 band keys (uint32) with a row number each (int32), held for all texts in one array
sorted by key and looked up with np.searchsorted, plus a 128-byte sketch (the low byte of each
MinHash value) that estimates a candidate's similarity before any text is compared: ~650 bytes.

Hashing is fixed (no per-process salt), so the same text gets the same keys in every process:
- a character k-gram is packed into one uint64 (21 bits a code point, exact for k <= 3; longer
  grams are folded with splitmix64's finaliser);
- the `num_perm` MinHash functions are multiply-shift hashes (a*x + b) >> 32 with random odd
  `a`, applied to all grams at once (one numpy outer product per batch of texts);
- a band's two values are one uint64, hashed to a uint32 key by a multiply-shift of its own.

Big numpy operations release the GIL: `build` runs in a worker thread while the loop serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

_U = np.uint64
_M1, _M2, _GOLDEN = _U(0xBF58476D1CE4E5B9), _U(0x94D049BB133111EB), _U(0x9E3779B97F4A7C15)
_S27, _S30, _S31, _S32, _S21, _S42 = _U(27), _U(30), _U(31), _U(32), _U(21), _U(42)
# Grams hashed per numpy batch: bounds the temporary (grams x num_perm x 8 bytes, ~8 MB).
_BATCH_GRAMS = 8192


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser (a bijection of uint64 with good avalanche), in place."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


class Hasher:
    """Texts -> MinHash sketches and band keys."""

    def __init__(self, num_perm: int = 128, bands: int = 64, rows: int = 2, shingle: int = 3, seed: int = 7) -> None:
        if bands * rows > num_perm:
            raise ValueError("bands * rows must not exceed num_perm")
        self.num_perm, self.bands, self.rows, self.k = num_perm, bands, rows, shingle
        rng = np.random.default_rng(seed)
        self._a = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * _U(2) + _U(1)
        self._b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
        self._salt = _mix(np.arange(1, bands + 1, dtype=np.uint64) * _GOLDEN)
        self._band_a = rng.integers(0, 2**63, size=bands, dtype=np.uint64) * _U(2) + _U(1)

    def _grams(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The mixed k-gram codes of all texts, and where each text's grams start. Every text
        must have at least k characters."""
        k = self.k
        cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        ends = np.cumsum(lengths)
        m = len(cps) - k + 1
        codes = cps[:m].copy()
        for j in range(1, k):
            if k <= 3:
                codes <<= _S21
                codes |= cps[j : j + m]
            else:
                _mix(codes)
                codes ^= cps[j : j + m]
        # Drop the grams that straddle two texts: text i's grams start at ends[i-1] and number
        # lengths[i] - k + 1.
        keep = np.ones(m, dtype=bool)
        for j in range(1, k):
            cut = ends[:-1] - j
            keep[cut[cut >= 0]] = False
        counts = lengths - k + 1
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        return codes[keep], starts

    def sketch_one(self, text: str) -> np.ndarray:
        """`sketch([text])[0]` with fewer numpy calls (the per-message path)."""
        if self.k != 3:
            return self.sketch([text])[0]
        cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        codes = cps[:-2] << _S42
        codes |= cps[1:-1] << _S21
        codes |= cps[2:]
        values = np.multiply.outer(codes, self._a)
        values += self._b
        values >>= _S32
        return values.min(axis=0).astype(np.uint32)

    def sketch(self, texts: Sequence[str]) -> np.ndarray:
        """MinHash values, shape (len(texts), num_perm), uint32."""
        out = np.empty((len(texts), self.num_perm), dtype=np.uint32)
        i = 0
        while i < len(texts):
            # A batch of texts whose grams fit the temporary's bound (at least one text).
            j, grams = i, 0
            while j < len(texts) and (j == i or grams + len(texts[j]) <= _BATCH_GRAMS):
                grams += len(texts[j])
                j += 1
            codes, starts = self._grams(texts[i:j])
            values = np.multiply.outer(codes, self._a)
            values += self._b
            values >>= _S32
            out[i:j] = np.minimum.reduceat(values, starts, axis=0)
            i = j
        return out

    def band_keys(self, sketches: np.ndarray) -> np.ndarray:
        """Band keys, shape (n, bands), uint32, from sketches of shape (n, num_perm)."""
        n = len(sketches)
        if self.rows == 2:
            # A band's two 32-bit values side by side are one 64-bit value (a view, no copy);
            # a multiply-shift hash with the band's own multiplier makes it 32 bits.
            pairs = np.ascontiguousarray(sketches[:, : 2 * self.bands]).view(np.uint64)
            return ((pairs * self._band_a) >> _S32).astype(np.uint32)
        v = sketches[:, : self.bands * self.rows].astype(np.uint64).reshape(n, self.bands, self.rows)
        acc = np.broadcast_to(self._salt, (n, self.bands)).copy()
        for r in range(self.rows):
            acc ^= v[:, :, r]
            _mix(acc)
        return (acc >> _S32).astype(np.uint32)


def estimate(sketch8: np.ndarray, rows: np.ndarray, query8: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of the query to each row, from the 8-bit sketches (two
    unrelated values agree by chance one time in 256: corrected for)."""
    same = np.count_nonzero(sketch8[rows] == query8, axis=1) / sketch8.shape[1]
    return np.clip((same - 1 / 256) / (1 - 1 / 256), 0.0, 1.0)


class Bands:
    """Band key -> rows: one sorted array (`keys`, with `rows` alongside) plus a small dict for
    texts added since the last rebuild (a sorted insert would copy the whole array on the
    event loop). A directory by the keys' top bits (16 or more) narrows each look-up to a few
    adjacent entries: a binary search over millions of keys would touch a new cache line at
    each of its ~23 steps, for each of the 64 bands. With the directory, the slot says the top
    bits, so `keys` keeps only each key's low 16 bits: half the memory, half the cache misses."""

    def __init__(self) -> None:
        self.recent: dict[int, list[int]] = {}
        self.recent_rows = 0
        self.set_main(np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.int32))

    def set_main(self, keys: np.ndarray, rows: np.ndarray) -> None:
        self.keys, self.rows = keys, rows
        if len(keys) <= _SMALL:
            # Small enough to stay in the CPU's cache: a plain binary search is cheapest.
            self._dir, self._shift = np.zeros(0, dtype=np.uint32), np.uint32(0)
            self._seen, self._seen_shift = np.zeros(0, dtype=np.uint32), np.uint32(0)
            return
        self._build_seen(keys)
        # About 8 keys per directory slot (4 bytes a slot); 16 bits at least, so that the slot
        # and the low 16 bits kept make up the whole key.
        bits = int(min(24, max(16, np.ceil(np.log2(len(keys) / 8)))))
        shift = 32 - bits
        counts = np.zeros(1 << bits, dtype=np.int64)
        for i in range(0, len(keys), 1 << 20):  # in slices: no temporary as big as the keys
            counts += np.bincount(keys[i : i + (1 << 20)] >> np.uint32(shift), minlength=1 << bits)
        directory = np.zeros((1 << bits) + 1, dtype=np.uint32)
        np.cumsum(counts, out=directory[1:])
        low = np.empty(len(keys), dtype=np.uint16)
        for i in range(0, len(keys), 1 << 20):
            np.copyto(low[i : i + (1 << 20)], keys[i : i + (1 << 20)], casting="unsafe")  # low 16 bits
        self.keys, self._dir, self._shift = low, directory, np.uint32(shift)

    def _build_seen(self, keys: np.ndarray) -> None:
        """A bitmap of the keys' top bits (8 to 16 bits a key): most of a message's 64 band keys
        are in no bucket, and one bit read says so without touching the big arrays (a hit is
        then looked up as before; a false hit, ~1 in 10, only costs that look-up)."""
        bits = int(min(30, max(16, np.floor(np.log2(len(keys) * 16)))))
        shift = np.uint32(32 - bits)
        seen = np.zeros(1 << (bits - 5), dtype=np.uint32)
        for i in range(0, len(keys), 1 << 20):  # keys are sorted: so are their top bits
            top = np.unique(keys[i : i + (1 << 20)] >> shift)
            words = top >> np.uint32(5)
            vals = np.left_shift(np.uint32(1), (top & np.uint32(31)).astype(np.uint32))
            starts = np.flatnonzero(np.r_[True, words[1:] != words[:-1]])
            seen[words[starts]] |= np.bitwise_or.reduceat(vals, starts)
        self._seen, self._seen_shift = seen, shift

    def full_keys(self) -> np.ndarray:
        """The whole 32-bit keys of the sorted array (compaction only)."""
        if not len(self._dir):
            return self.keys
        slots = np.repeat(np.arange(len(self._dir) - 1, dtype=np.uint32), np.diff(self._dir))
        return (slots << self._shift) | (self.keys.astype(np.uint32) & ((np.uint32(1) << self._shift) - np.uint32(1)))

    def add(self, row: int, keys: np.ndarray) -> None:
        for key in keys.tolist():
            self.recent.setdefault(key, []).append(row)
        self.recent_rows += 1

    def merged(self, alive: np.ndarray, upto: int) -> tuple[np.ndarray, np.ndarray]:
        """The sorted arrays with the recent rows below `upto` merged in and dead rows left out
        (pure: the caller installs the result)."""
        keep = alive[self.rows]
        keys, rows = [self.full_keys()[keep]], [self.rows[keep]]
        extra_k: list[int] = []
        extra_r: list[int] = []
        for key, rs in list(self.recent.items()):
            for r in rs:
                if r < upto and alive[r]:
                    extra_k.append(key)
                    extra_r.append(r)
        keys.append(np.asarray(extra_k, dtype=np.uint32))
        rows.append(np.asarray(extra_r, dtype=np.int32))
        merged_k, merged_r = np.concatenate(keys), np.concatenate(rows)
        order = np.argsort(merged_k, kind="stable")
        return merged_k[order], merged_r[order]

    def install(self, keys: np.ndarray, rows: np.ndarray, upto: int) -> None:
        self.set_main(keys, rows)
        recent: dict[int, list[int]] = {}
        left = set()
        for key, rs in self.recent.items():
            later = [r for r in rs if r >= upto]
            if later:
                recent[key] = later
                left.update(later)
        self.recent, self.recent_rows = recent, len(left)

    def _spans(self, query: np.ndarray) -> tuple[list[int], list[int]]:
        """Where the query keys' entries start in `keys`, and how many there are, for the keys
        that have any (buckets only reads those)."""
        keys = self.keys
        if not len(self._dir):
            start = np.searchsorted(keys, query, "left")
            count = np.searchsorted(keys, query, "right") - start
            found = np.flatnonzero(count)
            return start[found].tolist(), count[found].tolist()
        top = query >> self._seen_shift
        hit = np.flatnonzero((self._seen[top >> np.uint32(5)] >> (top & np.uint32(31))) & np.uint32(1))
        if len(hit) <= _FEW:
            # The usual case (an ordinary message: none or a few keys pass the bitmap): a few
            # scalar look-ups cost less than the dozen numpy calls of the vectorised path.
            return self._spans_few(query[hit].tolist())
        return self._spans_many(query[hit])

    def _spans_few(self, query: list[int]) -> tuple[list[int], list[int]]:
        keys, directory, shift = self.keys, self._dir, int(self._shift)
        starts: list[int] = []
        counts: list[int] = []
        for key in query:
            slot = key >> shift
            lo, hi = int(directory[slot]), int(directory[slot + 1])
            if lo == hi:
                continue
            low = key & 0xFFFF
            inside = keys[lo:hi]
            left = int(np.searchsorted(inside, low, "left"))
            if left < hi - lo and int(inside[left]) == low:
                starts.append(lo + left)
                counts.append(int(np.searchsorted(inside, low, "right")) - left)
        return starts, counts

    def _spans_many(self, query: np.ndarray) -> tuple[list[int], list[int]]:
        keys = self.keys
        slot = query >> self._shift
        query = query.astype(np.uint16)  # the low 16 bits: what `keys` keeps
        lo = self._dir[slot].astype(np.intp)
        width = self._dir[slot + 1] - lo
        # Read each slot's few keys at once: adjacent entries, one or two cache lines.
        wide = width > _SCAN
        steps = _STEPS[: max(1, int(width[~wide].max(initial=0)))]
        # (A scan may run past the last key: clipped, and masked out by the slot's width.)
        same = keys[np.minimum(lo[:, None] + steps, len(keys) - 1)] == query[:, None]
        same &= steps < width[:, None]
        count = same.sum(axis=1)
        start = lo + same.argmax(axis=1)
        if wide.any():
            # A crowded slot (one key shared by many rows): a binary search inside the slot.
            for i in np.flatnonzero(wide).tolist():
                a, b = int(lo[i]), int(lo[i] + width[i])
                inside = keys[a:b]
                left = int(np.searchsorted(inside, query[i], "left"))
                start[i] = a + left
                count[i] = int(np.searchsorted(inside, query[i], "right")) - left
        found = np.flatnonzero(count)
        return start[found].tolist(), count[found].tolist()

    def buckets(self, query: np.ndarray) -> list[np.ndarray | list[int]]:
        """The non-empty buckets of the query's band keys."""
        out: list[np.ndarray | list[int]] = []
        if len(self.keys):
            rows = self.rows
            for s, n in zip(*self._spans(query), strict=True):
                out.append(rows[s : s + n])
        if self.recent:
            for key in query.tolist():
                rs = self.recent.get(key)
                if rs:
                    out.append(rs)
        return out


# Keys past the bitmap looked up one by one below this many (the vectorised path above).
_FEW = 12
# Directory slots wider than this are looked up by binary search instead of a scan.
_SCAN = 48
# Band arrays up to this many entries (~4,000 texts) use a plain binary search, no directory.
_SMALL = 1 << 18
_STEPS = np.arange(_SCAN, dtype=np.intp)


class Column:
    """A growable 1-D or 2-D numpy array (append one row at a time, amortised)."""

    def __init__(self, dtype: type, width: int = 0) -> None:
        self.width = width
        self._a: np.ndarray = np.zeros((16, width) if width else 16, dtype=dtype)
        self.n = 0

    @property
    def a(self) -> np.ndarray:
        return self._a[: self.n]

    def append(self, value: object) -> None:
        if self.n == len(self._a):
            grown = np.zeros((len(self._a) * 2, *self._a.shape[1:]), dtype=self._a.dtype)
            grown[: self.n] = self._a[: self.n]
            self._a = grown
        self._a[self.n] = value
        self.n += 1

    def adopt(self, values: np.ndarray) -> np.ndarray:
        """Take `values` as the whole content (no copy); returns it for filling in place."""
        self._a, self.n = values, len(values)
        return values

    def extend(self, values: np.ndarray) -> None:
        need = self.n + len(values)
        if need > len(self._a):
            grown = np.zeros((need, *self._a.shape[1:]), dtype=self._a.dtype)
            grown[: self.n] = self._a[: self.n]
            self._a = grown
        self._a[self.n : need] = values
        self.n = need

    def __getitem__(self, i: int) -> Any:
        return self._a[i]

    def __setitem__(self, i: int, value: object) -> None:
        self._a[i] = value


GONE, RUMOUR, INNOCENT = 0, 1, 2
# Recently added texts kept in dicts before `compact` merges them into the sorted arrays.
COMPACT_AT = 2000
# Texts hashed per batch while loading (each batch's band keys go straight into one array).
_LOAD_BATCH = 4096


class Corpus:
    """Indexed texts by row: normalised text, corpus key, kind, tag (the caller's number, the
    case that decided it), 8-bit sketch; and the look-ups by band key, exact text and key.

    Each look-up is a sorted array for the rows up to the last `compact` plus a dict for the
    rows added since; removal only marks the row gone (every look-up checks), `compact`
    drops gone rows.
    """

    def __init__(self, hasher: Hasher, min_len: int) -> None:
        self.h = hasher
        self.min_len = max(min_len, hasher.k)
        self.norms: list[str | None] = []
        self.ckey = Column(np.int64)
        self.tag = Column(np.int64)
        self.kind = Column(np.uint8)
        self.sk8 = Column(np.uint8, hasher.num_perm)
        self.bands = Bands()
        self.exact_hash = np.empty(0, dtype=np.int64)
        self.exact_rows = np.empty(0, dtype=np.int32)
        self.recent_exact: dict[str, list[int]] = {}
        self.key_sorted = np.empty(0, dtype=np.int64)
        self.key_rows = np.empty(0, dtype=np.int32)
        self.recent_keys: dict[int, int] = {}
        self.counts = [0, 0, 0]
        self.gone = 0
        self.compacted_upto = 0

    def nbytes(self) -> int:
        """Memory held for the texts: arrays (as allocated), the text objects and the dicts."""
        import sys

        arrays = [self.bands.keys, self.bands.rows, self.bands._dir, self.bands._seen, self.exact_hash, self.exact_rows,  # noqa: SLF001
                  self.key_sorted, self.key_rows]
        columns = [self.ckey, self.tag, self.kind, self.sk8]
        total = sum(a.nbytes for a in arrays) + sum(c._a.nbytes for c in columns)  # noqa: SLF001
        total += sys.getsizeof(self.norms) + sum(sys.getsizeof(t) for t in self.norms if t is not None)
        for d in (self.bands.recent, self.recent_exact, self.recent_keys):
            total += sys.getsizeof(d) + sum(sys.getsizeof(v) for v in d.values())
        return total

    # --- look-ups -------------------------------------------------------------------

    def row_of(self, key: int) -> int | None:
        kind = self.kind.a
        r = self.recent_keys.get(key)
        if r is not None and kind[r]:
            return r
        i = int(np.searchsorted(self.key_sorted, key))
        if i < len(self.key_sorted) and self.key_sorted[i] == key:
            r = int(self.key_rows[i])
            if kind[r]:
                return r
        return None

    def exact(self, norm: str) -> list[int]:
        """Rows (not gone) whose text is exactly this."""
        kind = self.kind.a
        out = [r for r in self.recent_exact.get(norm, ()) if kind[r]]
        hashes = self.exact_hash
        if len(hashes):
            h = hash(norm)
            i = int(np.searchsorted(hashes, h))
            while i < len(hashes) and hashes[i] == h:
                r = int(self.exact_rows[i])
                if kind[r] and self.norms[r] == norm:
                    out.append(r)
                i += 1
        return out

    def query(self, norm: str) -> tuple[np.ndarray, np.ndarray]:
        """A message's band keys and 8-bit sketch."""
        sk = self.h.sketch_one(norm)
        return self.h.band_keys(sk[None, :])[0], (sk & 0xFF).astype(np.uint8)

    # --- changes --------------------------------------------------------------------

    def add(self, key: int, norm: str, kind: int, tag: int) -> int:
        row = len(self.norms)
        if len(norm) >= self.min_len:
            sk = self.h.sketch([norm])
            self.sk8.append(sk[0] & 0xFF)
            self.bands.add(row, self.h.band_keys(sk)[0])
        else:
            self.sk8.append(0)
        self.norms.append(norm)
        self.ckey.append(key)
        self.tag.append(tag)
        self.kind.append(kind)
        self.recent_exact.setdefault(norm, []).append(row)
        self.recent_keys[key] = row
        self.counts[kind] += 1
        return row

    def remove(self, row: int) -> None:
        kind = int(self.kind[row])
        norm = self.norms[row]
        self.counts[kind] -= 1
        self.kind[row] = GONE
        self.norms[row] = None
        self.gone += 1
        key = int(self.ckey[row])
        if self.recent_keys.get(key) == row:
            del self.recent_keys[key]
        if norm is not None and norm in self.recent_exact:
            rows = [r for r in self.recent_exact[norm] if r != row]
            if rows:
                self.recent_exact[norm] = rows
            else:
                del self.recent_exact[norm]

    def load(self, keys: Sequence[int], norms: Sequence[str], kinds: Sequence[int], tags: Sequence[int]) -> None:
        """Fill an empty corpus at once (start-up, in a worker thread): the band keys go
        straight into the sorted array, with no per-text Python objects on the way."""
        assert not self.norms, "load() fills an empty corpus"
        n = len(norms)
        self.norms = list(norms)
        self.ckey.extend(np.asarray(keys, dtype=np.int64))
        self.tag.extend(np.asarray(tags, dtype=np.int64))
        kind = np.asarray(kinds, dtype=np.uint8)
        self.kind.extend(kind)
        for k in (RUMOUR, INNOCENT):
            self.counts[k] = int((kind == k).sum())
        sk8 = self.sk8.adopt(np.zeros((n, self.h.num_perm), dtype=np.uint8))
        long = np.fromiter((len(t) >= self.min_len for t in norms), dtype=bool, count=n)
        rows = np.flatnonzero(long)
        bands = self.h.bands
        # key << 32 | row, sorted in place: no argsort index (8 bytes an entry) on top.
        packed = np.empty(len(rows) * bands, dtype=np.uint64)
        for i in range(0, len(rows), _LOAD_BATCH):
            batch = rows[i : i + _LOAD_BATCH]
            sk = self.h.sketch([norms[r] for r in batch.tolist()])
            sk8[batch] = sk & 0xFF
            part = packed[i * bands : (i + len(batch)) * bands].reshape(len(batch), bands)
            part[:] = self.h.band_keys(sk)
            part <<= _S32
            part |= batch.astype(np.uint64)[:, None]
        del sk8
        packed.sort()
        m = len(packed)
        halves = packed.view(np.uint32)  # little-endian: row, key, row, key, ...
        band_keys = halves[1::2].copy()
        # The rows move to the front of the same buffer, which then shrinks to them: the peak
        # stays at the packed array plus the keys.
        step = 1 << 20
        for start in range(0, m, step):
            end = min(start + step, m)
            halves[start:end] = halves[2 * start : 2 * end : 2]
        del halves
        packed.resize((m + 1) // 2, refcheck=False)
        band_rows = packed.view(np.int32)[:m]
        del packed
        self.bands.set_main(band_keys, band_rows)
        self.install(self.prepare(n, with_bands=False), n)

    def needs_compacting(self) -> bool:
        return self.bands.recent_rows >= COMPACT_AT or len(self.recent_keys) >= COMPACT_AT or self.gone > max(COMPACT_AT, len(self.norms) // 10)

    def prepare(self, upto: int, *, with_bands: bool = True) -> dict[str, np.ndarray]:
        """The sorted arrays for rows below `upto` (pure; may run in a worker thread while the
        loop adds and removes texts: `install` keeps whatever came after `upto`)."""
        kind = self.kind.a[:upto].copy()
        alive = kind != GONE
        rows = np.flatnonzero(alive)
        norms = self.norms
        hashes = np.fromiter((hash(norms[r]) for r in rows.tolist()), dtype=np.int64, count=len(rows))
        order = np.argsort(hashes, kind="stable")
        out: dict[str, np.ndarray] = {"exact_hash": hashes[order], "exact_rows": rows[order].astype(np.int32)}
        ckeys = self.ckey.a[:upto][rows]
        order = np.argsort(ckeys, kind="stable")
        out |= {"key_sorted": ckeys[order], "key_rows": rows[order].astype(np.int32)}
        if with_bands:
            out["band_keys"], out["band_rows"] = self.bands.merged(alive, upto)
        return out

    def install(self, prepared: dict[str, np.ndarray], upto: int) -> None:
        """On the loop: switch to the prepared arrays; rows from `upto` on stay in the dicts."""
        self.exact_hash, self.exact_rows = prepared["exact_hash"], prepared["exact_rows"]
        self.key_sorted, self.key_rows = prepared["key_sorted"], prepared["key_rows"]
        if "band_keys" in prepared:
            self.bands.install(prepared["band_keys"], prepared["band_rows"], upto)
        self.recent_keys = {k: r for k, r in self.recent_keys.items() if r >= upto}
        recent_exact: dict[str, list[int]] = {}
        for norm, rs in self.recent_exact.items():
            later = [r for r in rs if r >= upto]
            if later:
                recent_exact[norm] = later
        self.recent_exact = recent_exact
        # Rows gone before `upto` have left the arrays.
        self.gone = int((self.kind.a[upto:] == GONE).sum())
        self.compacted_upto = upto
