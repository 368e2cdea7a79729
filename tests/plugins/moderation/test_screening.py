"""Screening without NoneBot: normalisation, phrases, near-copies, learning from dismissals,
the shipped lists, and the quality of matching on the labelled set."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from plugins.moderation.config import MAX_GROUP_POST, best_clarification, dedupe_sentences, fit, load_clarifications, load_lexicons
from plugins.moderation.normalise import normalise, shingles, strip_forward_marks
from plugins.moderation.screening import Params, Screener
from tests.data.make_screening_pairs import ORDINARY, RUMOURS, build

PAIRS = Path(__file__).resolve().parents[2] / "data" / "screening_pairs.jsonl"
RUMOUR = "听说从下个月开始绩效工资要砍掉一半，年终奖也取消了，人事科已经在做新表了"

# What the quality test holds the matcher to.
MIN_RECALL = 0.95
MAX_FPR = 0.01
MIN_RECALL_PER_KIND = 0.9


# --- normalisation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("转发：下个月工资减半！！", "下个月工资减半"),
        ("【转】下个月，工资减半。", "下个月工资减半"),
        ("[转] 下个月 工资 减半", "下个月工资减半"),
        ("［转］下个月工资减半", "下个月工资减半"),
        ("（转）下个月工资减半", "下个月工资减半"),
        ("转自质量科职工群：下个月工资减半", "下个月工资减半"),
        ("转自工会群 下个月工资减半", "下个月工资减半"),
        ("Fwd: 下个月工资减半", "下个月工资减半"),
        ("转：转发：【转】下个月工资减半", "下个月工资减半"),
        ("下个月工资减半（转）", "下个月工资减半"),
        ("下个月工资减半——转自某某群", "下个月工资减半"),
        ("轉發：下個月工資減半", "下个月工资减半"),
        ("下个月工资减半😱😱🔥", "下个月工资减半"),
        ("下个\u200b月工\u200b资减半", "下个月工资减半"),
        ("工资降３０％，ＡＢＣ", "工资降30abc"),
        ("傻 . 逼", "傻逼"),
        ("", ""),
        ("？！。……", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_forward_marks_only_at_the_ends() -> None:
    # "转发" in the middle of a sentence is content, not a marker.
    assert normalise("请大家转发给家属") == "请大家转发给家属"
    assert strip_forward_marks("转发:内容") == "内容"


def test_shingles() -> None:
    assert shingles("abcd") == {"abc", "bcd"}
    assert shingles("ab") == {"ab"}
    assert shingles("") == set()


# --- phrases -------------------------------------------------------------------------


def make_screener(*rumours: str) -> Screener:
    s = Screener()
    for i, r in enumerate(rumours, start=1):
        s.add(i, r, "rumour")
    return s


def test_banned_phrases_survive_disguise_and_respect_groups() -> None:
    s = Screener()
    s.add_phrase("傻逼", "abuse")
    s.add_phrase("内鬼", "banned", group_id="40002")
    assert s.add_phrase("傻", "abuse") is False  # one character would match inside words
    for text in ("你个傻逼", "你个傻 逼", "你个傻.逼😂", "你個傻逼"):
        hit = s.screen(text, "40001")
        assert hit is not None and hit.kind == "phrase" and hit.category == "abuse" and hit.detail == "傻逼"
    assert s.screen("他是内鬼", "40001") is None
    hit = s.screen("他是内鬼", "40002")
    assert hit is not None and hit.category == "banned"
    assert s.screen("今天开会", "40001") is None


def test_no_phrases_no_crash() -> None:
    assert Screener().screen("随便说点什么，下个月工资减半", "1") is None


def test_shipped_lexicons_leave_ordinary_chat_alone() -> None:
    s = Screener()
    phrases = load_lexicons()
    assert {c for _, c in phrases} >= {"abuse", "fraud"}
    for phrase, category in phrases:
        s.add_phrase(phrase, category)
    flagged = [m for m in ORDINARY if s.screen(m, "40001")]
    assert flagged == []
    assert s.screen("请大家今天下班前点击链接领取高温补贴", "40001") is not None


# --- near-copies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "转发：听说从下个月开始，绩效工资要砍掉一半！年终奖也取消了。人事科已经在做新表了！！！",  # prefix + punctuation
        "听说从下个月开始绩效工资要砍掉一伴，年终奖也取消了，人事科己经在做新表了",  # characters changed
        "大家看看是真的吗？从下个月开始绩效工资要砍掉一半，年终奖也取消了",  # excerpt + comment
        "人事科已经在做新表了，年终奖也取消了，听说从下个月开始绩效工资要砍掉一半",  # clauses reordered
        "轉發：聽說從下個月開始績效工資要砍掉一半，年終獎也取消了，人事科已經在做新表了",  # traditional
    ],
)
def test_near_copies_are_caught(variant: str) -> None:
    s = make_screener(RUMOUR, "明天上午全体职工到大会议室开会，不去的按旷工处理，要当场宣布裁员名单")
    hit = s.screen(variant)
    assert hit is not None and hit.kind == "rumour" and hit.key == 1


@pytest.mark.parametrize(
    "innocent",
    [
        "这个月的绩效工资什么时候发呀？",
        "人事科说新的绩效考核办法下个月会征求大家意见",
        "年终奖的事等正式通知吧，别瞎猜了",
        "收到",
    ],
)
def test_near_topic_chat_is_not_flagged(innocent: str) -> None:
    assert make_screener(RUMOUR).screen(innocent) is None


def test_exact_copy_of_a_short_rumour_is_caught_without_lsh() -> None:
    s = make_screener("食堂要关了")
    assert s.screen("转发：食堂要关了！") is not None
    assert s.screen("食堂要关门装修两天") is None


def test_dismissed_texts_are_not_flagged_again() -> None:
    debunk = "有人在传：下个月开始绩效工资要砍掉一半，年终奖也取消了。我问了人事科，这是假的！"
    s = make_screener(RUMOUR)
    assert s.screen(debunk) is not None  # it quotes the rumour in full
    s.add(100, debunk, "innocent")
    assert s.screen(debunk) is None  # the same text
    assert s.screen("转发：" + debunk) is None  # normalised the same
    assert s.screen(debunk.replace("假的", "谣言")) is None  # closer to the dismissed text
    assert s.screen("转发：" + RUMOUR) is not None  # the rumour itself still is


def test_removed_rumours_are_forgotten() -> None:
    s = make_screener(RUMOUR)
    assert s.remove(1) is True and s.remove(1) is False
    assert s.screen(RUMOUR) is None
    assert s.counts()["rumour"] == 0


def test_candidates_are_ranked_by_shared_bands() -> None:
    """The per-message cost is bounded by max_candidates however many rumours collide."""
    s = Screener(Params(max_candidates=3))
    base = "单位的绩效工资要砍掉一半，名单月底公布，大家赶紧去查一下"
    for i in range(50):
        s.add(i + 1, base + f"第{i}号", "rumour")
    checked: list[int] = []
    original = s.similarity

    def spy(norm, grams, other):  # type: ignore[no-untyped-def]
        checked.append(1)
        return original(norm, grams, other)

    s.similarity = spy  # type: ignore[method-assign]
    assert s.screen("转发：" + base) is not None
    assert len(checked) <= 3


def test_a_crowd_of_confirmed_variants_stays_cheap_and_still_matches() -> None:
    """Every confirmed variant joins the corpus, so one rumour can fill buckets with thousands
    of keys; counting stops at the budget, smallest buckets first, and the copy is still found."""
    import random

    from tests.data.make_screening_pairs import edit10

    rng = random.Random(3)
    s = Screener(Params(count_budget=500))
    for key in range(1, 3001):
        s.add(key, edit10(RUMOUR, rng), "rumour")
    counted: list[int] = []
    original = s._candidates

    def spy(hv, lsh):  # type: ignore[no-untyped-def]
        rows, counts = original(hv, lsh)
        counted.append(int(counts.sum()))
        return rows, counts

    s._candidates = spy  # type: ignore[method-assign]
    hit = s.screen("转发：" + RUMOUR.replace("，", "！"))
    assert hit is not None and hit.kind == "rumour"
    assert counted and counted[0] <= 500


def test_long_messages_are_screened_on_their_beginning() -> None:
    s = make_screener(RUMOUR)
    assert s.screen(RUMOUR + "啊" * 20_000) is not None
    assert s.screen("啊" * 20_000 + RUMOUR) is None


# --- clarifications ------------------------------------------------------------------


def test_best_clarification_matches_the_subject() -> None:
    options = load_clarifications()
    assert len(options) >= 3
    assert best_clarification(RUMOUR, options).name == "pay"  # type: ignore[union-attr]
    assert best_clarification("请大家点击链接填写银行卡号和身份证号领取补贴", options).name == "fake_notice"  # type: ignore[union-attr]
    assert best_clarification("今天天气不错", options) is None


def _sentences(text: str) -> list[str]:
    import re

    return [p.strip() for p in re.findall(r"[^。！？\n]+[。！？]?[”」]?", text) if p.strip()]


def test_shipped_clarifications_are_posted_whole_with_no_line_break_inside_a_sentence() -> None:
    """What the group reads: every sentence of the file, once; a line ends only where a
    sentence or a paragraph ends (the editor's line wrap is no break on a phone)."""
    for c in load_clarifications():
        posted = c.text()
        assert posted.startswith(f"【辟谣】{c.title}\n")
        assert len(posted) <= MAX_GROUP_POST
        for line in posted.splitlines()[1:]:
            assert line[-1] in "。！？”", (c.name, line)
        assert normalise(posted) == normalise(f"辟谣{c.title}{c.body}"), c.name  # nothing lost
        body = _sentences(posted)
        assert len(body) == len(set(body)), c.name
    benefits = next(c for c in load_clarifications() if c.name == "benefits").text()
    assert "经核实，职工带薪年休假按国家规定执行" in benefits  # was "经核实，\n职工带薪…"


def test_a_long_clarification_is_cut_at_a_sentence_end_or_not_posted(tmp_path: Path) -> None:
    sentence = "经核实，第{:03d}项安排没有调整，照常进行。"  # 24 characters, each different
    long_body = "".join(sentence.format(i) for i in range(100))  # 2,400 characters: over the limit
    (tmp_path / "long.md").write_text(f"---\ntitle: 说明\nkeywords: [工资, 绩效]\n---\n{long_body}\n", encoding="utf-8")
    (tmp_path / "endless.md").write_text("---\ntitle: 说明\nkeywords: [工资, 绩效]\n---\n" + "没有句号" * 600 + "\n", encoding="utf-8")
    [c] = load_clarifications(tmp_path)
    posted = c.text()
    assert c.name == "long" and len(posted) <= MAX_GROUP_POST and posted.endswith("照常进行。")
    assert MAX_GROUP_POST - len(posted) < len(sentence)
    assert fit("一句话。二句话！三句", 8) == "一句话。二句话！"
    assert fit("一句话没有结束", 3) is None
    assert fit("短的", 3) == "短的"


def test_the_same_sentence_is_not_posted_twice(tmp_path: Path) -> None:
    # A summary the body repeats; the note repeating the template's closing line.
    (tmp_path / "twice.md").write_text(
        "---\ntitle: 单位从不在群里要大家转账\nkeywords: [转账, 链接]\n---\n单位从不在群里要大家转账。遇到这类消息请先打电话核实。\n",
        encoding="utf-8",
    )
    [c] = load_clarifications(tmp_path)
    assert c.text() == "【辟谣】单位从不在群里要大家转账\n遇到这类消息请先打电话核实。"
    assert dedupe_sentences("【辟谣】说明\n工资照常发放。請以單位正式通知為準，不信謠、不傳謠！\n请以单位正式通知为准，不信谣不传谣。") == (
        "【辟谣】说明\n工资照常发放。請以單位正式通知為準，不信謠、不傳謠！"
    )
    # Short or merely similar sentences stay.
    assert dedupe_sentences("谢谢大家。\n请大家注意。谢谢大家配合。") == "谢谢大家。\n请大家注意。谢谢大家配合。"
    assert dedupe_sentences("第 1 项安排没有调整，照常进行。第 2 项安排没有调整，照常进行。").count("照常进行") == 2


# --- quality on the labelled set -----------------------------------------------------


def test_the_labelled_set_is_what_the_generator_makes() -> None:
    rows = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    assert rows == build(), "tests/data/screening_pairs.jsonl is stale: run tests/data/make_screening_pairs.py"
    assert len(rows) >= 300
    kinds = Counter(r["kind"] for r in rows)
    assert {"prefix_punct", "edit10", "excerpt60", "reorder", "ordinary", "near_topic", "other_rumour"} <= set(kinds)


def test_screening_quality_on_the_labelled_set(capsys: pytest.CaptureFixture[str]) -> None:
    """Pairwise: the index holds the pair's rumour only. Then the realistic case: every
    rumour of the set indexed at once, every ordinary message screened against all of them."""
    rows = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    by_kind: dict[str, list[bool]] = defaultdict(list)
    tp = fn = fp = tn = 0
    for row in rows:
        s = make_screener(row["rumour"])
        flagged = s.screen(row["candidate"]) is not None
        by_kind[row["kind"]].append(flagged)
        if row["label"]:
            tp, fn = tp + flagged, fn + (not flagged)
        else:
            fp, tn = fp + flagged, tn + (not flagged)
    recall = tp / (tp + fn)
    fpr = fp / (fp + tn)

    everything = make_screener(*RUMOURS)
    ordinary = [r["candidate"] for r in rows if r["kind"] in ("ordinary", "near_topic")]
    full_fp = sum(everything.screen(m) is not None for m in ordinary)
    copies = [r for r in rows if r["label"]]
    full_tp = sum(
        (h := everything.screen(r["candidate"])) is not None and h.key == RUMOURS.index(r["rumour"]) + 1 for r in copies
    )

    with capsys.disabled():
        print(f"\nscreening quality on {len(rows)} pairs: recall {recall:.3f} ({tp}/{tp + fn}), "
              f"false-positive rate {fpr:.3f} ({fp}/{fp + tn})")
        for kind, flags in sorted(by_kind.items()):
            print(f"  {kind:13} {sum(flags):3}/{len(flags):3} flagged")
        print(f"  all {len(RUMOURS)} rumours indexed: {full_tp}/{len(copies)} copies traced to their rumour, "
              f"{full_fp}/{len(ordinary)} ordinary messages flagged")

    assert recall >= MIN_RECALL
    assert fpr <= MAX_FPR
    for kind in ("prefix_punct", "edit10", "excerpt60", "reorder"):
        assert sum(by_kind[kind]) / len(by_kind[kind]) >= MIN_RECALL_PER_KIND, kind
    assert full_fp / len(ordinary) <= MAX_FPR
    assert full_tp / len(copies) >= MIN_RECALL


# --- the compact index ---------------------------------------------------------------


def loaded_screener(*rumours: str) -> Screener:
    """As the plugin builds it at start-up: every text at once (Screener.load)."""
    s = Screener()
    s.load(list(range(1, len(rumours) + 1)), [normalise(r) for r in rumours], ["rumour"] * len(rumours), [None] * len(rumours))
    return s


def test_the_loaded_index_finds_what_the_added_one_finds() -> None:
    """Start-up loads the corpus in one go; decisions later are added one by one. Both must
    trace every copy in the labelled set to its rumour and leave ordinary chat alone."""
    rows = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    loaded, added = loaded_screener(*RUMOURS), make_screener(*RUMOURS)
    for row in rows:
        a, b = loaded.screen(row["candidate"]), added.screen(row["candidate"])
        assert (a and a.key) == (b and b.key), row
        if row["label"]:
            assert a is not None and a.key == RUMOURS.index(row["rumour"]) + 1, row
        elif row["kind"] in ("ordinary", "near_topic"):
            assert a is None, row


def test_at_most_a_kilobyte_per_known_text() -> None:
    from bench.screening import synthetic_rumour

    n = 5000
    s = loaded_screener(*(synthetic_rumour(i) for i in range(1, n + 1)))
    per_text = s.corpus.nbytes() / n
    assert per_text <= 1024, per_text
    assert s.counts()["rumour"] == n
    assert s.screen("转发：" + synthetic_rumour(77)) is not None


def test_compacting_keeps_what_is_known_and_forgets_what_was_removed() -> None:
    """Texts added after start-up sit in small dicts until the index is compacted into its
    sorted arrays; removed ones are only marked until then. Screening is the same throughout."""
    from bench.screening import synthetic_rumour

    s = loaded_screener(*(synthetic_rumour(i) for i in range(1, 201)))
    s.add(1001, RUMOUR, "rumour", tag=7)
    s.add(1002, "今天食堂的红烧肉特别好吃，大家快去", "innocent")
    assert s.remove(5) and s.remove(1001)
    s.add(1001, RUMOUR, "rumour", tag=8)  # decided again: the same corpus key comes back
    before = [s.screen(t) for t in ("转发：" + synthetic_rumour(5), "转发：" + synthetic_rumour(6), "转发：" + RUMOUR)]
    corpus = s.corpus
    upto = len(corpus.norms)
    s.add(1003, "明天上午全体职工到大会议室开会，不去的按旷工处理，要当场宣布裁员名单", "rumour")  # while compacting
    corpus.install(corpus.prepare(upto), upto)
    assert not corpus.recent_keys.keys() - {1003} and corpus.bands.recent_rows == 1
    after = [s.screen(t) for t in ("转发：" + synthetic_rumour(5), "转发：" + synthetic_rumour(6), "转发：" + RUMOUR)]
    assert before == after
    assert after[0] is None and after[1] is not None and after[1].key == 6
    assert after[2] is not None and after[2].key == 1001 and s.tag_of(1001) == 8
    assert 5 not in s and 1001 in s and s.counts() == {"rumour": 201, "innocent": 1, "phrases": 0}
    assert s.screen("大家注意：明天上午全体职工到大会议室开会，不去的按旷工处理，要当场宣布裁员名单") is not None
    assert s.screen("今天食堂的红烧肉特别好吃，大家快去") is None


def test_band_look_ups_with_the_directory_find_exactly_the_rows_of_each_key() -> None:
    """A large index looks keys up through a bitmap and a directory (one by one for a few
    keys, vectorised for many): both must return exactly the rows a plain mapping holds."""
    import numpy as np

    from plugins.moderation import lsh

    rng = np.random.default_rng(3)
    n = lsh._SMALL + 5000  # past the plain binary search
    keys = rng.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32)
    keys[:3000] = keys[3000:6000]  # some keys shared by two rows, one by many
    keys[6000:6400] = keys[7000]
    order = np.argsort(keys, kind="stable")
    bands = lsh.Bands()
    bands.set_main(keys[order], order.astype(np.int32))
    truth: dict[int, set[int]] = {}
    for row, key in enumerate(keys.tolist()):
        truth.setdefault(key, set()).add(row)
    present = keys[rng.integers(0, n, size=200)]
    absent = rng.integers(0, 2**32, size=200, dtype=np.uint64).astype(np.uint32)
    for size in (1, 3, lsh._FEW, lsh._FEW + 1, 64):
        for i in range(0, 200, size):
            query = np.concatenate([present[i : i + size // 2 + 1], absent[i : i + size // 2]])[:size]
            query = np.concatenate([query, keys[[7000]]]) if i == 0 else query
            found = sorted(sorted(int(r) for r in b) for b in bands.buckets(query))
            expected = sorted(sorted(truth[k]) for k in set(query.tolist()) if k in truth)
            # A key asked twice gives its bucket twice.
            expected_all = sorted(sorted(truth[k]) for k in query.tolist() if k in truth)
            assert found == expected_all, (size, i, len(found), len(expected))
