"""Editing the organisation in the console: a person, a department's head, a category's leader
and keywords, a group's study settings. Every change goes through `bot.orgfile.edit`: the org
file stays the source, checked as at start-up, backed up, and in use at once."""

from __future__ import annotations

import re
from typing import Any

from bot import orgfile, runtime
from bot.org import Org, Person, Role
from plugins.console import roster

_WORDS = re.compile(r"[、,，;；\s]+")
ROLE_CHOICES = [Role.worker, Role.leader, Role.cadre, Role.moderator]


class EditError(Exception):
    pass


def _qq(raw: str, what: str) -> str | None:
    """A person picked from the page's list (their person id)."""
    raw = raw.strip()
    if not raw:
        return None
    if runtime.org().person(raw) is None:
        raise EditError(f"{what}请从列表里选。")
    return raw


async def save_person(qq: str, form: Any) -> Org:
    org = runtime.org()
    old = org.person(qq)
    if old is None:
        raise EditError("名单里没有这个人。")
    name = str(form.get("name", "")).strip()
    if not name:
        raise EditError("姓名不能为空。")
    dept = str(form.get("department", "")).strip() or None
    if dept is not None and dept not in org.departments:
        raise EditError("部门请从列表里选。")
    roles = [r for r in ROLE_CHOICES if form.get(f"role_{r.value}") == "1"] or [Role.worker]
    try:
        birthday = roster._birthday(str(form.get("birthday", "")).strip())
        person = Person(accounts=old.accounts, name=name, department=dept, roles=roles, birthday=birthday)
    except ValueError as e:
        raise EditError(str(e).split("Value error, ")[-1].split("\n")[0]) from None
    people = [person if p.id == old.id else p for p in org.spec.people]
    return await orgfile.write_people(people)


async def remove_person(qq: str) -> Org:
    org = runtime.org()
    gone = org.person(qq)
    if gone is None:
        raise EditError("名单里没有这个人。")
    return await orgfile.write_people([p for p in org.spec.people if p.id != gone.id])


async def save_department(dept_id: str, form: Any) -> Org:
    name = str(form.get("name", "")).strip()
    head = _qq(str(form.get("head", "")), "科室负责人")
    if not name:
        raise EditError("部门名称不能为空。")

    def mutate(data: Any) -> None:
        entry = orgfile.entry_list(data, "departments", "id").get(dept_id)
        if entry is None:
            raise EditError("没有这个部门。")
        entry["name"] = name
        if head is None:
            entry.pop("head", None)
        else:
            entry["head"] = orgfile.yaml_id(runtime.org().platform_of(head), head)

    return await orgfile.edit(mutate)


async def save_category(cat_id: str, form: Any) -> Org:
    leader = _qq(str(form.get("leader", "")), "负责领导")
    if leader is None:
        raise EditError("每个类别都要有负责的领导。")
    keywords = [w for w in _WORDS.split(str(form.get("keywords", ""))) if w]

    def mutate(data: Any) -> None:
        entry = orgfile.entry_list(data, "categories", "id").get(cat_id)
        if entry is None:
            raise EditError("没有这个类别。")
        entry["leader"] = orgfile.yaml_id(runtime.org().platform_of(leader), leader)
        if keywords:
            entry["keywords"] = keywords
        else:
            entry.pop("keywords", None)

    return await orgfile.edit(mutate)


async def save_group_study(group_id: str, form: Any) -> Org:
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    enabled = form.get("enabled") == "1"
    study: dict[str, Any] = {}
    if enabled:
        day = str(form.get("day", "")).strip()
        if not (day.isascii() and day.isdigit()):
            raise EditError("学习日请写 1 到 31 之间的数字。")
        # Quoted: unquoted 14:30 is a number (870) to the YAML 1.1 reader that loads the file.
        study = {"day": int(day), "time": DoubleQuotedScalarString(str(form.get("time", "09:00")).strip() or "09:00"),
                 "every": str(form.get("every", "monthly")), "holiday": str(form.get("holiday", "keep"))}

    def mutate(data: Any) -> None:
        entry = orgfile.entry_list(data, "groups", "id").get(group_id)
        if entry is None:
            raise EditError("没有这个群。")
        if not enabled:
            entry.pop("study", None)
            return
        block = CommentedMap(study)
        block.fa.set_flow_style()
        entry["study"] = block

    return await orgfile.edit(mutate)
