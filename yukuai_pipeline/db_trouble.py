"""Database trouble in one line: what failed, which database (its URL without the password), how to fix it.

The drivers say "database is locked", "Connection refused" or "attempt to write a readonly database" inside
SQLAlchemy and Dagster wrappers, under pages of traceback. `classify` finds the driver's error in such a chain (live
exceptions, and Dagster's serialized step errors) and turns it into a `DatabaseTrouble` whose `line` is what the
command line prints, e.g.

    数据库错误：数据库被其他程序锁定，等待 30 秒后放弃（sqlite:////srv/yukuai/warehouse.db）。处理办法：……

Kinds: locked, unreachable, auth, missing, read_only, permission, disk_full, corrupt, io, other. Errors that are
not the database's trouble (a bad statement, a broken constraint) are not classified: they stay bugs with their
traceback.

Which database: the warehouse's engine marks its own errors as they happen (`annotate_errors`, installed by
`Warehouse`), appending the line to the driver's message, so the line also reaches Dagster's run log, the UI and the
CLI's per-step failure summary. An unmarked error raised inside Dagster's storage code is the Dagster instance's.
Bounded connections and the instance storage's own check are in `db_connections.py`; the command line prints the
line through `cli/errors.py`.
"""

import contextlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from yukuai_pipeline.db_error_kinds import kind_of

PREFIX = "数据库错误："
_DRIVER_MODULES = ("sqlite3", "psycopg", "psycopg2", "sqlalchemy", "dagster_postgres")
# errors of these classes are the database's (or the network's) trouble even when their text is not recognised
_TROUBLE_CLASSES = {"OperationalError", "InterfaceError", "DagsterPostgresException"}


def safe_url(url: str) -> str:
    """The URL as it may be printed: password (also a `password=` query parameter) replaced by ***."""
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(str(url))
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy can parse: blank out anything like user:password@
        return re.sub(r"([^\s:/@]+):[^\s@/]*@", r"\1:***@", str(url))
    secret = {k: "***" for k in parsed.query if k.lower() in ("password", "passwd", "sslpassword")}
    if not secret and parsed.password is None:
        return str(url)  # nothing to hide: as the officer wrote it (rendering would escape `file:` in SQLite URIs)
    if secret:
        parsed = parsed.update_query_dict(secret)
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


@dataclass(frozen=True)
class Database:
    """A database the command uses: its URL, what to call it, where it is configured, the lock wait in seconds."""

    url: str
    label: str = ""  # "" for the warehouse; "Dagster 实例存储 " for the instance's storage
    setting: str = "YUKUAI_DATABASE_URL"
    lock_timeout: float | None = None

    @property
    def shown(self) -> str:
        return f"{self.label}{safe_url(self.url)}"

    @property
    def is_sqlite(self) -> bool:
        return str(self.url).startswith("sqlite")

    def _part(self, name: str, default: str) -> str:
        import sqlalchemy as sa

        try:
            value = getattr(sa.engine.make_url(str(self.url)), name)
        except Exception:  # noqa: BLE001 - an unparsable URL: the part is shown as its default
            value = None
        return str(value) if value else default


class DatabaseTrouble(Exception):
    """One database fault, said in one line (`line`)."""

    def __init__(self, kind: str, database: Database, what: str, fix: str, said: str | None = None):
        self.kind, self.database, self.what, self.fix, self._said = kind, database, what, fix, said
        super().__init__(self.line)

    @property
    def line(self) -> str:
        if self._said:  # classified before the error was serialized: the line as it was said then
            return self._said
        return f"{PREFIX}{self.what}（{self.database.shown}）。处理办法：{self.fix}"


# --- reading an error chain -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    name: str  # class name
    qualified: str  # module.class (or the start of a serialized message)
    message: str
    sqlstate: str | None
    annotated: "DatabaseTrouble | str | None"  # a trouble attached by annotate_errors (a line once serialized)
    in_dagster_storage: bool


