"""The console's pages, served by the bot's own FastAPI app under /console.

Server-rendered with Jinja2 (autoescaping on: a concern's `<script>` shows as text); every page
is `no-store` and sends no Referer (the login link's token must not travel on); forms carry the
session's CSRF token; links inside the pages are relative, so the console also works behind a
reverse proxy under a path prefix (LIANXIN_CONSOLE_URL is the address the browser uses).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from jinja2 import Environment, FileSystemLoader, select_autoescape
from nonebot import logger
from sqlalchemy.exc import SQLAlchemyError

from bot import clock, offload, orgfile, runtime
from bot.errors import Refusal, StartupError
from bot.org import ROLE_NAMES, Role
from bot.platform import NotConnected
from plugins.concerns import leader
from plugins.console import auth, cases, clarify, library, orgedit, queue, roster
from plugins.study import materials, watch

router = APIRouter(prefix="/console")
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(default=True))
LEADERS = (Role.leader, Role.cadre, Role.head)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Everything is served by the bot itself: no script, style or image from anywhere else.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
}
UP = "../../"  # from /console/concerns/N/action
PEOPLE = (Role.cadre,)  # and superusers (Viewer.has)
STATUS = (Role.cadre,)  # as /状态
REPORTS = (Role.cadre, Role.head)  # as /月报
MAX_UPLOAD = 2 * 1024 * 1024
# Uploaded files are parsed in bot.offload's worker, where the plugin packages are namespaces.
OFFLOAD = ("plugins.console", "plugins.study")  # library.py reads plugins.study.materials
ACTIONS = {"ack": "受理", "reply": "答复", "close": "办结", "transfer": "转办"}


def page(name: str, status: int = 200, root: str = "./", **values: Any) -> HTMLResponse:
    """`root` is the relative way back to /console/ from the page's own address."""
    return HTMLResponse(_env.get_template(name).render(root=root, **values), status_code=status, headers=HEADERS)


def message(title: str, text: str, status: int = 200, viewer: auth.Viewer | None = None, root: str = "./") -> HTMLResponse:
    return page("message.html", status=status, root=root, title=title, text=text, viewer=viewer)


def _off() -> HTMLResponse:
    return message("工作台未开启", "管理员还没有开启工作台。", status=404)


def _login_again(root: str = "./") -> Response:
    return message("请重新登录", "登录已过期或已退出。请在 QQ 里私聊机器人发送 /工作台，获取新的登录链接。", status=401, root=root)


async def _viewer(request: Request) -> auth.Viewer | None:
    return await auth.viewer(request.cookies.get(auth.COOKIE))


Rule = Callable[[auth.Viewer], bool]


def _roles(*roles: Role) -> Rule:
    return lambda v: v.has(*roles)


def _moderator(v: auth.Viewer) -> bool:
    return cases.may_see(v.user_id)


async def _enter(request: Request, root: str = "./", may: Rule | None = None, refusal: str = "", *, off: bool = True) -> auth.Viewer | Response:
    """What every page checks first: the console is on (unless `off` is False), the session is
    valid, and the viewer `may` use the page (else `refusal`). The viewer, or the page to show."""
    if off and auth.base_url() is None:
        return _off()
    v = await _viewer(request)
    if v is None:
        return _login_again(root)
    if may is not None and not may(v):
        return message("没有权限", refusal, status=403, viewer=v, root=root)
    return v


async def _enter_form(
    request: Request, root: str = "./", may: Rule | None = None, refusal: str = "", *, off: bool = True, max_part_size: int | None = None
) -> tuple[auth.Viewer, FormData] | Response:
    """As `_enter`, for a form posted to the page: its CSRF token is checked before the rule."""
    v = await _enter(request, root, off=off)
    if isinstance(v, Response):
        return v
    form = await (request.form() if max_part_size is None else request.form(max_part_size=max_part_size))
    if not auth.csrf_ok(v, str(form.get("csrf", ""))):
        return message("页面已过期", "页面已过期，请返回刷新后再操作。", status=403, viewer=v, root=root)
    if may is not None and not may(v):
        return message("没有权限", refusal, status=403, viewer=v, root=root)
    return v, form


