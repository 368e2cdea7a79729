"""Render the example monthly report (docs/report-example.png) from a seeded month.

    python docs/report_example.py            # writes docs/report-example.png, prints the text
    python docs/report_example.py --xlsx /tmp/example.xlsx   # and the /导出 workbook

It runs the real code on an in-memory SQLite database with the example organisation
(data/org.example.yaml): November 2026 with concerns, replies, ratings, suggestions and
commendations, entered through the same service functions the commands call. Nothing is
sent anywhere (no bot is connected).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LIANXIN_ORG", str(ROOT / "data" / "org.example.yaml"))
os.environ.setdefault("LIANXIN_SECRET_KEY", "22" * 32)  # a throwaway key: never data/secret.key

CONCERNS = {
    "pay": [
        "这个月绩效工资比上个月少了三百元，工资条上没有说明", "加班费两个月没有发了，问了财务说还在走流程",
        "今年的取暖补贴什么时候发", "绩效工资的考核细则能不能公开一下", "下乡补贴标准好几年没有调整了",
        "公积金基数调整后工资条看不明白", "值班费标准和隔壁单位差得比较多", "绩效工资分配不透明，希望公开考核结果",
        "年终奖发放时间能不能提前通知", "出差报销流程太慢，垫付压力大", "绩效工资扣款没有提前告知",
        "工资条能不能每月发电子版", "加班费核算口径不清楚", "补贴发放时间不固定，影响家里安排",
    ],
    "canteen": [
        "食堂午饭菜价涨了不少，分量却少了", "食堂晚饭收得太早，加班的同事吃不上饭", "食堂饭菜太咸，希望清淡一点",
        "食堂饭卡充值只能现金，很不方便", "食堂能不能增加一些面食", "宿舍热水经常不热", "食堂菜品好几周都不换",
        "食堂餐具消毒能不能公示", "停车位太少，早上来晚了没地方停",
    ],
    "equipment": [
        "办公室打印机老是卡纸，耽误出文件", "执法记录仪电池不耐用，下午就没电", "办公电脑太旧，开个表格都卡",
        "检测设备该校准了", "会议室投影仪连不上电脑", "网速太慢，系统经常断网",
    ],
    "tasks": [
        "抽检任务分配不均，有的组忙得团团转", "值班排班总是同几个人", "下乡任务能不能提前一周通知",
        "工作量统计口径不一致", "节假日值班安排希望轮换",
    ],
    "promotion": ["职称评审的条件什么时候公布", "竞聘上岗的程序希望更公开", "评先评优名额分配有意见"],
    "safety": ["二楼灭火器过期了", "配电间门口堆了杂物，有安全隐患"],
    "other": ["单位门口路灯坏了好久", "希望组织一次体检", "工会活动能不能多一些", "办公楼电梯经常停"],
}
SUGGESTIONS = [
    "建议食堂推出加班晚餐预约，按需备餐减少浪费", "建议把绩效工资考核细则挂在内网公开", "建议打印机统一签维保合同",
    "建议下乡执法车辆统一调度，减少空跑", "建议食堂每周公布菜单", "建议值班表提前一个月公布并允许调换",
    "建议办公电脑分批更新，先换最旧的", "建议设立青年职工读书角", "建议食堂增加一个面食窗口",
    "建议执法记录仪配备备用电池", "建议食堂开通手机充值饭卡", "建议新职工入职配一名师傅带教",
    "建议食堂晚饭延长到七点，照顾加班的同事", "建议加班费按月结算", "建议食堂引入评价本，每月通报整改",
    "建议补贴发放时间固定在每月十号", "建议网络线路升级，避免系统断网", "建议食堂饭卡和门禁卡合一",
    "建议绩效工资考核结果按季度公示", "建议打印机旁放一台备用硒鼓", "建议报销改为线上审批，缩短周期",
    "建议执法车加装行车记录仪", "建议食堂周五提供外带便当", "建议电脑统一安装正版办公软件",
    "建议工资条增加绩效明细", "建议食堂每月征求一次菜品意见", "建议会议室预约上线",
    "建议取暖补贴和工资一起发", "建议复印机放在走廊公共区域", "建议值班室配备微波炉",
]
DEEDS = [
    (30003, "连续两周主动留下来帮大家整理抽检台账，毫无怨言"), (30004, "下乡检查途中帮助一位迷路的老人联系上家人"),
    (30007, "主动承担了节假日的值班任务，让有小孩的同事回家团圆"), (30002, "利用休息时间修好了办公室三台打印机"),
    (30006, "拾到群众遗失的钱包，第一时间联系失主归还"), (30001, "带着新同事熟悉业务，耐心讲解计量检定流程"),
    (30008, "连夜处置一起气瓶泄漏隐患，避免了事故"),
]


async def _visible(concern_id: int) -> None:
    """What the leader's digest slot does (the example has no bot to send the digest)."""
    from sqlalchemy import update

    from bot.db import session
    from plugins.concerns.models import Concern

    async with session() as s:
        await s.execute(update(Concern).where(Concern.id == concern_id).values(visible=True, notified=True))
        await s.commit()