def _nodes(error) -> Iterator[_Node]:
    """Every exception of the chain, outermost first: __cause__, __context__, SQLAlchemy's .orig, and the cause
    and context of Dagster's SerializableErrorInfo."""
    seen, todo = set(), [error]
    while todo:
        item = todo.pop(0)
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, BaseException):
            cls = type(item)
            frames = []
            tb = item.__traceback__
            while tb is not None:
                frames.append(tb.tb_frame.f_code.co_filename)
                tb = tb.tb_next
            yield _Node(
                cls.__name__,
                f"{cls.__module__}.{cls.__name__}",
                str(item),
                getattr(item, "sqlstate", None) or getattr(item, "pgcode", None),
                getattr(item, "yukuai_trouble", None),
                _storage_frames(frames),
            )
            todo += [
                getattr(item, "orig", None),
                item.__cause__,
                None if item.__suppress_context__ else item.__context__,
            ]
        elif hasattr(item, "cls_name") and hasattr(item, "message"):  # dagster SerializableErrorInfo
            message = item.message or ""
            marked = next((line.strip() for line in message.splitlines() if line.strip().startswith(PREFIX)), None)
            yield _Node(
                item.cls_name or "",
                message.split(":", 1)[0].strip(),
                message,
                None,
                marked,
                _storage_frames(item.stack or []),
            )
            todo += [getattr(item, "cause", None), getattr(item, "context", None)]


def _storage_frames(frames) -> bool:
    text = "\n".join(frames).replace("\\", "/")
    return "/dagster/_core/storage/" in text or "/dagster_postgres/" in text


def _is_database_error(node: _Node) -> bool:
    root = node.qualified.split(".")[0]
    return root in _DRIVER_MODULES or node.name == "DagsterPostgresException"


def _seconds(value: float) -> str:
    return f"{value:g}" if value < 1 or value != math.floor(value) else str(int(value))


def trouble_for(kind: str, database: Database, reason: str = "", detail: str = "") -> DatabaseTrouble:
    """The sentence for a kind of fault of a database: what happened and what the officer or admin does next."""
    sqlite = database.is_sqlite
    host, port = database._part("host", "localhost"), database._part("port", "5432")
    user, name = database._part("username", "USER"), database._part("database", "DB")
    where = database.setting
    more_time = "需要等更久时把 YUKUAI_DB_LOCK_TIMEOUT 设为更大的秒数"
    if kind == "locked":
        waited = f"，等待 {_seconds(database.lock_timeout)} 秒后放弃" if database.lock_timeout else ""
        what = f"数据库被其他程序锁定{waited}"
        fix = (
            (
                "等正在写这个数据库的程序结束后重试（另一个 yukuai materialize、dagster dev 中的运行、"
                "打开了该文件的数据库工具）；" + more_time
            )
            if sqlite
            else ("在 pg_stat_activity / pg_locks 中找到持有锁的会话，等它结束（或由管理员结束）后重试；" + more_time)
        )
    elif kind == "unreachable":
        what = f"无法连接数据库服务器：{reason or '连接失败'}"
        fix = (
            f"确认 PostgreSQL 已启动（pg_isready -h {host} -p {port}）、{where} 中的主机和端口正确、防火墙放行，"
            "然后重试"
        )
    elif kind == "auth":
        what = "数据库拒绝登录（用户名或密码不对，或 pg_hba.conf 不允许这台机器）"
        fix = f"改正 {where} 中的用户名和密码，或请数据库管理员在 pg_hba.conf 中允许这台机器，然后重试"
    elif kind == "missing":
        if sqlite:
            what = "无法打开数据库文件（所在文件夹不存在或没有权限）"
            fix = f"检查 {where} 中的路径：文件夹要存在，运行 yukuai 的用户要能读写它"
        else:
            what = "数据库不存在"
            fix = f"创建该数据库（createdb -h {host} -p {port} -U {user} {name}），或改正 {where} 中的库名"
    elif kind == "read_only":
        what = "数据库是只读的，无法写入"
        fix = (
            "去掉 URL 中的 mode=ro，并确认数据库文件、所在文件夹可写，磁盘没有以只读方式挂载（mount）"
            if sqlite
            else f"把 {where} 指向可写的主库（不是只读副本），并使用有写权限的用户"
        )
    elif kind == "permission":
        what = "数据库用户没有所需的权限"
        fix = f"请数据库管理员授予该用户建表和写入的权限（或使用数据库的所有者），或改正 {where} 中的用户"
    elif kind == "disk_full":
        what = "数据库所在的磁盘已满"
        fix = "清理该磁盘（df -h 查看）后重试；未完成的写入已回滚，表中仍是之前的数据"
    elif kind == "corrupt":
        what = "数据库文件已损坏，或不是 SQLite 数据库"
        fix = "从备份恢复该文件；或把它移走，再用 yukuai materialize --landed 重新生成"
    elif kind == "io":
        what = "读写数据库文件时磁盘出错"
        fix = "检查磁盘和文件系统（dmesg、df -h、mount）后重试"
    else:
        what = f"数据库操作失败（{detail or '未知原因'}）"
        fix = "查看数据库服务器的日志；偶发的问题可以直接重试"
    return DatabaseTrouble(kind, database, what, fix)