@router.get("/login")
async def login_page(token: str = "") -> Response:
    if auth.base_url() is None:
        return _off()
    if not token or not await auth.link_is_fresh(token):
        return message("链接已失效", "这个登录链接已经用过或已过期（10 分钟内有效，只能用一次）。请私聊机器人发送 /工作台 重新获取。", status=410)
    return page("login.html", title="登录工作台", token=token)


@router.post("/login")
async def login(request: Request) -> Response:
    if auth.base_url() is None:
        return _off()
    form = await request.form()
    opened = await auth.redeem(str(form.get("token", "")))
    if opened is None:
        return message("链接已失效", "这个登录链接已经用过或已过期（10 分钟内有效，只能用一次）。请私聊机器人发送 /工作台 重新获取。", status=410)
    response = RedirectResponse("./", status_code=303, headers=HEADERS)
    response.set_cookie(
        auth.COOKIE,
        opened.cookie,
        httponly=True,
        secure=auth.secure_cookie(),
        samesite="strict",
        path=auth.cookie_path(),
        max_age=auth.MAX_HOURS * 3600,
    )
    return response


@router.get("/")
async def home(request: Request) -> Response:
    v = await _enter(request)
    if isinstance(v, Response):
        return v
    names = "、".join(ROLE_NAMES[r] for r in Role if r in v.roles)
    return page("home.html", title="连心工作台", viewer=v, role_names=names, leader=v.has(*LEADERS), cadre=v.has(*PEOPLE),
                moderator=cases.may_see(v.user_id), can_status=v.has(*STATUS),
                reports=v.has(*REPORTS))


@router.get("/concerns")
async def concerns(request: Request, notice: str = "") -> Response:
    v = await _enter(request, "./", _roles(*LEADERS), "诉求只有负责的领导、政工干部和一把手可以查看。")
    if isinstance(v, Response):
        return v
    rows = await queue.open_for(v.user_id)
    return page("concerns.html", title="我的待办诉求", viewer=v, rows=rows, notice=notice)


@router.post("/concerns/{number}/{action}")
async def act(request: Request, number: int, action: str) -> Response:
    entered = await _enter_form(request, UP, lambda v: v.has(*LEADERS) and action in ACTIONS, "诉求只有负责的领导、政工干部和一把手可以处理。")
    if isinstance(entered, Response):
        return entered
    v, form = entered
    text = str(form.get("text", ""))
    try:
        if action == "ack":
            result = await leader.acknowledge(v.user_id, str(number))
        elif action == "reply":
            result = await leader.reply(v.user_id, str(number), text)
        elif action == "transfer":
            result = await leader.transfer(v.user_id, str(number), str(form.get("target", "")))
        else:
            result = await leader.close(v.user_id, str(number), text)
    except Refusal as e:
        # Nothing was changed: show the form again with the text kept.
        rows = await queue.open_for(v.user_id)
        return page("concerns.html", status=400, root=UP, title="我的待办诉求", viewer=v, rows=rows, notice=e.text, kept={number: text})
    except SQLAlchemyError as e:
        logger.error(f"console: database error {type(e).__name__}")
        return message("暂时无法保存", "系统暂时无法保存，这次没有处理。请稍后再试。", status=503, viewer=v, root=UP)
    await auth.audit(v.user_id, f"concern_{action}", f"#{number}")
    # Back to the list (a reload must not repeat the action); the notice holds no concern text.
    return RedirectResponse(f"{UP}concerns?{urlencode({'notice': result})}#c{number}", status_code=303, headers=HEADERS)


@router.post("/logout")
async def logout(request: Request) -> Response:
    entered = await _enter_form(request, off=False)
    if isinstance(entered, Response):
        return entered
    v, form = entered
    await auth.logout(v, everywhere=form.get("everywhere") == "1")
    response = message("已退出", "你已退出工作台。需要时请私聊机器人发送 /工作台 重新登录。")
    response.delete_cookie(auth.COOKIE, path=auth.cookie_path())
    return response


