"""The organisation file (CONTRACT section 2): schema, validation and role lookups.

Validation is strict: unknown keys are errors, and every reference (department, leader,
moderator, head) must name something the file defines. Errors name the file, the entry and
the problem, in Chinese, for the deployer who edits the YAML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
import datetime as dt
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import StartupError


class Role(StrEnum):
    worker = "worker"
    leader = "leader"
    cadre = "cadre"
    moderator = "moderator"
    head = "head"
    superuser = "superuser"


ROLE_NAMES: dict[Role, str] = {
    Role.worker: "职工",
    Role.leader: "分管领导",
    Role.cadre: "政工干部",
    Role.moderator: "群管理员",
    Role.head: "主要负责人",
    Role.superuser: "系统管理员",
}

_BIRTHDAY = re.compile(r"^(农历)?(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

Id = Annotated[int, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Department(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    head: Id | None = None


class Category(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    leader: Id
    keywords: list[str] = []


class Person(_Strict):
    qq: Id
    name: str = Field(min_length=1)
    department: str | None = None
    roles: list[Role] = []
    birthday: str | None = None

    @field_validator("birthday")
    @classmethod
    def _birthday(cls, value: str | None) -> str | None:
        if value is None:
            return None
        m = _BIRTHDAY.match(value)
        if not m:
            raise ValueError('生日格式应为 "1995-03-12" 或 "农历1995-02-12"')
        month, day = int(m.group(3)), int(m.group(4))
        lunar = m.group(1) is not None
        if not (1 <= month <= 12 and 1 <= day <= (30 if lunar else 31)):
            raise ValueError(f"生日 {value} 不是有效日期")
        if not lunar:
            import datetime

            try:
                datetime.date(int(m.group(2)), month, day)
            except ValueError:
                raise ValueError(f"生日 {value} 不是有效日期") from None
        return value


class Study(_Strict):
    day: int = Field(default=5, ge=1, le=31)
    time: str = "09:00"
    # How often: monthly (the `day` of every month), biweekly (`day` and `day`+14 of every
    # month), quarterly (`day` of January, April, July, October). Chinese spellings accepted.
    every: str = "monthly"
    # keep: post on the day even on a weekend or holiday; next_workday: move to the next
    # working day by chinese-calendar (weekends only where it has no data for the year).
    holiday: str = "keep"

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError('时间格式应为 "HH:MM"，例如 "09:00"')
        return value

    @field_validator("every", mode="before")
    @classmethod
    def _every(cls, value: Any, info: Any) -> str:
        names = {"monthly": "monthly", "每月": "monthly", "biweekly": "biweekly", "每两周": "biweekly",
                 "quarterly": "quarterly", "每季度": "quarterly"}
        if not isinstance(value, str) or value.strip() not in names:
            raise ValueError("every 应为 monthly（每月）、biweekly（每两周）或 quarterly（每季度）")
        day = info.data.get("day", 5)
        # The second post of a biweekly month is day+14, which must exist in every month.
        if names[value.strip()] == "biweekly" and isinstance(day, int) and day > 14:
            raise ValueError(f"every: biweekly 时 day 应在 1–14 之间（第二次为 day+14 号），当前为 {day}")
        return names[value.strip()]

    @field_validator("holiday", mode="before")
    @classmethod
    def _holiday(cls, value: Any) -> str:
        names = {"keep": "keep", "不顺延": "keep", "next_workday": "next_workday", "顺延": "next_workday"}
        if not isinstance(value, str) or value.strip() not in names:
            raise ValueError("holiday 应为 keep（节假日照常推送）或 next_workday（顺延到下一个工作日）")
        return names[value.strip()]

    @property
    def at(self) -> dt.time:  # `time` here is the field above
        h, m = self.time.split(":")
        return time(int(h), int(m))


class Group(_Strict):
    id: Id
    name: str = Field(min_length=1)
    department: str | None = None
    study: Study | None = None
    moderators: list[Id] = []
    tags: list[str] = []

    class Moderation(_Strict):
        """Optional `moderation:` of a group (plugins/moderation); absent means the defaults."""

        # notify: tell the moderators; recall: recall the message as well, then tell them.
        policy: str = "notify"
        # Banned phrases for this group only, on top of the shipped lists in data/lexicons/.
        banned: list[str] = []
        # Warn ladder in minutes for the 1st, 2nd, 3rd… confirmed violation (0 = a warning
        # only); past the end the last step repeats. None = the plugin's default.
        ladder: list[int] | None = None

        @field_validator("policy")
        @classmethod
        def _policy(cls, value: str) -> str:
            if value not in ("notify", "recall"):
                raise ValueError('policy 应为 "notify"（只通知管理员）或 "recall"（撤回并通知）')
            return value

        @field_validator("banned")
        @classmethod
        def _banned(cls, value: list[str]) -> list[str]:
            if any(not p.strip() for p in value):
                raise ValueError("banned 中有空词")
            return value

        @field_validator("ladder")
        @classmethod
        def _ladder(cls, value: list[int] | None) -> list[int] | None:
            if value is not None and (not value or any(m < 0 or m > 43200 for m in value)):
                raise ValueError("ladder 应为分钟数的列表，每项 0 到 43200（30 天），0 表示只警告")
            return value

    moderation: Moderation | None = None


class ConcernPolicy(_Strict):
    """Deadlines and limits for anonymous concerns (all optional)."""

    ack_days: int = Field(default=2, ge=1, le=30)  # working days to acknowledge
    reply_days: int = Field(default=7, ge=1, le=60)  # working days from acknowledgement to a reply
    ack_ceiling_days: int = Field(default=7, ge=1, le=60)  # calendar days: acknowledged by then, whatever
    feedback_ceiling_days: int = Field(default=90, ge=7, le=365)  # calendar days: closed by then
    escalation_step_days: int = Field(default=1, ge=1, le=10)  # working days between escalation steps
    retention_days: int = Field(default=90, ge=1, le=3650)  # after closing: reply route destroyed, text purged
    digest_minutes: int = Field(default=30, ge=1, le=1440)  # leaders are told in batches on this tick
    daily_limit: int = Field(default=3, ge=1, le=100)  # concerns per person per day
    max_chars: int = Field(default=2000, ge=50, le=10000)


class StudySettings(_Strict):
    """Organisation-wide study options (all optional)."""

    # The public ranking (/排行) and the monthly 学习之星 post; each person still opts in.
    ranking: bool = True


class OrgFile(_Strict):
    organisation: str = Field(min_length=1)
    timezone: str = "Asia/Shanghai"
    superusers: list[Id] = []
    head: Id
    departments: list[Department] = []
    categories: list[Category] = Field(min_length=1)
    people: list[Person] = []
    groups: list[Group] = []
    concerns: ConcernPolicy = ConcernPolicy()
    study: StudySettings = StudySettings()


@dataclass(frozen=True)
class Org:
    """The validated organisation with indexes for the per-message role checks."""

    source: Path
    spec: OrgFile
    people: dict[int, Person] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    groups: dict[int, Group] = field(default_factory=dict)
    _base_roles: dict[int, frozenset[Role]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.organisation

    @property
    def head(self) -> int:
        return self.spec.head

    def person(self, user_id: int) -> Person | None:
        return self.people.get(user_id)

    def display_name(self, user_id: int) -> str:
        p = self.people.get(user_id)
        return p.name if p else str(user_id)

    def roles_of(self, user_id: int, group_id: int | None = None) -> frozenset[Role]:
        roles = self._base_roles.get(user_id, frozenset())
        if group_id is not None and group_id in self.groups:
            extra = {Role.worker}
            if user_id in self.groups[group_id].moderators:
                extra.add(Role.moderator)
            roles = roles | extra
        return roles

    def has_role(self, user_id: int, roles: Iterable[Role], group_id: int | None = None) -> bool:
        mine = self.roles_of(user_id, group_id)
        return Role.superuser in mine or any(r in mine for r in roles)

    def is_moderator_of(self, user_id: int, group_id: int) -> bool:
        return self.has_role(user_id, (Role.moderator,), group_id)

    def moderators_of(self, group_id: int) -> list[int]:
        """The group's own moderators, then those who moderate everywhere."""
        group = self.groups.get(group_id)
        own = list(group.moderators) if group else []
        everywhere = [q for q, r in self._base_roles.items() if Role.moderator in r and q not in own]
        return own + everywhere

    def with_role(self, role: Role) -> list[int]:
        return [q for q, r in self._base_roles.items() if role in r]

    def groups_of(self, user_id: int) -> list[int]:
        """Groups of the org file the person is in, as far as the file tells: the groups of
        their department and those they moderate (a private message needs one, see NAPCAT.md)."""
        person = self.people.get(user_id)
        dept = person.department if person else None
        return [
            g.id for g in self.groups.values()
            if user_id in g.moderators or (dept is not None and g.department == dept)
        ]

    def study_groups(self) -> list[Group]:
        return [g for g in self.groups.values() if g.study is not None]


