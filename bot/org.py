"""The organisation file (CONTRACT section 2): schema, validation and role lookups.

Validation is strict: unknown keys are errors, and every reference (department, leader,
moderator, head) must name something the file defines. Errors name the file, the entry and
the problem, in Chinese, for the deployer who edits the YAML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

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
NAME_CHARS = 32  # a platform display name kept beside a record (group cards can be long)

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


class Group(_Strict):
    id: Id
    name: str = Field(min_length=1)
    department: str | None = None
    moderators: list[Id] = []
    tags: list[str] = []


class OrgFile(_Strict):
    organisation: str = Field(min_length=1)
    timezone: str = "Asia/Shanghai"
    superusers: list[Id] = []
    head: Id
    departments: list[Department] = []
    categories: list[Category] = Field(min_length=1)
    people: list[Person] = []
    groups: list[Group] = []


# Sections of the org file that belong to plugins (study, moderation, concerns): each plugin
# registers its model when imported, and load_org validates them with the rest of the file, with
# the same one-line errors. The file's format is the plugins' business; the core knows no section.
Section = _Strict  # the base for a section model: unknown keys are errors, values frozen
ORG_SECTIONS: dict[str, type[BaseModel]] = {}  # top level, e.g. `concerns:`; absent = defaults
GROUP_SECTIONS: dict[str, type[BaseModel]] = {}  # in a group, e.g. `study:`; absent = None
_model: type[OrgFile] | None = None


def register_section(name: str, model: type[BaseModel], *, per_group: bool = False) -> None:
    global _model
    (GROUP_SECTIONS if per_group else ORG_SECTIONS)[name] = model
    _model = None


def section(owner: BaseModel, name: str) -> Any:
    """A registered section of the org file (`owner.spec`) or of a group; None if unregistered
    (or, in a group, absent). Plugins wrap this in a typed accessor."""
    return getattr(owner, name, None)


def org_file_model() -> type[OrgFile]:
    """OrgFile with every registered section (built once per registration)."""
    global _model
    if _model is None:
        group = create_model("Group", __base__=Group, **{n: (m | None, None) for n, m in GROUP_SECTIONS.items()})  # type: ignore[call-overload]
        fields: dict[str, Any] = {n: (m, Field(default_factory=m)) for n, m in ORG_SECTIONS.items()}
        _model = create_model("OrgFile", __base__=OrgFile, groups=(list[group], []), **fields)  # type: ignore[valid-type]
    return _model


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

    def name_of(self, user_id: int, shown: str | None = None) -> str | None:
        """The org file's name, else `shown` (the group card or nickname the person goes by on
        the platform, at most 32 characters), else None."""
        p = self.people.get(user_id)
        if p is not None:
            return p.name
        return (shown or "").strip()[:NAME_CHARS] or None

    def display_name(self, user_id: int, shown: str | None = None) -> str:
        """`name_of`, else the account id: always something to show."""
        return self.name_of(user_id, shown) or str(user_id)

    def label(self, user_id: int, shown: str | None = None) -> str:
        """'张三（质量科）' for people in the org file, else `display_name`."""
        p = self.people.get(user_id)
        dept = self.departments.get(p.department) if p and p.department else None
        return f"{p.name}（{dept.name}）" if p and dept else self.display_name(user_id, shown)

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
        spec = org_file_model().model_validate(raw)
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