def _people_page(v: auth.Viewer, status: int = 200, root: str = "./", **values: Any) -> HTMLResponse:
    org = runtime.org()
    depts = {d.id: d.name for d in org.spec.departments}
    people = [
        {"qq": p.qq, "name": p.name, "department": depts.get(p.department or "", ""), "roles": "、".join(ROLE_NAMES[r] for r in p.roles)}
        for p in org.spec.people
    ]
    return page(
        "people.html", status=status, root=root, title="人员名单", viewer=v, people=people,
        problem=orgfile.state.problem, **values,
    )


@router.get("/people")
async def people(request: Request, notice: str = "") -> Response:
    v = await _enter(request, "./", _roles(*PEOPLE), "人员名单只有政工干部可以管理。")
    if isinstance(v, Response):
        return v
    return _people_page(v, notice=notice)


@router.post("/people/import")
async def import_people(request: Request) -> Response:
    up = "../"
    entered = await _enter_form(request, up, _roles(*PEOPLE), "人员名单只有政工干部可以管理。", max_part_size=MAX_UPLOAD)
    if isinstance(entered, Response):
        return entered
    v, form = entered
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return _people_page(v, status=400, root=up, errors=[], notice="请先选择要导入的 Excel 或 CSV 文件。")
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _people_page(v, status=400, root=up, errors=[], notice="文件太大（最多 2 MB），没有导入任何人。")
    try:
        # Reading a workbook is pure-Python CPU work: in the worker process, not on the loop.
        rows = await offload.run(roster.read_rows, upload.filename, data, packages=OFFLOAD)
        result = roster.parse(rows, runtime.org())
    except roster.RosterError as e:
        return _people_page(v, status=400, root=up, errors=[], notice=f"{e} 没有导入任何人。")
    if result.errors:
        notice = f"有 {len(result.errors)} 行需要修改，没有导入任何人。改好后请重新上传整个文件。"
        return _people_page(v, status=400, root=up, errors=result.errors, notice=notice)
    if not result.added and not result.updated:
        return RedirectResponse(f"{up}people?{urlencode({'notice': '文件里的人员和现在的名单一样，没有变化。'})}", status_code=303, headers=HEADERS)
    try:
        await orgfile.write_people(result.people)
    except StartupError as e:
        return _people_page(v, status=400, root=up, errors=[], notice=f"导入后组织文件会出错，没有导入：{e}")
    done = f"已导入：新增 {result.added} 人，更新 {result.updated} 人。马上生效，不用重启。"
    await auth.audit(v.user_id, "people_import", f"新增 {result.added}，更新 {result.updated}")
    return RedirectResponse(f"{up}people?{urlencode({'notice': done})}", status_code=303, headers=HEADERS)


# --- study materials (cadres) ----------------------------------------------------------------

QUIZ_BLOCKS = 5


def _schedule() -> list[dict[str, Any]]:
    """Each study group's next study day and what it will post, or that nothing is there yet."""
    from plugins.study.orgsection import study_groups, study_of
    from plugins.study.timing import next_occurrence

    org, lib, today = runtime.org(), materials.library(), clock.now().date()
    out = []
    for g in study_groups(org):
        study = study_of(g)
        assert study is not None
        occ = next_occurrence(study, today)
        if occ is None:
            continue
        ms = occ.materials(lib, g.tags)
        rule = "逢节假日顺延到下一个工作日" if study.holiday == "next_workday" else "节假日照常推送"
        out.append({"group": g.name, "day": f"{occ.day.month}月{occ.day.day}日 {occ.at:%H:%M}", "rule": rule,
                    "titles": "、".join(f"《{m.title}》" for m in ms)})
    return out


def _materials_page(v: auth.Viewer, status: int = 200, root: str = "./", draft: library.Draft | None = None, **values: Any) -> HTMLResponse:
    lib = materials.library()
    rows = sorted(lib.materials, key=lambda m: (m.period.start, m.id), reverse=True)
    draft = draft or library.Draft(period=f"{clock.now():%Y-%m}")
    blocks = max(QUIZ_BLOCKS, len(draft.quiz) + 1)
    quiz = [
        {"question": q.get("question", ""), "choices": "\n".join(str(c) for c in q.get("choices") or []),
         "answer": q.get("answer", ""), "explanation": q.get("explanation", "")}
        for q in draft.quiz
    ] + [{"question": "", "choices": "", "answer": "", "explanation": ""}] * (blocks - len(draft.quiz))
    return page(
        "materials.html", status=status, root=root, title="学习材料", viewer=v, materials=rows,
        schedule=_schedule(), draft=draft, quiz=quiz, problem=watch.state.problem, **values,
    )


