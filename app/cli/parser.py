"""Every ``hearth`` command and option, declared without loading what the commands use.

Handlers are named as ``"module:function"`` and imported only once the arguments are
parsed (``resolve_handler``), so ``hearth --version`` and ``hearth --help`` answer
without SQLite, NumPy or llama.cpp, and each command loads only its own modules.
Keep this module's imports to the standard library and Hearth's lightest modules.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app import __version__
from app.paths import HOME_ENV
from app.settings import declaration

if TYPE_CHECKING:
    from app.context import Context

EXIT_USAGE = 2

Handler = Callable[["Context", argparse.Namespace], int]

# Sampling options of `hearth chat`, with their types.
SAMPLING_FLAGS: dict[str, type] = {
    "temperature": float, "top_p": float, "top_k": int, "min_p": float,
    "repeat_penalty": float, "seed": int, "max_tokens": int,
}  # fmt: skip
DEFAULT_COLLECTION = "My documents"


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line plus a hint, like every other error."""

    def error(self, message: str) -> Any:
        self.exit(EXIT_USAGE, f"hearth: {message} (see: {self.prog} --help)\n")


def resolve_handler(name: str) -> Handler:
    """The function a ``"module:function"`` handler name stands for, imported now."""
    module, _, function = name.partition(":")
    handler: Handler = getattr(importlib.import_module(module), function)
    return handler


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hearth",
        description="Run open language models on your own computer, offline and private. "
        "With no command, opens the desktop app.",
        epilog=f"The data folder can also be chosen with the {HOME_ENV} environment variable.",
    )
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    parser.add_argument(
        "--home", metavar="DIR", help=f"data folder to use (default: ${HOME_ENV} or the OS's)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="echo the log to stderr, with debug detail"
    )
    parser.set_defaults(handler="app.cli.main:cmd_gui")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    gui = commands.add_parser("gui", help="open the desktop app (the default)")
    gui.set_defaults(handler="app.cli.main:cmd_gui")

    models = commands.add_parser("models", help="the model library")
    models_cmds = models.add_subparsers(title="models commands", metavar="ACTION", required=True)
    _models(models_cmds)
    _chat(commands)
    _chats(commands)
    _docs(commands)
    _settings(commands)
    _presets(commands)
    _serve(commands)
    _remote(commands)
    doctor = commands.add_parser("doctor", help="print what a bug report needs")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.add_argument(
        "--check",
        action="store_true",
        help="open the window, load a model and answer one message, to prove this install works",
    )
    doctor.add_argument("--model", help="with --check: the library model to use")
    doctor.set_defaults(handler="app.cli.doctor:cmd_doctor")
    return parser


