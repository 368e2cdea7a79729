"""Importing the roster from Excel or CSV: every row checked, nothing half-imported.

Columns by their Chinese headings (order free): 姓名, 账号 (or QQ/QQ号), 部门 (name or id),
角色 (职工、分管领导、政工干部、群管理员、一把手, several separated by 、), 生日 (1995-03-12,
1995/3/12, 农历1995-02-12, or an Excel date). People already in the org file are updated by
account; nobody is removed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from bot.org import ROLE_NAMES, Org, Person, Role, is_qq

MAX_ROWS = 5000
HEADINGS = {
    "姓名": "name", "名字": "name",
    "账号": "account", "qq": "account", "qq号": "account", "qq号码": "account",
    "部门": "department", "科室": "department",
    "角色": "roles", "身份": "roles",
    "生日": "birthday", "出生日期": "birthday",
}
ROLE_BY_NAME = {name: role for role, name in ROLE_NAMES.items() if role is not Role.superuser}
ROLE_BY_NAME |= {"领导": Role.leader, "干部": Role.cadre, "管理员": Role.moderator, "职员": Role.worker, "员工": Role.worker}
_SPLIT = re.compile(r"[、,，/；;\s]+")
_DATE = re.compile(r"^(农历)?\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class RosterError(Exception):
    """The file as a whole cannot be read (not a spreadsheet, no heading row…)."""


@dataclass
class Result:
    people: list[Person] = field(default_factory=list)  # the whole new list of people
    added: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number as Excel shows it, problem)


def read_rows(filename: str, data: bytes) -> list[list[Any]]:
    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - any unreadable workbook gets the same answer
            raise RosterError("这个 Excel 文件打不开，请确认是 .xlsx 格式（可在 Excel 里“另存为”）。") from None
        ws = wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    if name.endswith(".csv") or name.endswith(".txt"):
        for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterError("这个 CSV 文件的编码无法识别，请用 UTF-8 或 GBK 保存。")
        return [list(r) for r in csv.reader(io.StringIO(text))]
    raise RosterError("请上传 .xlsx 或 .csv 文件。")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _birthday(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    m = _DATE.match(_cell(value))
    if not m:
        raise ValueError(f"生日“{_cell(value)}”看不懂，请写成 1995-03-12 或 农历1995-02-12")
    return f"{m.group(1) or ''}{m.group(2)}-{int(m.group(3)):02d}-{int(m.group(4)):02d}"


def parse(rows: list[list[Any]], org: Org) -> Result:
    result = Result()
    # The heading row: the first row naming at least 姓名 and 账号.
    start = next((i for i, r in enumerate(rows[:10]) if {"name", "account"} <= {HEADINGS.get(_cell(c).lower()) for c in r}), None)
    if start is None:
        raise RosterError("没有找到表头。第一行请写：姓名、账号、部门、角色、生日（部门、角色、生日可以不填）。")
    columns = {HEADINGS[_cell(c).lower()]: j for j, c in enumerate(rows[start]) if _cell(c).lower() in HEADINGS}
    body = rows[start + 1 :]
    if len(body) > MAX_ROWS:
        raise RosterError(f"一次最多导入 {MAX_ROWS} 行，这个文件有 {len(body)} 行。")
    departments = {d.name: d.id for d in org.spec.departments} | {d.id: d.id for d in org.spec.departments}
    people = {p.id: p for p in org.spec.people}
    seen: dict[str, int] = {}
    for offset, row in enumerate(body):
        number = start + offset + 2  # as the spreadsheet numbers its rows
        get = lambda key: row[columns[key]] if key in columns and columns[key] < len(row) else None  # noqa: E731
        if not any(_cell(c) for c in row):
            continue
        problems: list[str] = []
        name = _cell(get("name"))
        if not name:
            problems.append("姓名没有填")
        account = _cell(get("account"))
        qq = account if is_qq(account) else None
        if qq is None:
            problems.append(f"账号“{account}”应为 QQ 号（数字）" if account else "账号没有填")
        elif qq in seen:
            problems.append(f"账号 {qq} 和第 {seen[qq]} 行重复")
        dept_raw = _cell(get("department"))
        dept = departments.get(dept_raw) if dept_raw else None
        if dept_raw and dept is None:
            problems.append(f"部门“{dept_raw}”不在组织文件里（现有：{'、'.join(d.name for d in org.spec.departments)}）")
        roles: list[Role] = []
        for word in _SPLIT.split(_cell(get("roles"))):
            if not word:
                continue
            if word not in ROLE_BY_NAME:
                problems.append(f"角色“{word}”不认识（可填：职工、分管领导、政工干部、群管理员、一把手）")
            elif ROLE_BY_NAME[word] not in roles:
                roles.append(ROLE_BY_NAME[word])
        birthday = None
        try:
            birthday = _birthday(get("birthday"))
        except ValueError as e:
            problems.append(str(e))
        if not problems and qq is not None:
            known = org.person(qq)  # the QQ number may belong to someone whose id is their Feishu id
            old = people.get(known.id if known is not None else qq)
            # A blank cell keeps what the org file says about someone already in it.
            if old is not None:
                dept = dept or old.department
                roles = roles or list(old.roles)
                birthday = birthday or old.birthday
            try:
                # Someone already in the file keeps their other accounts (Feishu).
                accounts = dict(old.accounts) | {"qq": qq} if old is not None else {"qq": qq}
                person = Person(accounts=accounts, name=name, department=dept, roles=roles or [Role.worker], birthday=birthday)
            except ValidationError as e:
                problems.append("；".join(str(err["msg"]).removeprefix("Value error, ") for err in e.errors()))
        if problems:
            result.errors.append((number, "；".join(problems)))
            continue
        assert qq is not None
        seen[qq] = number
        if person.id in people:
            result.updated += people[person.id] != person
        else:
            result.added += 1
        people[person.id] = person
    result.people = list(people.values())
    return result