@router.get("/materials")
async def materials_page(request: Request, notice: str = "") -> Response:
    v = await _enter(request, "./", _roles(*PEOPLE), "学习材料只有政工干部可以管理。")
    if isinstance(v, Response):
        return v
    return _materials_page(v, notice=notice)


def _draft_from_form(form: Any) -> library.Draft:
    quiz = []
    i = 0
    while f"q{i}_question" in form:
        question = str(form.get(f"q{i}_question", "")).strip()
        choices = [c.strip() for c in str(form.get(f"q{i}_choices", "")).splitlines() if c.strip()]
        answer = str(form.get(f"q{i}_answer", "")).strip()
        explanation = str(form.get(f"q{i}_explanation", "")).strip()
        if question or choices or answer:
            q: dict[str, Any] = {"question": question, "choices": choices, "answer": answer}
            if explanation:
                q["explanation"] = explanation
            quiz.append(library._answer_as_letter(q))
        i += 1
    return library.Draft(
        title=str(form.get("title", "")), period=str(form.get("period", "")), audience=str(form.get("audience", "")),
        summary=str(form.get("summary", "")), body=str(form.get("body", "")), quiz=quiz,
    )


@router.post("/materials")
async def save_material(request: Request) -> Response:
    entered = await _enter_form(request, "./", _roles(*PEOPLE), "学习材料只有政工干部可以管理。", max_part_size=MAX_UPLOAD)
    if isinstance(entered, Response):
        return entered
    v, form = entered
    draft = _draft_from_form(form)
    replace = form.get("replace") == "1"
    try:
        upload = form.get("file")
        if upload is not None and not isinstance(upload, str) and upload.filename:
            text = await offload.run(library.body_from_upload, upload.filename, await upload.read(MAX_UPLOAD), packages=OFFLOAD)
            draft = library.draft_from_markdown(text, draft) if upload.filename.lower().endswith(".md") else library.Draft(**{**draft.__dict__, "body": text})
        bank = form.get("bank")
        if bank is not None and not isinstance(bank, str) and bank.filename:
            questions, errors = await offload.run(library.quiz_from_sheet, bank.filename, await bank.read(MAX_UPLOAD), packages=OFFLOAD)
            if errors:
                notice = f"题库有 {len(errors)} 行需要修改，一道题也没有导入。"
                return _materials_page(v, status=400, draft=draft, notice=notice, errors=errors)
            draft.quiz = questions
        m = library.check(draft, replace=replace)
    except library.MaterialError as e:
        return _materials_page(v, status=400, draft=draft, notice=f"{e} 没有保存。", replace=replace)
    if form.get("do") != "save":
        from plugins.study.posting import group_post

        preview = {"post": group_post(m), "nodes": m.nodes(), "quiz": m.quiz}
        return _materials_page(v, draft=draft, preview=preview, replace=replace, notice="这是发到群里的样子。确认无误后点“保存”。")
    try:
        saved = library.save(draft, replace=replace)
    except library.MaterialError as e:
        return _materials_page(v, status=400, draft=draft, notice=f"{e} 没有保存。", replace=replace)
    await auth.audit(v.user_id, "material_save", saved.id)
    done = f"已保存《{saved.title}》（{saved.period.label}），马上生效。"
    return RedirectResponse(f"materials?{urlencode({'notice': done})}", status_code=303, headers=HEADERS)


@router.get("/materials/quiz-template.csv")
async def quiz_template(request: Request) -> Response:
    v = await _enter(request, UP, _roles(*PEOPLE), "学习材料只有政工干部可以管理。", off=False)
    if isinstance(v, Response):
        return v
    body = "\ufeff" + library.csv_template()  # Excel opens UTF-8 CSV with a BOM correctly
    return Response(body, media_type="text/csv; charset=utf-8", headers={**HEADERS, "Content-Disposition": "attachment; filename*=UTF-8''%E9%A2%98%E5%BA%93%E6%A8%A1%E6%9D%BF.csv"})