def _models(models_cmds: Any) -> None:
    p = models_cmds.add_parser("list", help="models in the library (scans the folders)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--local", action="store_true", help="leave out remote servers' models")
    p.set_defaults(handler="app.cli.models:cmd_list")

    p = models_cmds.add_parser("import", help="add a .gguf file from anywhere")
    p.add_argument("path")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--move", action="store_true", help="move it into the models folder")
    how.add_argument("--link", action="store_true", help="use it where it is (never deleted)")
    p.set_defaults(handler="app.cli.models:cmd_import")

    p = models_cmds.add_parser(
        "starter", help="add the tiny starter model Hearth ships (works offline)"
    )
    p.add_argument("--force", action="store_true", help="add it again after it was removed")
    p.add_argument("--quiet", action="store_true", help="print nothing when it is there")
    p.set_defaults(handler="app.cli.models:cmd_starter")

    p = models_cmds.add_parser("rm", help="delete a model and its files")
    p.add_argument("name", help="library name or path")
    p.set_defaults(handler="app.cli.models:cmd_rm")

    p = models_cmds.add_parser("config", help="a model's own threads, GPU layers, context, format")
    p.add_argument("name", help="library name or path")
    p.add_argument("--threads", help="CPU threads, or 'default'")
    p.add_argument("--gpu-layers", dest="gpu_layers", help="layers on the GPU, or 'default'")
    p.add_argument("--context-length", dest="context_length", help="tokens, or 'default'")
    p.add_argument("--format", help="a named chat format, or 'model' for the file's template")
    p.set_defaults(handler="app.cli.models:cmd_config")

    p = models_cmds.add_parser("folders", help="extra read-only folders (LM Studio, GPT4All, ...)")
    p.add_argument("action", choices=("list", "add", "rm"), nargs="?", default="list")
    p.add_argument("path", nargs="?")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler="app.cli.models:cmd_folders")

    p = models_cmds.add_parser("search", help="search the Hugging Face Hub for GGUF models")
    p.add_argument("query")
    p.add_argument("--sort", choices=("downloads", "likes", "trending", "updated"),
                   default="downloads")  # fmt: skip
    p.add_argument("--page", type=int, default=0)
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler="app.cli.models:cmd_search")

    p = models_cmds.add_parser("files", help="a repo's GGUF files and whether each fits here")
    p.add_argument("repo")
    p.add_argument("--revision", default="main")
    p.add_argument("--no-header", action="store_true", help="do not read a file header")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler="app.cli.models:cmd_files")

    p = models_cmds.add_parser("pull", help="download a file (Ctrl+C pauses; run again to resume)")
    p.add_argument("repo")
    p.add_argument("file")
    p.add_argument("--revision", default="main")
    p.set_defaults(handler="app.cli.models:cmd_pull")

    p = models_cmds.add_parser("downloads", help="unfinished downloads (paused, failed)")
    p.add_argument("--all", action="store_true", help="finished ones too")
    p.add_argument("--cancel", type=int, metavar="ID", help="cancel one and delete its part file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler="app.cli.models:cmd_downloads")

    p = models_cmds.add_parser("login", help="save a Hugging Face token for gated models")
    p.add_argument("token", nargs="?")
    p.set_defaults(handler="app.cli.models:cmd_login")
    p = models_cmds.add_parser("logout", help="forget the Hugging Face token")
    p.set_defaults(handler="app.cli.models:cmd_logout")

    info = models_cmds.add_parser("info", help="what a GGUF file holds, and the memory it needs")
    info.add_argument("model", help="a library name or a .gguf path")
    info.add_argument("--ctx", type=int, help="context length for the memory estimate")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(handler="app.cli.models:cmd_models_info")


def _chat(commands: Any) -> None:
    chat = commands.add_parser(
        "chat", help="chat with a model (one answer, or an interactive loop without PROMPT)"
    )
    chat.add_argument(
        "model", help="a library name, a .gguf path, or SERVER/MODEL on a remote server"
    )
    chat.add_argument("prompt", nargs="?", help="the question; omit for an interactive chat")
    chat.add_argument("--system", help="system prompt")
    chat.add_argument(
        "--preset", metavar="NAME", help="a saved preset (system prompt, sampling, stops)"
    )
    chat.add_argument("--chat", type=int, metavar="ID", help="continue this saved chat")
    chat.add_argument("--no-save", action="store_true", help="do not keep this chat")
    chat.add_argument("--json", action="store_true", help="print one JSON record with the stats")
    chat.add_argument("--ctx", type=int, help="context length (default: the setting)")
    chat.add_argument("--threads", type=int, help="CPU threads (default: physical cores)")
    chat.add_argument("--format", help="chat format instead of the model's template")
    chat.add_argument("--force", action="store_true", help="load even if memory looks too small")
    chat.add_argument("--stop", action="append", help="stop at this text (repeatable)")
    chat.add_argument(
        "--docs", nargs="+", metavar="PATH", help="files or folders to answer from (with citations)"
    )
    chat.add_argument("--collection", metavar="NAME", help="answer from this document collection")
    for name, kind in SAMPLING_FLAGS.items():
        chat.add_argument("--" + name.replace("_", "-"), dest=name, type=kind)
    chat.set_defaults(handler="app.cli.chat:cmd_chat")


def _chats(commands: Any) -> None:
    chats = commands.add_parser("chats", help="saved chats")
    chats_cmds = chats.add_subparsers(title="chats commands", metavar="ACTION", required=True)
    c_list = chats_cmds.add_parser("list", help="saved chats, most recent first")
    c_list.add_argument("--json", action="store_true", help="machine-readable output")
    c_list.set_defaults(handler="app.cli.chats:cmd_chats_list")
    c_show = chats_cmds.add_parser("show", help="the visible conversation of a chat")
    c_show.add_argument("id", type=int)
    c_show.add_argument("--json", action="store_true", help="every branch, as JSON")
    c_show.set_defaults(handler="app.cli.chats:cmd_chats_show")
    c_export = chats_cmds.add_parser("export", help="write a chat as Markdown or JSON")
    c_export.add_argument("id", type=int)
    c_export.add_argument("--format", choices=("md", "json"), default="md")
    c_export.add_argument("-o", "--output", metavar="FILE", help="file to write (default: stdout)")
    c_export.set_defaults(handler="app.cli.chats:cmd_chats_export")
    c_import = chats_cmds.add_parser("import", help="a chat from a JSON export (all branches)")
    c_import.add_argument("file")
    c_import.set_defaults(handler="app.cli.chats:cmd_chats_import")


def _docs(commands: Any) -> None:
    docs = commands.add_parser("docs", help="documents to chat about: add, list, search")
    cmds = docs.add_subparsers(title="docs commands", metavar="ACTION", required=True)

    add = cmds.add_parser("add", help="index files or folders (PDF, DOCX, Markdown, HTML, ...)")
    add.add_argument("paths", nargs="+", metavar="PATH")
    owner = add.add_mutually_exclusive_group()
    owner.add_argument(
        "--collection", metavar="NAME", help=f"collection to add to (default: {DEFAULT_COLLECTION})"
    )
    owner.add_argument("--chat", type=int, metavar="ID", help="add to this chat instead")
    add.set_defaults(handler="app.cli.docs:cmd_docs_add")

    index = cmds.add_parser(
        "index", help="finish interrupted indexing; embed passages that lack vectors"
    )
    index.set_defaults(handler="app.cli.docs:cmd_docs_index")

    for name, handler, text in (
        ("list", "app.cli.docs:cmd_docs_list", "documents and their indexing state"),
        (
            "search",
            "app.cli.docs:cmd_docs_search",
            "ranked passages for a question, with file and page",
        ),
    ):
        sub = cmds.add_parser(name, help=text)
        if name == "search":
            sub.add_argument("query")
            sub.add_argument(
                "-k",
                "--limit",
                type=int,
                metavar="N",
                help="passages to show (default: the document_passages setting, "
                f"{declaration('document_passages').default} unless changed; answers use as many)",
            )
            sub.add_argument(
                "--keywords-only",
                action="store_true",
                help="skip the embedding model and the reranker",
            )
        scope = sub.add_mutually_exclusive_group()
        scope.add_argument("--collection", metavar="NAME", help="only this collection")
        scope.add_argument("--chat", type=int, metavar="ID", help="only what this chat can see")
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        sub.set_defaults(handler=handler)

    remove = cmds.add_parser("remove", help="forget documents (their files are untouched)")
    remove.add_argument("ids", nargs="+", type=int, metavar="ID")
    remove.set_defaults(handler="app.cli.docs:cmd_docs_remove")

    collections = cmds.add_parser("collections", help="named collections any chat can attach")
    collections.add_argument("--json", action="store_true", help="machine-readable output")
    collections.set_defaults(handler="app.cli.docs:cmd_docs_collections")


def _settings(commands: Any) -> None:
    settings = commands.add_parser("settings", help="read and change settings")
    settings_cmds = settings.add_subparsers(
        title="settings commands", metavar="ACTION", required=True
    )
    s_list = settings_cmds.add_parser("list", help="every setting with its value")
    s_list.add_argument("--json", action="store_true", help="machine-readable output")
    s_list.set_defaults(handler="app.cli.settings:cmd_settings_list")
    s_get = settings_cmds.add_parser("get", help="one setting's value")
    s_get.add_argument("name")
    s_get.add_argument("--json", action="store_true", help="machine-readable output")
    s_get.set_defaults(handler="app.cli.settings:cmd_settings_get")
    s_set = settings_cmds.add_parser("set", help="change a setting (validated)")
    s_set.add_argument("name")
    s_set.add_argument("value")
    s_set.set_defaults(handler="app.cli.settings:cmd_settings_set")
    s_reset = settings_cmds.add_parser("reset", help="back to the default value")
    s_reset.add_argument("name")
    s_reset.set_defaults(handler="app.cli.settings:cmd_settings_reset")


def _presets(commands: Any) -> None:
    presets = commands.add_parser("presets", help="saved chat presets (made in the desktop)")
    cmds = presets.add_subparsers(title="presets commands", metavar="ACTION", required=True)
    p_list = cmds.add_parser("list", help="every preset with what it sets")
    p_list.add_argument("--json", action="store_true", help="machine-readable output")
    p_list.set_defaults(handler="app.cli.presets:cmd_presets_list")
    p_rm = cmds.add_parser("rm", help="delete a preset")
    p_rm.add_argument("name")
    p_rm.set_defaults(handler="app.cli.presets:cmd_presets_rm")


def _serve(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="serve the library's models to other programs (OpenAI / Anthropic API)"
    )
    serve.add_argument("--model", help="the model to load first (default: the first chat model)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (8765)")
    serve.add_argument(
        "--api-key", metavar="KEY", help="clients must send it; required off loopback"
    )
    serve.add_argument(
        "--cors", metavar="ORIGIN", action="append", default=[],
        help="a web page origin allowed to call the API (repeatable; none by default)",
    )  # fmt: skip
    serve.add_argument(
        "--quiet", action="store_true", help="no line per request answered (printed by default)"
    )
    serve.set_defaults(handler="app.cli.serve:cmd_serve")


def _remote(commands: Any) -> None:
    remote = commands.add_parser(
        "remote", help="OpenAI-compatible servers whose models chats can use (llama-server, vLLM)"
    )
    cmds = remote.add_subparsers(title="remote commands", metavar="ACTION", required=True)
    p_add = cmds.add_parser(
        "add", help="add a server (or change its address or key); its models become SERVER/MODEL"
    )
    p_add.add_argument("name", help="a short name for it, e.g. bigbox")
    p_add.add_argument("url", help="its OpenAI API address, e.g. http://192.168.1.20:8080/v1")
    p_add.add_argument(
        "--key-stdin", action="store_true",
        help="read its API key from standard input (kept in the keyring or a private file)",
    )  # fmt: skip
    p_add.add_argument("--no-key", action="store_true", help="forget a key saved before")
    p_add.add_argument(
        "--no-check", action="store_true", help="add it without asking it for its models"
    )
    p_add.set_defaults(handler="app.cli.remote:cmd_remote_add")
    p_list = cmds.add_parser("list", help="the servers and the models each offers")
    p_list.add_argument("--json", action="store_true", help="machine-readable output")
    p_list.set_defaults(handler="app.cli.remote:cmd_remote_list")
    p_rm = cmds.add_parser("rm", help="remove a server and its key")
    p_rm.add_argument("name")
    p_rm.set_defaults(handler="app.cli.remote:cmd_remote_rm")
