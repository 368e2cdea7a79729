"""A busy month for the report benchmarks: 2,000 people in 20 groups, 5,000 concerns and 50,000
check-ins in November 2026 (plus answers, suggestions and earlier open concerns).

`write_org(path)` writes the organisation file; `seed()` fills a migrated database through the
bot's models. Used by bench/stall.py and bench/reports.py; the clock is put in December, after
the monthly report's catch-up days, so no scheduled report runs during a measurement.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PEOPLE, GROUPS, CONCERNS, CHECKINS = 2000, 20, 5000, 50_000
CADRES = [20001, 20003]
NOW = "2026-12-10T10:00:00+08:00"
MONTH = "2026-11"
START = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # 1 November, 00:00 in Shanghai
NEXT_STEP = datetime(2026, 12, 14, 2, 0, tzinfo=UTC)

SUBJECTS = [
    "食堂饭菜太咸", "绩效工资发放不透明", "打印机经常卡纸", "执法车不够用", "值班排班不合理", "加班费一直没发",
    "宿舍热水不稳定", "职称评审标准不清楚", "电脑太旧运行很慢", "消防通道被杂物堵住", "停车位太少",
    "公积金缴存比例偏低", "下乡检查任务太重", "年休假很难批下来", "培训内容和实际工作脱节", "体检项目太少",
    "办公室空调坏了", "报销流程太繁琐", "抽检任务分配不均", "执法记录仪电池不耐用",
]
DETAILS = [
    "希望领导重视", "影响了正常工作", "已经反映过好几次", "大家意见都很大", "能不能尽快解决", "建议参考兄弟单位的做法",
    "年轻同志压力很大", "老同志也有同感", "最近一个月特别明显", "希望给个明确答复", "周末也经常这样", "新来的同事不知道找谁",
]


def write_org(path: Path) -> None:
    org = yaml.safe_load((ROOT / "data" / "org.example.yaml").read_text(encoding="utf-8"))
    departments = [d["id"] for d in org["departments"]]
    for i in range(PEOPLE - len(org["people"])):
        org["people"].append({"qq": 100_000 + i, "name": f"职工{i:04d}", "department": departments[i % len(departments)], "roles": ["worker"]})
    for g in range(GROUPS - len(org["groups"])):
        org["groups"].append({"id": 60_000 + g, "name": f"第{g + 1}工作群", "department": departments[g % len(departments)]})
    path.write_text(yaml.safe_dump(org, allow_unicode=True), encoding="utf-8")


def people() -> list[int]:
    return [100_000 + i for i in range(PEOPLE - 15)]


def groups() -> list[int]:
    return [40001, 40002, 40003] + [60_000 + g for g in range(GROUPS - 3)]


async def seed() -> None:
    from sqlalchemy import insert

    from bot.db import session
    from plugins.care.models import Suggestion
    from plugins.concerns.models import Concern
    from plugins.study.models import StudyCheckin, StudyPoints

    rng = random.Random(14)
    categories = ["pay", "promotion", "equipment", "tasks", "safety", "canteen", "other"]
    leaders = {"pay": 20002, "promotion": 20003, "equipment": 20001, "tasks": 20005, "safety": 20006, "canteen": 20001, "other": 20003}
    concerns = []
    for i in range(CONCERNS + 300):
        earlier = i >= CONCERNS  # still open from before the month: the overdue list
        created = (START - timedelta(days=rng.randrange(1, 120)) if earlier else START + timedelta(hours=rng.randrange(30 * 24)))
        cat = rng.choice(categories)
        ack = created + timedelta(hours=rng.randrange(1, 72)) if rng.random() < 0.8 else None
        closed = ack + timedelta(hours=rng.randrange(1, 240)) if ack and not earlier and rng.random() < 0.6 else None
        # About 100 characters, as people write them: a complaint, its context, what they want.
        text = "，".join(rng.choice(SUBJECTS if k % 2 == 0 else DETAILS) for k in range(7)) + f"。第{i}件"
        concerns.append({
            "receipt_digest": hashlib.sha256(f"r{i}".encode()).hexdigest(), "category": cat, "leader": leaders[cat],
            "text": text, "status": "closed" if closed else "acknowledged" if ack else "new", "created_at": created,
            "acknowledged_at": ack, "closed_at": closed, "level": rng.choice([0, 0, 1]) if not closed else 0,
            # Next escalation step after the benchmark's "now": the bot's start-up tick would
            # otherwise escalate thousands at once, and that, not the report, is what it measured.
            "next_step_at": None if closed else NEXT_STEP, "rating": rng.choice([None, 3, 4, 5]) if closed else None,
            "notified": True, "visible": True,
        })
    members, where = people(), groups()
    checkins = []
    for m in range(CHECKINS // len(members) + 1):
        for q in members:
            if len(checkins) >= CHECKINS:
                break
            checkins.append({"material_id": f"{MONTH}-m{m:02d}", "user_id": q, "group_id": where[q % len(where)],
                             "created_at": START + timedelta(minutes=rng.randrange(30 * 24 * 60))})
    answers = [{"user_id": q, "activity": "answer", "ref": f"{MONTH}-m00#{k}", "points": 1, "day": "2026-11-05", "month": MONTH,
                "created_at": START + timedelta(days=4, minutes=k)} for q in members[:1500] for k in range(3)]
    suggestions = [{"author": members[h], "category": rng.choice(categories), "leader": 20001, "text": f"建议{rng.choice(SUBJECTS)}的问题统一解决", "created_at": START + timedelta(hours=h)}
                   for h in range(0, 600, 3)]
    async with session() as s:
        for chunk in range(0, len(concerns), 1000):
            await s.execute(insert(Concern), concerns[chunk:chunk + 1000])
        for chunk in range(0, len(checkins), 5000):
            await s.execute(insert(StudyCheckin), checkins[chunk:chunk + 5000])
        await s.execute(insert(StudyPoints), answers)
        await s.execute(insert(Suggestion), suggestions)
        await s.commit()


async def add_concern(n: int) -> None:
    """One more concern in the month: the report's data changed."""
    from bot.db import session
    from plugins.concerns.models import Concern

    async with session() as s:
        s.add(Concern(receipt_digest=hashlib.sha256(f"extra{n}".encode()).hexdigest(), category="canteen", leader=20001,
                      text=f"食堂饭菜太咸，补充第{n}条", status="new", created_at=START + timedelta(days=20), notified=True, visible=True))
        await s.commit()