# --- moderation cases (moderators, cadres) ----------------------------------------------------


async def _cases_page(v: auth.Viewer, status: int = 200, root: str = "./", action: str = "", **values: Any) -> HTMLResponse:
    open_cases, appeals = await cases.lists(v.user_id)
    log = await cases.audit_log(v.user_id, action=action if action in service_actions() else "")
    return page(
        "cases.html", status=status, root=root, title="案件", viewer=v, cases=open_cases, appeals=appeals, log=log,
        actions=service_actions(), action=action, cadre=v.has(Role.cadre), **values,
    )


def service_actions() -> dict[str, str]:
    from plugins.moderation.audit import ACTION_NAMES

    return ACTION_NAMES


@router.get("/cases")
async def cases_page(request: Request, notice: str = "", action: str = "") -> Response:
    v = await _enter(request, "./", _moderator, "案件只有群管理员和政工干部可以查看。")
    if isinstance(v, Response):
        return v
    return await _cases_page(v, notice=notice, action=action)


@router.post("/cases/{number}/{decision}")
async def decide_case(request: Request, number: int, decision: str) -> Response:
    entered = await _enter_form(request, UP, lambda v: cases.may_see(v.user_id) and decision in cases.DECISIONS, "案件只有群管理员和政工干部可以处理。")
    if isinstance(entered, Response):
        return entered
    v, form = entered
    try:
        lines = await cases.decide(v.user_id, number, decision, str(form.get("note", ""))[:1000])
    except NotConnected:
        return message("暂时无法处理", "机器人现在没有连上 QQ，撤回和群里的说明都发不出去，这次没有处理。请稍后再试。", status=503, viewer=v, root=UP)
    except SQLAlchemyError as e:
        logger.error(f"console: database error {type(e).__name__}")
        return message("暂时无法保存", "系统暂时无法保存，这次没有处理。请稍后再试。", status=503, viewer=v, root=UP)
    await auth.audit(v.user_id, f"case_{decision}", f"#{number}")
    notice = "\n".join(lines) or "已处理。"
    return RedirectResponse(f"{UP}cases?{urlencode({'notice': notice})}#k{number}", status_code=303, headers=HEADERS)


# --- status (cadres, as /状态) ------------------------------------------------------------------


@router.get("/status")
async def status_page(request: Request, notice: str = "") -> Response:
    from bot import outbox
    from plugins.admin import data_source as admin

    v = await _enter(request, "./", _roles(*STATUS), "运行状态只有政工干部和系统管理员可以查看。")
    if isinstance(v, Response):
        return v
    org = runtime.org()
    unsure = [
        {"id": u.id, "what": admin.describe(org, u), "resend": not outbox.confidential(u.purpose)}
        for u in await outbox.unknown_sends()
    ]
    return page("status.html", title="运行状态", viewer=v, report=await admin.status_text(), unsure=unsure, notice=notice)


@router.post("/status/resend/{row}")
async def resend(request: Request, row: int) -> Response:
    from bot import outbox

    up = "../../"
    entered = await _enter_form(request, up, _roles(*STATUS), "只有政工干部和系统管理员可以重发。")
    if isinstance(entered, Response):
        return entered
    v, form = entered
    if form.get("checked") != "1":
        notice = "请先到群里或向收件人核实确实没有收到，勾选“已核实没有收到”后再重发，以免重复。"
        return RedirectResponse(f"{up}status?{urlencode({'notice': notice})}", status_code=303, headers=HEADERS)
    n = await outbox.resend_unknown([row])
    await auth.audit(v.user_id, "resend", f"outbox {row}")
    notice = "好的，已重新排队发送这条消息。" if n else "这条消息已经处理过了，没有重发。"
    return RedirectResponse(f"{up}status?{urlencode({'notice': notice})}", status_code=303, headers=HEADERS)


# --- editing the organisation (cadres) -----------------------------------------------------------


