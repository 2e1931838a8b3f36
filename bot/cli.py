"""Command line: `python -m bot [console|ask|kb|eval|db|whatsapp|serve|telegram] …` (console is the default)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import sys
from pathlib import Path

from bot.config import ConfigError
from bot.settings import Settings, load_settings

log = logging.getLogger("bot")


def _common(p: argparse.ArgumentParser, db: bool = True) -> None:
    p.add_argument("--config", metavar="PATH", help="config file (default: config.toml in the repository)")
    if db:
        p.add_argument("--db", metavar="PATH", help="SQLite database file (default: from the config)")
    p.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default), ERROR")


def _listen(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Pandu Kerja Sama Desa")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("console", help="chat in the terminal (default)")
    _common(p)
    p.add_argument("--chat", default="console", help="chat id (default: console)")
    p.add_argument("--out", default="out", help="folder for generated documents (default: out)")

    p = sub.add_parser("ask", help="answer one question (or one per input line); nothing is logged")
    _common(p)
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.add_argument("question", nargs="*", help="the question; without it, read questions from stdin")

    p = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = p.add_subparsers(dest="kb_command", required=True)
    q = kb_sub.add_parser("check", help="validate the knowledge base")
    _common(q)
    q = kb_sub.add_parser("unanswered", help="frequent questions that got no answer")
    _common(q)
    q.add_argument("--limit", type=int, default=20)

    p = sub.add_parser("eval", help="evaluate retrieval on a question file (JSONL), plain and wrapped")
    _common(p)
    p.add_argument("file", nargs="?", help="question file (JSONL); not needed with --refit")
    p.add_argument("--json", action="store_true")
    p.add_argument("--split", choices=("tune", "test"), help="only the rows of this half of a blind set")
    p.add_argument("--plain", action="store_true", help="skip the wrapped (metamorphic) run")
    p.add_argument("--failures", action="store_true", help="list every failing question")
    p.add_argument("--refit", action="store_true", help="refit knowledge/calibration.toml (knowledge/calibrate.py)")

    p = sub.add_parser("whatsapp", help="serve the WhatsApp webhook (/webhook/whatsapp) with uvicorn")
    _common(p)
    _listen(p)

    p = sub.add_parser("serve", help="serve every configured webhook channel (WhatsApp, Telegram) in one app")
    _common(p)
    _listen(p)

    p = sub.add_parser("db", help="database tools")
    db_sub = p.add_subparsers(dest="db_command", required=True)
    q = db_sub.add_parser("backup", help="online backup of the database to PATH")
    _common(q)
    q.add_argument("path")

    p = sub.add_parser("telegram", help="run the Telegram bot by long polling (token from TELEGRAM_BOT_TOKEN)")
    _common(p)
    p.add_argument("--poll-timeout", type=float, default=25.0, help="long-poll timeout in seconds (default 25)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    """The settings (config file and environment), read once per command."""
    return load_settings(args.config, getattr(args, "db", None))


def _setup_logging(level: str | None, default: str = "WARNING") -> None:
    logging.basicConfig(
        level=getattr(logging, (level or default).upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def cmd_console(args: argparse.Namespace) -> int:
    """`console`: the terminal channel."""
    from bot.app import build_app
    from bot.console import run_console

    app = build_app(_settings(args))
    try:
        return asyncio.run(run_console(app, args.chat, Path(args.out)))
    finally:
        app.close()


def cmd_ask(args: argparse.Namespace) -> int:
    """`ask`: answer questions without logging them."""
    from bot.app import load_knowledge

    cfg = _settings(args).config
    knowledge = load_knowledge(cfg)
    if args.question and not " ".join(args.question).strip():
        raise ValueError("the question is empty")
    questions = [" ".join(args.question)] if args.question else [ln.rstrip("\n") for ln in sys.stdin]
    for q in questions:
        if not q.strip():
            continue
        res = knowledge.retriever.search(q)
        print(json.dumps(res.as_json(), ensure_ascii=False) if args.json else _plain_result(res))
    return 0


def _plain_result(res) -> str:
    """One line per question: the outcome, then the entry and its citations or the suggested topics."""
    data = res.as_json()
    if res.outcome == "smalltalk":  # a greeting or thanks: the bot greets back, nothing is out of scope
        return "none: sapaan" if res.smalltalk == "greeting" else "none: ucapan terima kasih"
    if data["outcome"] == "answer":
        return f"answer: {data['title']} [{'; '.join(data['citations'])}]"
    if data["outcome"] == "suggest":
        return "suggest: " + " | ".join(s["title"] for s in data["suggestions"])
    if data["miss"] == "not_in_texts":
        topics = " | ".join(s["title"] for s in data["suggestions"])
        return "none: tidak diatur pasti dalam teks; topik terdekat: " + topics
    if data["miss"] == "unclear":
        return "none: belum ada pertanyaan"
    return "none: di luar cakupan"


def cmd_kb(args: argparse.Namespace) -> int:
    """`kb check` and `kb unanswered`."""
    settings = _settings(args)
    cfg = settings.config
    if args.kb_command == "check":
        from knowledge.base import load_kb
        from knowledge.flows import load_flows

        kb = load_kb(cfg.knowledge_dir)
        flows = load_flows(cfg.knowledge_dir, kb.regulations, kb.sources)  # regulations read once
        problems = kb.problems + flows.problems
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} problem(s) in {len(kb.entries)} entries and {len(flows.flows)} flows", file=sys.stderr)
            return 1
        print(
            f"ok: {len(kb.entries)} entries, {len(flows.flows)} checklist flows, {len(kb.out_of_scope)} out-of-scope "
            f"examples, knowledge base {kb.version} ({kb.date})"
        )
        return 0
    from bot.storage import Storage

    storage = Storage(cfg.db_path, cfg.storage.busy_timeout_ms, settings.log_salt)
    try:
        rows = storage.unanswered(args.limit)
    finally:
        storage.close()
    if not rows:
        print("no unanswered questions in the log")
    for question, outcome, n in rows:
        print(f"{n:5d}  {outcome:8s} {question}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """`eval`: retrieval metrics on a question file."""
    from bot.app import load_knowledge
    from knowledge.evaluate import evaluate, evaluate_wrapped, read_questions

    cfg = _settings(args).config
    if args.refit:
        from knowledge import calibrate

        return calibrate.main(["--knowledge", str(cfg.knowledge_dir)])
    if not args.file:
        raise ValueError("eval needs a question file (or --refit)")
    knowledge = load_knowledge(cfg)
    rows = read_questions(Path(args.file), args.split)
    if not rows:
        raise ValueError(f"no questions in {args.file}" + (f" with split {args.split}" if args.split else ""))
    plain = evaluate(knowledge.retriever, rows)
    wrapped = None if args.plain else evaluate_wrapped(knowledge.retriever, rows)
    if args.json:  # the plain figures at the top level, the wrapped run under "wrapped"
        print(json.dumps({**plain, "wrapped": wrapped}, ensure_ascii=False, indent=2))
        return 0
    print(
        f"rows {plain['rows']} (in scope {plain['in_scope']}, out of scope {plain['out_of_scope']}, "
        f"unanswerable {plain['unanswerable']})"
        + (f"; wrapped: each under {wrapped['wrappers']} wrappers" if wrapped else "")
    )
    print(_eval_table(plain, wrapped))
    for label, rep in (("plain", plain), ("wrapped", wrapped)):
        if rep is None:
            continue
        print(f"{label} misses: " + (", ".join(f"{k} {v}" for k, v in sorted(rep["misses"].items())) or "none"))
    if wrapped:
        print(f"wrapped keep the plain outcome and entry: {wrapped['kept']:5.1f} %  (" + ", ".join(
            f"{k} {v:.0f}" for k, v in wrapped["kept_by_wrapper"].items()) + ")")
    shown = plain["failures"] if args.failures else plain["failures"][:15]
    for f in shown:
        print(f"  - {f['problem']}: {f['q']!r} → {f.get('entry')} {f.get('suggestions', '')}")
    if len(shown) < len(plain["failures"]):
        print(f"  … {len(plain['failures']) - len(shown)} more (--failures lists them all)")
    return 0


def _eval_table(plain: dict, wrapped: dict | None) -> str:
    """The figures side by side: ranking alone vs decided, plain vs wrapped."""
    cols = [("plain", plain)] + ([("wrapped", wrapped)] if wrapped else [])
    lines = ["figure (%)                 " + "".join(f"{name:>10s}" for name, _ in cols)]
    for label, key in (
        ("ranking top-1 (no cut-off)", "rank_top1"),
        ("ranking top-3 (no cut-off)", "rank_top3"),
        ("decided top-1 (answered)", "top1"),
        ("decided top-3 (+ topics)", "top3"),
        ("wrong answers (all rows)", "wrong_answer"),
        ("out of scope declined", "oos_rejection"),
        ("unanswerable declined", "unanswerable_declined"),
        ("unanswerable: nearest topic", "unanswerable_nearest"),
    ):
        lines.append(f"{label:27s}" + "".join(f"{rep[key]:10.1f}" for _, rep in cols))
    return "\n".join(lines)


def cmd_db(args: argparse.Namespace) -> int:
    """`db backup`: an online copy of the database."""
    from bot.storage import Storage

    cfg = _settings(args).config
    if cfg.db_path == ":memory:" or not Path(cfg.db_path).is_file():
        print(f"error: no database at {cfg.db_path}: nothing to back up", file=sys.stderr)
        return 2
    target = Path(args.path)
    if target.exists():
        print(f"error: {target} already exists", file=sys.stderr)
        return 2
    storage = Storage(cfg.db_path, cfg.storage.busy_timeout_ms)
    target.parent.mkdir(parents=True, exist_ok=True)
    dest = sqlite3.connect(str(target))
    try:
        storage.db.conn.backup(dest)
    finally:
        dest.close()
        storage.close()
    print(f"backup written: {target}")
    return 0


def _serve(args: argparse.Namespace, names: tuple[str, ...]) -> int:
    """Build the app with the named channels (those configured) and serve their webhooks until a signal."""
    from bot.app import build_app
    from bot.guard import Limits
    from bot.web import build_web_app, serve_web_app

    app = build_app(_settings(args), channels=names)
    try:
        if not app.channels:
            print("error: no webhook channel is configured (set the WHATSAPP_* or TELEGRAM_* variables, "
                  "see .env.example)", file=sys.stderr)  # fmt: skip
            return 2
        listed = ", ".join(app.channels)
        print(f"serving {listed} on http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
        server = app.config.server
        limits = Limits(server.max_connections, server.header_timeout_s, server.body_timeout_s)
        return serve_web_app(build_web_app(app), args.host, args.port, limits)
    finally:
        app.close()


def cmd_whatsapp(args: argparse.Namespace) -> int:
    """`whatsapp`: serve the WhatsApp webhook alone."""
    settings = _settings(args)
    if settings.whatsapp is None:
        print(f"error: {settings.whatsapp_missing[0]} is not set (see .env.example)", file=sys.stderr)
        return 2
    return _serve(args, ("whatsapp",))


def cmd_serve(args: argparse.Namespace) -> int:
    """`serve`: every configured webhook channel in one app."""
    from bot.app import CHANNEL_MODULES

    return _serve(args, tuple(CHANNEL_MODULES))


def cmd_telegram(args: argparse.Namespace) -> int:
    """`telegram`: long polling."""
    from bot.app import build_app
    from bot.telegram import BotApiUnreachable, build, main_polling

    settings = _settings(args)
    if settings.telegram is None:  # a missing or malformed token fails before anything is loaded
        print(f"error: {settings.telegram_problem}", file=sys.stderr)
        return 2
    app = build_app(settings)
    try:
        app.channels["telegram"] = build(app, polling=True)
        return main_polling(app, args.poll_timeout)
    except BotApiUnreachable as exc:  # exit 1, not 2: a service manager should try again later
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        app.close()


COMMANDS = {
    "console": cmd_console,
    "ask": cmd_ask,
    "kb": cmd_kb,
    "eval": cmd_eval,
    "db": cmd_db,
    "whatsapp": cmd_whatsapp,
    "serve": cmd_serve,
    "telegram": cmd_telegram,
}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; errors become one-line messages."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["console", *argv]
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["console"])
    _setup_logging(args.log_level)
    from bot.app import KnowledgeError
    from bot.storage import StorageError

    try:
        return COMMANDS[args.command](args)
    except (ConfigError, KnowledgeError, StorageError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file named on the command line cannot be read or written
        if isinstance(exc, BrokenPipeError):  # e.g. `… | head`: the reader left; not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