def classify(error, database: Database, instance: Database | None = None) -> DatabaseTrouble | None:
    """The database trouble in an error chain, or None when the error is not one.

    `database` is the warehouse; `instance` the Dagster instance's storage: an error raised inside Dagster's
    storage code is put on it. An error the warehouse's engine already classified keeps that classification.
    """
    nodes = list(_nodes(error))
    for node in nodes:
        if isinstance(node.annotated, DatabaseTrouble):
            return node.annotated
    for node in nodes:
        if isinstance(node.annotated, str):  # a serialized step error of the warehouse: its line, as it was said
            return DatabaseTrouble("said", database, "", "", said=node.annotated)
    owner = instance if instance is not None and any(n.in_dagster_storage for n in nodes) else database
    candidates = [n for n in nodes if _is_database_error(n)]
    for node in reversed(candidates):  # the driver's own error is innermost and says most
        found = kind_of(node.message, node.sqlstate)
        if found:
            return trouble_for(found[0], owner, reason=found[1])
    if any(n.name in _TROUBLE_CLASSES for n in candidates):
        inner = candidates[-1]
        lines = [line.strip() for line in inner.message.splitlines() if line.strip()]
        detail = lines[0][:200] if lines else inner.name
        return trouble_for("other", owner, detail=re.sub(r"^\([\w.]+\)\s*", "", detail))
    return None


# --- the warehouse engine marks its own errors ------------------------------------------------------------------


def annotate_errors(engine, database: Database) -> None:
    """Classify every driver error of `engine` as it is raised: the trouble is attached to the exception
    (`yukuai_trouble`) and its line appended to the driver's message, the innermost of the chain, so that Dagster's
    step failure (run log, UI, the CLI's summary, the failure alert) ends with the one clear line."""
    import sqlalchemy as sa

    def on_error(context) -> None:
        original = context.original_exception
        if getattr(original, "yukuai_trouble", None) is not None:
            return
        trouble = classify(context.sqlalchemy_exception or original, database)
        if trouble is None:
            return
        for exception in (original, context.sqlalchemy_exception):
            if exception is not None:
                with contextlib.suppress(AttributeError, TypeError):
                    exception.yukuai_trouble = trouble
        if original.args and isinstance(original.args[0], str) and trouble.line not in original.args[0]:
            with contextlib.suppress(AttributeError, TypeError):
                original.args = (f"{original.args[0].rstrip()}\n{trouble.line}", *original.args[1:])

    sa.event.listen(engine, "handle_error", on_error)