def _org_page(v: auth.Viewer, status: int = 200, root: str = "./", **values: Any) -> HTMLResponse:
    org = runtime.org()
    people = sorted(org.spec.people, key=lambda p: p.name)
    return page(
        "org.html", status=status, root=root, title="部门、类别和群", viewer=v, org=org, people=people,
        names={p.qq: p.name for p in org.spec.people}, problem=orgfile.state.problem, **values,
    )


@router.get("/org")
async def org_page(request: Request, notice: str = "") -> Response:
    v = await _enter(request, "./", _roles(*PEOPLE), "组织设置只有政工干部可以管理。")
    if isinstance(v, Response):
        return v
    return _org_page(v, notice=notice)


@router.get("/people/{qq}")
async def person_page(request: Request, qq: str) -> Response:
    v = await _enter(request, "../", _roles(*PEOPLE), "人员名单只有政工干部可以管理。")
    if isinstance(v, Response):
        return v
    person = runtime.org().person(qq)
    if person is None:
        return message("没有找到", "名单里没有这个人。", status=404, viewer=v, root="../")
    return page("person.html", root="../", title=f"编辑 {person.name}", viewer=v, person=person, org=runtime.org(), choices=orgedit.ROLE_CHOICES, role_names=ROLE_NAMES)


@router.post("/org/{kind}/{key}")
async def org_edit(request: Request, kind: str, key: str) -> Response:
    up = "../../"
    entered = await _enter_form(request, up, _roles(*PEOPLE), "组织设置只有政工干部可以管理。")
    if isinstance(entered, Response):
        return entered
    v, form = entered
    back, done = "org", "已保存，马上生效。"
    try:
        if kind == "person":
            await orgedit.save_person(key, form)
            back, done = "people", "已保存，马上生效。"
        elif kind == "person-remove":
            if form.get("sure") != "1":
                raise orgedit.EditError("删除前请勾选“确认从名单中删除”。")
            await orgedit.remove_person(key)
            back, done = "people", "已从名单中删除。"
        elif kind == "department":
            await orgedit.save_department(key, form)
        elif kind == "category":
            await orgedit.save_category(key, form)
        elif kind == "group":
            await orgedit.save_group_study(key, form)
        else:
            return message("没有找到", "没有这个设置项。", status=404, viewer=v, root=up)
    except ValueError:
        return message("没有找到", "没有这个设置项。", status=404, viewer=v, root=up)
    except (orgedit.EditError, StartupError) as e:
        return _org_page(v, status=400, root=up, notice=f"没有保存：{e}")
    await auth.audit(v.user_id, f"org_{kind}", key)
    return RedirectResponse(f"{up}{back}?{urlencode({'notice': done})}", status_code=303, headers=HEADERS)


@router.post("/materials/send")
async def send_material(request: Request) -> Response:
    """"Send now": the same plan and confirmation as /发布学习 in chat."""
    from plugins.study import posting

    up = "../"
    entered = await _enter_form(request, up, _roles(*PEOPLE), "学习材料只有政工干部可以发布。")
    if isinstance(entered, Response):
        return entered
    v, form = entered
    lib, org = materials.library(), runtime.org()
    if form.get("confirm") == "1":
        result = await posting.publish_confirm(lib, org, v.user_id)
        await auth.audit(v.user_id, "material_send")
        return page("send.html", root=up, title="发布学习材料", viewer=v, plan=result, confirm=False)
    plan = await posting.publish_offer(lib, org, v.user_id, str(form.get("title", "")))
    # The chat's plan ends with how to confirm in chat; here that is the button.
    lines = plan.splitlines()
    confirm = any("/发布学习 确认" in line for line in lines)
    shown = "\n".join(line for line in lines if "/发布学习 确认" not in line)
    return page("send.html", root=up, title="发布学习材料", viewer=v, plan=shown, confirm=confirm)


# --- clarification texts (moderators, cadres) ----------------------------------------------------


@router.get("/clarifications")
async def clarifications_page(request: Request, notice: str = "") -> Response:
    v = await _enter(request, "./", _moderator, "辟谣文本只有群管理员和政工干部可以编辑。")
    if isinstance(v, Response):
        return v
    return page("clarifications.html", title="辟谣文本和词表", viewer=v, texts=clarify.all_texts(), notice=notice, draft={}, lexicons=clarify.lexicons())


