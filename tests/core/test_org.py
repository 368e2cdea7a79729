"""The org file: a good one loads with roles resolved; a bad one names file, entry and problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.errors import StartupError
from bot.org import Role, load_org

ROOT = Path(__file__).resolve().parents[2]
GOOD = yaml.safe_load((ROOT / "tests" / "data" / "org.yaml").read_text(encoding="utf-8"))


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def with_change(change) -> dict:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    change(data)
    return data


def test_roles_are_resolved_from_the_file() -> None:
    org = load_org(ROOT / "tests" / "data" / "org.yaml")
    assert Role.leader in org.roles_of(20002) and Role.cadre in org.roles_of(20002)
    assert Role.head in org.roles_of(20000)
    assert Role.superuser in org.roles_of(10001)
    # A category's leader is a leader even when the file forgot the role.
    assert Role.leader in org.roles_of(20004)
    # Anyone in a listed group is a worker there; the group's moderator moderates only there.
    assert org.roles_of(99999, 40001) == {Role.worker}
    assert Role.moderator in org.roles_of(20003, 40001)
    assert org.roles_of(99999) == frozenset()
    assert org.has_role(10001, [Role.cadre])  # superuser has every right


def test_names_shown_for_people_in_and_outside_the_org_file() -> None:
    org = load_org(ROOT / "tests" / "data" / "org.yaml")
    # The org file's name wins over whatever the person calls themselves in the group.
    assert org.name_of(30001, "小张🌟") == "张三" and org.label(30001) == "张三（质量科）"
    # Someone not in the file: the group card (trimmed), else the account id.
    assert org.name_of(99999, "  路人甲  ") == "路人甲" and org.name_of(99999, " ") is None
    assert org.name_of(99999, "长" * 40) == "长" * 32
    assert org.display_name(99999) == "99999" and org.label(99999, "路人甲") == "路人甲"


def test_example_org_file_is_valid() -> None:
    org = load_org(ROOT / "data" / "org.example.yaml")
    assert len(org.spec.departments) == 3
    assert len(org.spec.people) == 15
    assert len(org.spec.groups) == 3
    names = {c.name for c in org.spec.categories}
    assert names == {"工资福利", "职务职称晋升", "办公设备", "工作任务分配", "安全生产", "食堂后勤", "其他"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["people"][0].update(nickname="x"), ["people[0]", "qq 20000", "nickname", "未知的键"]),
        (lambda d: d["people"][5].update(department="nowhere"), ["people[5]", "qq 30001", "nowhere", "未在 departments 中定义"]),
        (lambda d: d["people"].append(dict(d["people"][0])), ["people[7]", "qq 20000", "重复"]),
        (lambda d: d["categories"][0].update(leader=55555), ["categories[0]", "id pay", "55555", "不在 people 名单中"]),
        (lambda d: d["groups"][0].update(moderators=[77777]), ["groups[0]", "id 40001", "77777"]),
        (lambda d: d.update(head=88888), ["head", "88888"]),
        (lambda d: d["people"][5].update(birthday="1995-02-30"), ["people[5]", "birthday", "不是有效日期"]),
        (lambda d: d["groups"][0]["study"].update(time="9点"), ["groups[0]", "study.time", "HH:MM"]),
        (lambda d: d["people"][1].update(roles=["boss"]), ["people[1]", "roles", "不是可用的值"]),
        (lambda d: d.update(categories=[c for c in d["categories"] if c["id"] != "other"]), ["other"]),
        (lambda d: d.update(unknown_section=1), ["unknown_section", "未知的键"]),
        (lambda d: d.update(timezone="Mars/Base"), ["timezone", "Mars/Base"]),
    ],
)
def test_bad_org_file_names_file_entry_and_problem(tmp_path: Path, change, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, with_change(change))
    with pytest.raises(StartupError) as info:
        load_org(path)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message, message


def test_unreadable_and_non_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="不存在"):
        load_org(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("people: [\n", encoding="utf-8")
    with pytest.raises(StartupError, match="不是有效的 YAML"):
        load_org(bad)
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(StartupError, match="顶层"):
        load_org(bad)


def test_the_study_ranking_can_be_switched_off_per_org(tmp_path: Path) -> None:
    from plugins.study.orgsection import options

    assert options(load_org(ROOT / "tests" / "data" / "org.yaml")).ranking is True
    org = load_org(write(tmp_path, with_change(lambda d: d.update(study={"ranking": False}))))
    assert options(org).ranking is False
    with pytest.raises(StartupError, match="study"):
        load_org(write(tmp_path, with_change(lambda d: d.update(study={"rankings": False}))))


def test_plugin_sections_are_registered_and_checked_with_the_rest_of_the_file(tmp_path: Path) -> None:
    from bot.org import GROUP_SECTIONS, ORG_SECTIONS
    from plugins.concerns.orgsection import policy_of
    from plugins.moderation.orgsection import moderation_of

    assert {"concerns", "study"} <= set(ORG_SECTIONS) and {"study", "moderation"} <= set(GROUP_SECTIONS)

    def bad_policy(d: dict) -> None:  # type: ignore[type-arg]
        d["groups"][0]["moderation"] = {"policy": "delete"}
        d["concerns"] = {"ack_days": 0}

    with pytest.raises(StartupError) as e:
        load_org(write(tmp_path, with_change(bad_policy)))
    message = str(e.value)
    assert "\n" not in message and message.startswith(f"组织文件 {tmp_path / 'org.yaml'} 有误：")
    assert "groups[0].moderation.policy" in message and 'policy 应为 "notify"' in message
    assert "concerns.ack_days" in message
    org = load_org(write(tmp_path, with_change(lambda d: d["groups"][0].update(moderation={"policy": "recall"}))))
    own = moderation_of(org.groups[str(GOOD["groups"][0]["id"])])
    assert own is not None and own.policy == "recall"
    assert policy_of(org).ack_days == 2  # absent: the plugin's defaults


def _with_people(*people: dict) -> dict:  # type: ignore[type-arg]
    """The test org file with `people` appended (a worker of the quality department each)."""
    return with_change(lambda d: d["people"].extend({"department": "quality", "roles": ["worker"], **p} for p in people))


def test_a_person_with_accounts_on_qq_and_feishu_is_one_person(tmp_path: Path) -> None:
    org = load_org(write(tmp_path, _with_people({"accounts": {"qq": 30009, "feishu": "ou_abc"}, "name": "吴九"})))
    assert org.person_of("ou_abc") == "30009" and org.person_of(30009) == "30009"
    assert org.account_for("30009", "feishu") == "ou_abc" and org.account_for("ou_abc", "qq") == "30009"
    assert org.same_person("ou_abc", 30009) and org.name_of("ou_abc") == "吴九"
    assert org.platform_of("ou_abc") == "feishu" and org.platform_of("30009") == "qq"


def test_the_old_qq_key_and_a_feishu_only_person(tmp_path: Path) -> None:
    org = load_org(write(tmp_path, _with_people({"accounts": {"feishu": "ou_x"}, "name": "郑十"})))
    # The old `qq:` key (every person of tests/data/org.yaml) still loads, as that QQ account.
    assert org.people["30001"].accounts == {"qq": "30001"} and org.person_of(30001) == "30001"
    assert org.account_for("30001", "qq") == "30001" and org.account_for("30001", "feishu") is None
    # Someone only on Feishu: their Feishu id is their id.
    assert org.person_of("ou_x") == "ou_x" and org.people["ou_x"].id == "ou_x"
    assert org.account_for("ou_x", "feishu") == "ou_x" and org.account_for("ou_x", "qq") is None


def test_one_account_in_two_people_is_refused_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, _with_people(
        {"accounts": {"qq": 30009, "feishu": "ou_abc"}, "name": "吴九"},
        {"accounts": {"feishu": "ou_abc"}, "name": "郑十"},
    ))
    with pytest.raises(StartupError) as info:
        load_org(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"组织文件 {path} 有误：")
    assert "people[8]" in message and "ou_abc" in message and "重复" in message, message
