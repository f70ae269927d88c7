"""The kinds of database fault (locked, unreachable, auth, missing, read-only, disk full, permission, corrupt, I/O),
told apart by SQLSTATE (PostgreSQL) or by the driver's message (SQLite, psycopg, a dropped connection); db_trouble.py
turns a kind into the one line the officer reads."""

import re

# (kind, reason or "", SQLSTATEs, message patterns): the first match wins, so specific rules come first.
_RULES = [
    (
        "auth",
        "",
        {"28P01", "28000"},
        (
            r"password authentication failed|no password supplied|authentication failed"
            r"|role \S+ does not exist|no pg_hba\.conf entry|password is required"
        ),
    ),
    ("missing", "", {"3D000"}, r"database \S+ does not exist|unable to open database file"),
    (
        "locked",
        "",
        {"55P03", "40P01"},
        (
            r"database is locked|database table is locked|lock timeout"
            r"|could not obtain lock|deadlock detected"
        ),
    ),
    ("read_only", "", {"25006"}, r"readonly database|read-only transaction|read-only file system|read only file"),
    (
        "disk_full",
        "",
        {"53100"},
        (
            r"database or disk is full|no space left on device|could not extend file"
            r"|disk full"
        ),
    ),
    ("permission", "", {"42501"}, r"permission denied|must be owner of"),
    ("corrupt", "", set(), r"database disk image is malformed|file is not a database|file is encrypted"),
    ("io", "", set(), r"disk i/o error"),
    ("unreachable", "连接被拒绝，服务器没有运行或主机、端口不对", set(), r"connection refused"),
    (
        "unreachable",
        "主机名无法解析",
        set(),
        (
            r"failed to resolve host|could not translate host name"
            r"|name or service not known|nodename nor servname|name resolution"
        ),
    ),
    ("unreachable", "连接超时", set(), r"timeout expired|timed out"),
    ("unreachable", "网络不通", set(), r"no route to host|network is unreachable"),
    (
        "unreachable",
        "服务器正在启动或关闭",
        {"57P01", "57P02", "57P03"},
        r"database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator",
    ),
    ("unreachable", "服务器连接数已满", {"53300"}, r"too many (clients|connections)|connection slots are reserved"),
    (
        "unreachable",
        "连接中断",
        {"08000", "08003", "08006"},
        (
            r"server closed the connection|connection is closed|connection already closed|ssl syscall|consuming input"
            r"|could not receive data|lost connection|connection is lost|server conn crashed"
        ),
    ),
    ("unreachable", "", {"08001", "08004"}, r"connection to server .* failed|could not connect|connection failed"),
]


def kind_of(message: str, sqlstate: str | None) -> tuple[str, str] | None:
    """(kind, reason) of a driver's error by its SQLSTATE or its message; None when it is no known database fault."""
    text = message.lower()
    for kind, reason, states, pattern in _RULES:
        if (sqlstate and sqlstate in states) or re.search(pattern, text):
            if kind == "locked" and "statement timeout" in text:
                continue
            return kind, reason
    return None