@router.post("/clarifications")
async def save_clarification(request: Request) -> Response:
    entered = await _enter_form(request, "./", _moderator, "辟谣文本只有群管理员和政工干部可以编辑。")
    if isinstance(entered, Response):
        return entered
    v, form = entered
    fields = {k: str(form.get(k, "")) for k in ("name", "title", "keywords", "body")}
    try:
        saved = clarify.save(**fields)
    except clarify.ClarifyError as e:
        return page("clarifications.html", status=400, title="辟谣文本和词表", viewer=v, texts=clarify.all_texts(), notice=f"没有保存：{e}", draft=fields, lexicons=clarify.lexicons())
    await auth.audit(v.user_id, "clarification_save", saved.name)
    done = f"已保存“{saved.title}”，下次辟谣就会用到。"
    return RedirectResponse(f"clarifications?{urlencode({'notice': done})}", status_code=303, headers=HEADERS)


# --- reports (cadres, head) ----------------------------------------------------------------------


def _period(month: str, week: str) -> Any:
    from plugins.reports import report

    now = clock.now()
    return report.parse_week(week, now) if week else report.parse_month(month, now)


@router.get("/reports")
async def reports_page(request: Request, month: str = "", week: str = "") -> Response:
    import base64

    from bot.platform import Image, Text
    from plugins.reports import service as reports

    v = await _enter(request, "./", _roles(*REPORTS), "报表只有政工干部和主要负责人可以查看。")
    if isinstance(v, Response):
        return v
    try:
        period = _period(month, week)
    except Refusal as e:
        return page("reports.html", status=400, title="报表", viewer=v, notice=e.text, text="", chart=None, month=month, week=week)
    parts = await reports.report_parts(period)
    text = "\n".join(p.text for p in parts if isinstance(p, Text))
    png = next((p.data for p in parts if isinstance(p, Image)), None)
    chart = base64.b64encode(png).decode() if png else None
    return page("reports.html", title="报表", viewer=v, text=text, chart=chart, month=month, week=week, notice="", download=period.key)


@router.get("/reports/export")
async def reports_export(request: Request, month: str = "") -> Response:
    from urllib.parse import quote

    from plugins.reports import report, service as reports

    v = await _enter(request, "../", _roles(*REPORTS), "报表只有政工干部和主要负责人可以查看。")
    if isinstance(v, Response):
        return v
    try:
        period = _period(month, "")
    except Refusal as e:
        return message("月份不对", e.text, status=400, viewer=v, root="../")
    built = await report.build(period)
    # The same workbook /导出 sends (texts left out, small counts in words), off the loop.
    from plugins.reports import export as xlsx

    org_name = runtime.org().name
    data = await offload.run(xlsx.render_xlsx, reports._without_texts(built), org_name, packages=reports.PACKAGES)
    name = xlsx.file_name(built, org_name, "xlsx")
    await auth.audit(v.user_id, "report_export", period.key)
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if name.endswith(".xlsx") else "text/csv; charset=utf-8"
    return Response(data, media_type=kind, headers={**HEADERS, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.post("/lexicons/{stem}")
async def save_lexicon(request: Request, stem: str) -> Response:
    up = "../"
    entered = await _enter_form(request, up, _moderator, "词表只有群管理员和政工干部可以编辑。")
    if isinstance(entered, Response):
        return entered
    v, form = entered
    try:
        n = clarify.save_lexicon(stem, str(form.get("text", "")))
    except clarify.ClarifyError as e:
        return page("clarifications.html", status=400, root=up, title="辟谣文本和词表", viewer=v, texts=clarify.all_texts(), notice=f"没有保存：{e}", draft={}, lexicons=clarify.lexicons())
    await auth.audit(v.user_id, "lexicon_save", stem)
    done = f"词表已保存，共 {n} 条，马上生效。"
    return RedirectResponse(f"{up}clarifications?{urlencode({'notice': done})}", status_code=303, headers=HEADERS)