def load_org(path: Path) -> Org:
    """Read and validate the org file; raise StartupError naming file, entry and problem."""
    where = f"组织文件 {path}"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StartupError(f"{where} 不存在（可用 LIANXIN_ORG 指定路径）") from None
    except (OSError, UnicodeDecodeError) as e:
        raise StartupError(f"{where} 无法读取：{e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        pos = f"第 {mark.line + 1} 行" if mark else ""
        raise StartupError(f"{where} 不是有效的 YAML {pos}：{getattr(e, 'problem', e)}") from None
    if not isinstance(raw, dict):
        raise StartupError(f"{where} 的顶层应是键值对（organisation、people、groups 等）")
    try:
        spec = OrgFile.model_validate(raw)
    except ValidationError as e:
        raise StartupError(f"{where} 有误：" + "；".join(_describe(raw, err) for err in e.errors()))
    problems = list(_cross_check(spec))
    if problems:
        raise StartupError(f"{where} 有误：" + "；".join(problems))
    return build_org(path, spec)


def build_org(path: Path, spec: OrgFile) -> Org:
    people = {p.qq: p for p in spec.people}
    base: dict[int, set[Role]] = {q: set(p.roles) for q, p in people.items()}
    for c in spec.categories:
        base.setdefault(c.leader, set()).add(Role.leader)
    base.setdefault(spec.head, set()).add(Role.head)
    for q in spec.superusers:
        base.setdefault(q, set()).add(Role.superuser)
    return Org(
        source=path,
        spec=spec,
        people=people,
        departments={d.id: d for d in spec.departments},
        categories={c.id: c for c in spec.categories},
        groups={g.id: g for g in spec.groups},
        _base_roles={q: frozenset(r) for q, r in base.items()},
    )


_MESSAGES = {
    "extra_forbidden": "未知的键（请检查拼写）",
    "missing": "缺少必填项",
    "int_parsing": "应为数字",
    "int_type": "应为数字",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "model_type": "应为键值对",
    "dict_type": "应为键值对",
    "greater_than": "应为正数",
    "too_short": "不能为空",
    "string_too_short": "不能为空",
    "enum": "不是可用的值",
}


def _describe(raw: Any, err: Any) -> str:
    loc = list(err["loc"])
    path = ""
    node: Any = raw
    label = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            label = _entry_label(node) or label
        else:
            path += ("." if path else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    msg = _MESSAGES.get(err["type"], err["msg"])
    if err["type"] == "value_error":
        msg = str(err["ctx"].get("error", err["msg"])) if err.get("ctx") else err["msg"]
    elif err["type"] == "enum":
        msg += "（可用：" + "、".join(r.value for r in Role) + "）"
    return f"{path}{label}：{msg}"


def _entry_label(node: Any) -> str:
    if isinstance(node, dict):
        for key in ("qq", "id", "name"):
            if key in node:
                return f"（{key} {node[key]}）"
    return ""


def _cross_check(spec: OrgFile) -> Iterable[str]:
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(spec.timezone)
    except Exception:
        yield f"timezone：未知时区 {spec.timezone!r}"
    for name, items, key in (
        ("departments", spec.departments, "id"),
        ("categories", spec.categories, "id"),
        ("people", spec.people, "qq"),
        ("groups", spec.groups, "id"),
    ):
        seen: set[Any] = set()
        for i, item in enumerate(items):
            value = getattr(item, key)
            if value in seen:
                yield f"{name}[{i}]（{key} {value}）：{key} 重复"
            seen.add(value)
    people = {p.qq for p in spec.people}
    departments = {d.id for d in spec.departments}
    if "other" not in {c.id for c in spec.categories}:
        yield "categories：必须有 id 为 other 的“其他”类别（无法归类的诉求交给它）"
    if spec.head not in people:
        yield f"head（{spec.head}）：不在 people 名单中"
    for i, d in enumerate(spec.departments):
        if d.head is not None and d.head not in people:
            yield f"departments[{i}]（id {d.id}）：负责人 {d.head} 不在 people 名单中"
    for i, c in enumerate(spec.categories):
        if c.leader not in people:
            yield f"categories[{i}]（id {c.id}）：leader {c.leader} 不在 people 名单中"
        for k in c.keywords:
            if not k.strip():
                yield f"categories[{i}]（id {c.id}）：keywords 中有空词"
    for i, p in enumerate(spec.people):
        if p.department is not None and p.department not in departments:
            yield f"people[{i}]（qq {p.qq}）：部门 {p.department!r} 未在 departments 中定义"
    for i, g in enumerate(spec.groups):
        if g.department is not None and g.department not in departments:
            yield f"groups[{i}]（id {g.id}）：部门 {g.department!r} 未在 departments 中定义"
        for m in g.moderators:
            if m not in people:
                yield f"groups[{i}]（id {g.id}）：管理员 {m} 不在 people 名单中"
