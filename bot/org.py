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
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from bot.errors import StartupError
from bot.platform import KNOWN_PLATFORMS


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

# The account namespaces a person may have in the org file: the platforms the bot speaks.
PLATFORMS = KNOWN_PLATFORMS
Platform = Literal["qq", "feishu"]


def _as_id(value: Any) -> Any:
    """Ids are strings (a Feishu open_id is "ou_…"); a QQ number written bare is a positive int."""
    if isinstance(value, bool):
        return value  # rejected by the str check below
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("应为正数")
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


Id = Annotated[str, BeforeValidator(_as_id), Field(min_length=1, max_length=64)]


def is_qq(value: str) -> bool:
    return value.isascii() and value.isdigit() and not value.startswith("0")


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
    # `qq: 30001` (the old form) or `accounts: {qq: 30001, feishu: ou_…}`: one account per
    # platform. The person's id in the bot's records is the QQ number, else the Feishu id.
    qq: Id | None = None
    accounts: dict[str, Id] = {}
    name: str = Field(min_length=1)
    department: str | None = None
    roles: list[Role] = []
    birthday: str | None = None

    @model_validator(mode="after")
    def _accounts(self) -> Person:
        accounts = dict(self.accounts)
        unknown = [k for k in accounts if k not in PLATFORMS]
        if unknown:
            raise ValueError(f"accounts 中的平台 {unknown[0]!r} 不认识（可用：" + "、".join(PLATFORMS) + "）")
        if self.qq is not None:
            if accounts.get("qq", self.qq) != self.qq:
                raise ValueError(f"qq {self.qq} 和 accounts.qq {accounts['qq']} 不一致")
            accounts["qq"] = self.qq
        if not accounts:
            raise ValueError("缺少账号（qq 或 accounts）")
        if "qq" in accounts and not is_qq(accounts["qq"]):
            raise ValueError(f"QQ 号 {accounts['qq']!r} 应为数字")
        object.__setattr__(self, "accounts", accounts)
        object.__setattr__(self, "qq", accounts.get("qq"))
        return self

    @property
    def id(self) -> str:
        """The person's id in the bot's records: QQ number if any, else the Feishu id."""
        return self.accounts.get("qq") or self.accounts["feishu"]

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
    platform: Platform = "qq"  # a QQ group number, or a Feishu chat id ("oc_…")
    name: str = Field(min_length=1)
    department: str | None = None
    moderators: list[Id] = []
    tags: list[str] = []

    @model_validator(mode="after")
    def _qq_number(self) -> Group:
        if self.platform == "qq" and not is_qq(self.id):
            raise ValueError(f"QQ 群号 {self.id!r} 应为数字（飞书群请写 platform: feishu）")
        return self


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
    """The validated organisation with indexes for the per-message role checks.

    People are keyed by their person id (`Person.id`); every method also takes any of a
    person's accounts (a Feishu open_id, a QQ number) and means the same person."""

    source: Path
    spec: OrgFile
    people: dict[str, Person] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    _base_roles: dict[str, frozenset[Role]] = field(default_factory=dict)
    _person_of: dict[str, str] = field(default_factory=dict)  # account -> person id
    _platform_of: dict[str, str] = field(default_factory=dict)  # account or group id -> platform

    @property
    def name(self) -> str:
        return self.spec.organisation

    @property
    def head(self) -> str:
        return self.person_of(self.spec.head)

    def person_of(self, user_id: str | int) -> str:
        """The person id of an account (any platform); an account nobody in the file has is
        its own id."""
        uid = str(user_id)
        return self._person_of.get(uid, uid)

    def same_person(self, a: str | int, b: str | int) -> bool:
        return self.person_of(a) == self.person_of(b)

    def platform_of(self, some_id: str | int) -> str:
        """The platform of an account, person id or group id: as the file says, else by its
        shape (a number is QQ; Feishu ids are not numbers)."""
        sid = str(some_id)
        known = self._platform_of.get(sid)
        if known is not None:
            return known
        return "qq" if is_qq(sid) else "feishu"

    def account_for(self, user_id: str | int, platform: str) -> str | None:
        """The person's account on `platform`, None when they have none there."""
        p = self.people.get(self.person_of(user_id))
        if p is not None:
            return p.accounts.get(platform)
        uid = str(user_id)
        return uid if self.platform_of(uid) == platform else None

    def person(self, user_id: str | int) -> Person | None:
        return self.people.get(self.person_of(user_id))

    def name_of(self, user_id: str | int, shown: str | None = None) -> str | None:
        """The org file's name, else `shown` (the group card or nickname the person goes by on
        the platform, at most 32 characters), else None."""
        p = self.person(user_id)
        if p is not None:
            return p.name
        return (shown or "").strip()[:NAME_CHARS] or None

    def display_name(self, user_id: str | int, shown: str | None = None) -> str:
        """`name_of`, else the account id: always something to show."""
        return self.name_of(user_id, shown) or str(user_id)

    def label(self, user_id: str | int, shown: str | None = None) -> str:
        """'张三（质量科）' for people in the org file, else `display_name`."""
        p = self.person(user_id)
        dept = self.departments.get(p.department) if p and p.department else None
        return f"{p.name}（{dept.name}）" if p and dept else self.display_name(user_id, shown)

    def roles_of(self, user_id: str | int, group_id: str | int | None = None) -> frozenset[Role]:
        uid = self.person_of(user_id)
        roles = self._base_roles.get(uid, frozenset())
        gid = None if group_id is None else str(group_id)
        if gid is not None and gid in self.groups:
            extra = {Role.worker}
            if uid in self.groups[gid].moderators:
                extra.add(Role.moderator)
            roles = roles | extra
        return roles

    def has_role(self, user_id: str | int, roles: Iterable[Role], group_id: str | int | None = None) -> bool:
        mine = self.roles_of(user_id, group_id)
        return Role.superuser in mine or any(r in mine for r in roles)

    def is_moderator_of(self, user_id: str | int, group_id: str | int) -> bool:
        return self.has_role(user_id, (Role.moderator,), group_id)

    def moderators_of(self, group_id: str | int) -> list[str]:
        """The group's own moderators, then those who moderate everywhere (person ids)."""
        group = self.groups.get(str(group_id))
        own = list(group.moderators) if group else []
        everywhere = [q for q, r in self._base_roles.items() if Role.moderator in r and q not in own]
        return own + everywhere

    def with_role(self, role: Role) -> list[str]:
        return [q for q, r in self._base_roles.items() if role in r]

    def groups_of(self, user_id: str | int) -> list[str]:
        """Groups of the org file the person is in, as far as the file tells: the groups of
        their department and those they moderate (a private message needs one, see NAPCAT.md)."""
        uid = self.person_of(user_id)
        person = self.people.get(uid)
        dept = person.department if person else None
        return [
            g.id for g in self.groups.values()
            if uid in g.moderators or (dept is not None and g.department == dept)
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
    person_of: dict[str, str] = {}
    platform_of: dict[str, str] = {}
    for p in spec.people:
        for platform, account in p.accounts.items():
            person_of[account] = p.id
            platform_of[account] = platform
    for g in spec.groups:
        platform_of.setdefault(g.id, g.platform)

    def pid(account: str) -> str:
        return person_of.get(account, account)

    # References in the file may name any of a person's accounts: stored as person ids.
    departments = [d.model_copy(update={"head": pid(d.head)}) if d.head else d for d in spec.departments]
    categories = [c.model_copy(update={"leader": pid(c.leader)}) for c in spec.categories]
    groups = [g.model_copy(update={"moderators": [pid(m) for m in g.moderators]}) for g in spec.groups]
    spec = spec.model_copy(update={
        "head": pid(spec.head), "superusers": [pid(q) for q in spec.superusers],
        "departments": departments, "categories": categories, "groups": groups,
    })
    people = {p.id: p for p in spec.people}
    base: dict[str, set[Role]] = {q: set(p.roles) for q, p in people.items()}
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
        _person_of=person_of,
        _platform_of=platform_of,
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
        accounts = node.get("accounts")
        if isinstance(accounts, dict) and accounts:
            key, value = next(iter(accounts.items()))
            return f"（{key} {value}）"
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
        ("groups", spec.groups, "id"),
    ):
        seen: set[Any] = set()
        for i, item in enumerate(items):
            value = getattr(item, key)
            if value in seen:
                yield f"{name}[{i}]（{key} {value}）：{key} 重复"
            seen.add(value)
    people: set[str] = set()
    for i, p in enumerate(spec.people):
        for platform, account in p.accounts.items():
            if account in people:
                yield f"people[{i}]{_who(p)}：{platform} 账号 {account} 重复"
            people.add(account)
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
            yield f"people[{i}]{_who(p)}：部门 {p.department!r} 未在 departments 中定义"
    for i, g in enumerate(spec.groups):
        if g.department is not None and g.department not in departments:
            yield f"groups[{i}]（id {g.id}）：部门 {g.department!r} 未在 departments 中定义"
        for m in g.moderators:
            if m not in people:
                yield f"groups[{i}]（id {g.id}）：管理员 {m} 不在 people 名单中"


def _who(p: Person) -> str:
    platform, account = next(iter(sorted(p.accounts.items(), key=lambda kv: PLATFORMS.index(kv[0]))))
    return f"（{platform} {account}）"