async def seed(year: int = 2026, month: int = 11) -> None:
    from bot import clock, runtime
    from plugins.care import commend, suggest
    from plugins.concerns import intake, leader

    rng = random.Random(20261130)
    zone = clock.zone()
    org = runtime.org()
    leaders = {c.id: c.leader for c in org.spec.categories}
    user = 31000
    numbered: list[tuple[int, str, datetime]] = []
    for cat, texts in CONCERNS.items():
        # Pay and the canteen are what most people write about: twice the entries.
        for text in texts * (2 if cat in ("pay", "canteen") else 1):
            user += 1
            day = rng.randint(1, 26)
            when = datetime(year, month, day, rng.randint(8, 18), rng.randint(0, 59), tzinfo=zone)
            clock.set_now(when)
            done = await intake.submit(user_id=user, bot_id="10000", text=text, category=cat)
            numbered.append((done.concern_id, cat, when))
            await _visible(done.concern_id)
            if rng.random() < 0.12:  # a few stay untouched (overdue)
                continue
            clock.set_now(when + timedelta(hours=rng.randint(2, 40)))
            await leader.acknowledge(leaders[cat], str(done.concern_id))
            if rng.random() < 0.7:
                clock.set_now(when + timedelta(days=rng.randint(2, 9), hours=rng.randint(0, 8)))
                await leader.close(leaders[cat], str(done.concern_id), "已核实并处理，感谢反映。")
                await intake.rate(done.code, str(rng.choice([3, 4, 4, 5, 5, 5])))
    for i, text in enumerate(SUGGESTIONS):
        clock.set_now(datetime(year, month, 1 + i % 28, 10 + i // 28, tzinfo=zone))
        await suggest.submit(author=30001 + i % 8, author_name=None, group_id=None, text=text)
    cadre = org.with_role(__import__("bot.org", fromlist=["Role"]).Role.cadre)[0]
    for i, (nominee, deed) in enumerate(DEEDS):
        clock.set_now(datetime(year, month, 3 + 3 * i, 15, tzinfo=zone))
        done = await commend.nominate(
            nominator=30005 if nominee != 30005 else 30004, nominator_name=None, nominee=nominee, nominee_name=None, group_id=40001, deed=deed
        )
        clock.set_now(datetime(year, month, 4 + 3 * i, 9, tzinfo=zone))
        if i in (2, 5):
            await commend.reject(cadre, f"{done.id} 事迹请再具体一些")
        elif i != 6:
            await commend.approve(cadre, str(done.id))
    clock.set_now(datetime(year, month % 12 + 1, 1, 9, 0, tzinfo=zone) if month < 12 else datetime(year + 1, 1, 1, 9, 0, tzinfo=zone))


async def main() -> None:
    import nonebot
    from nonebot.adapters.onebot.v11 import Adapter
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import StaticPool

    from bot import app, db

    nonebot.init(driver="~fastapi", sqlalchemy_database_url="sqlite+aiosqlite://", log_level="WARNING")
    app.load_organisation()
    nonebot.get_driver().register_adapter(Adapter)
    app.load_plugins()
    from bot.models import Base
    from bot import runtime

    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    db.use_sessions(async_sessionmaker(engine))
    await seed()

    from bot import clock
    from plugins.reports import chart, report

    period = report.previous_month(clock.now())
    built = await report.build(period)
    print(report.render_text(built))
    out = ROOT / "docs" / "report-example.png"
    out.write_bytes(chart.render(built))
    print(f"\n-> {out.relative_to(ROOT)}")
    if len(sys.argv) > 2 and sys.argv[1] == "--xlsx":  # also the /导出 workbook, to look at
        from bot import runtime
        from plugins.reports import export

        Path(sys.argv[2]).write_bytes(export.render_xlsx(built, runtime.org().name))
        print(f"-> {sys.argv[2]}")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
