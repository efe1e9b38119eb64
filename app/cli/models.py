"""`hearth models …`: the library (list, import, rm, config, folders, info) and the hub
(search, files, pull, downloads, login, logout)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.context import Context
from app.engine.context_length import check_context
from app.engine.gguf_file import GGUFHeader, validate_file
from app.engine.memory import estimate_memory
from app.errors import HearthError, NotFoundError
from app.models.files import shard_names
from app.models.library import ImportMode, Library, is_embedding_entry, is_reranker_entry
from app.models.starter import STARTER_NOTE, add_starter, is_starter
from app.store import ModelEntry
from app.terminal import print_json, table
from app.units import format_bytes, format_count, format_duration

if TYPE_CHECKING:
    from app.models.hub import HubClient
    from app.remote.servers import ServerModels


def _library(ctx: Context) -> Library:
    return Library(ctx.store, ctx.models_dir)


# ----------------------------------------------------------------- library
def cmd_list(ctx: Context, args: argparse.Namespace) -> int:
    report = _library(ctx).scan()
    models = ctx.store.list_models()
    remote = _remote_models(ctx) if not args.local else []
    if args.json:
        print_json([{**asdict(m), "remote": False} for m in models] + [
            {"name": m.name, "remote": True, "server": answer.endpoint.name,
             "url": answer.endpoint.base_url, "context_length": m.n_ctx}
            for answer in remote for m in answer.models
        ])  # fmt: skip
        return 0
    for path, problem in report.problems:
        print(f"skipped {path}: {problem}", file=sys.stderr)
    if remote:
        _print_remote(remote)
        if not models:
            return 0
        print()
    if not models:
        print(f"No models in the library yet. Models folder: {ctx.models_dir}")
        print(
            "Find one with `hearth models search QUERY`, or add a file with `hearth models import`."
        )
        return 0
    rows = [
        [m.name, _use(m), format_bytes(m.size_bytes), m.quantization or "?",
         format_count(m.parameters) if m.parameters else "?",
         m.path + ("  (read-only)" if m.read_only else "")]
        for m in models
    ]  # fmt: skip
    print(table(rows, ["NAME", "FOR", "SIZE", "QUANT", "PARAMS", "PATH"]))
    if models and all(is_starter(m) for m in models):
        print(f"\n{STARTER_NOTE}")
    return 0


def _use(entry: ModelEntry) -> str:
    """What a library model is for: chatting, searching documents, or ranking passages."""
    if is_reranker_entry(entry):
        return "ranking"
    return "documents" if is_embedding_entry(entry) else "chat"


def _remote_models(ctx: Context) -> list[ServerModels]:
    """Each remote server's models; nothing asked in offline mode (said once)."""
    servers = ctx.remote_servers()
    if not servers.endpoints():
        return []
    if bool(ctx.setting("offline")):
        print("(remote servers not asked: offline mode is on)", file=sys.stderr)
        return []
    return servers.list_models()


def _print_remote(answers: list[ServerModels]) -> None:
    rows = [[m.name, "remote", f"{m.n_ctx:,} ctx", a.endpoint.base_url]
            for a in answers for m in a.models]  # fmt: skip
    if rows:
        print(table(rows, ["NAME", "WHERE", "CONTEXT", "SERVER"]))
    for answer in answers:
        if answer.problem:
            print(f"{answer.endpoint.name}: {answer.problem}", file=sys.stderr)


def cmd_starter(ctx: Context, args: argparse.Namespace) -> int:
    entry = add_starter(ctx.store, ctx.models_dir, force=args.force)
    if entry is None:
        print(
            "The starter model is off (it was removed, or starter_model is false); "
            "`hearth models starter --force` adds it again."
        )
        return 0
    if not args.quiet:
        print(f"{entry.name} is in the library ({entry.path}). {STARTER_NOTE}")
    return 0


def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    mode: ImportMode = "move" if args.move else "link" if args.link else "copy"
    entry = _library(ctx).import_file(Path(args.path), mode)
    verb = {"copy": "Copied", "move": "Moved", "link": "Linked"}[mode]
    print(f"{verb} {entry.name} into the library ({entry.path})")
    _say_embedding_note(ctx, entry)
    return 0


def _say_embedding_note(ctx: Context, entry: ModelEntry) -> None:
    from app.documents.embeddings import new_embedding_model_note

    note = new_embedding_model_note(ctx.store, entry)
    if note:
        print(note)


def cmd_rm(ctx: Context, args: argparse.Namespace) -> int:
    entry = _library(ctx).delete(args.name)
    print(f"Deleted {entry.name} ({entry.path})")
    return 0


def cmd_config(ctx: Context, args: argparse.Namespace) -> int:
    changes: dict[str, object] = {}
    for key in ("threads", "gpu_layers", "context_length"):
        value = getattr(args, key)
        if value is not None:
            changes[key] = None if value == "default" else value
    chat_format: str | None = args.format
    fmt: Any = "keep" if chat_format is None else (None if chat_format == "model" else chat_format)
    entry = _library(ctx).configure(args.name, changes, chat_format=fmt)
    own = ", ".join(f"{k}={v}" for k, v in entry.overrides.items()) or "none (uses the settings)"
    print(f"{entry.name}: own settings: {own}; chat format: {entry.chat_format or 'from the file'}")
    return 0


def cmd_folders(ctx: Context, args: argparse.Namespace) -> int:
    library = _library(ctx)
    if args.action == "add":
        report = library.add_folder(Path(args.path))
        print(f"Added {Path(args.path).expanduser().resolve()}: {len(report.added)} model(s) found")
    elif args.action == "rm":
        removed = library.remove_folder(Path(args.path))
        print(f"Removed the folder; {len(removed)} model(s) no longer listed (files untouched)")
    else:
        folders = [{"path": str(p), "read_only": ro} for p, ro in library.folders()]
        if args.json:
            print_json(folders)
        else:
            for f in folders:
                print(f"{f['path']}{'  (read-only)' if f['read_only'] else '  (models folder)'}")
    return 0


# ---------------------------------------------------------------------- hub
def _hub(ctx: Context) -> HubClient:
    return ctx.model_services().hub


def cmd_search(ctx: Context, args: argparse.Namespace) -> int:
    page = _hub(ctx).search(args.query, sort=args.sort, page=args.page, page_size=args.limit)
    if args.json:
        print_json(asdict(page))
        return 0
    if page.from_cache:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(page.fetched_at))
        print(f"(offline: results saved on {when})", file=sys.stderr)
    if not page.models:
        print(f"No GGUF models match {args.query!r}.")
        return 0
    rows = [
        [m.repo_id, f"{m.downloads:,}", f"{m.likes:,}", (m.last_modified or "")[:10],
         m.architecture or "", format_count(m.parameters) if m.parameters else "",
         f"{m.context_length:,}" if m.context_length else ""]
        for m in page.models
    ]  # fmt: skip
    print(table(rows, ["REPO", "DOWNLOADS", "LIKES", "UPDATED", "ARCH", "PARAMS", "CONTEXT"]))
    if page.has_more:
        print(f"(more: --page {page.page + 1})", file=sys.stderr)
    return 0


def cmd_files(ctx: Context, args: argparse.Namespace) -> int:
    from app.models.fit import Machine, fit, recommend

    hub = _hub(ctx)
    listing = hub.files(args.repo, args.revision)
    machine = Machine.detect()
    n_ctx = int(ctx.setting("context_length"))
    header = None
    models = [e for e in listing.entries if not e.is_projector and e.files]
    if models and not args.no_header and not listing.from_cache:
        # The quantizations of one repo share their shape: one header (a few MB read
        # with Range requests, not the file) gives exact layer, head and context figures.
        probe = min(models, key=lambda e: e.total_size)
        try:
            header = hub.remote_header(args.repo, probe.files[0].path, listing.revision)
        except HearthError as exc:
            print(f"(could not read a model header: {exc})", file=sys.stderr)
    best = recommend(listing.entries, machine, n_ctx, header=header)
    records: list[dict[str, Any]] = []
    for entry in listing.entries:
        verdict = (
            None
            if entry.is_projector
            else fit(entry.total_size, machine, header=header, n_ctx=n_ctx)
        )
        records.append(
            {
                "name": entry.name,
                "files": [f.path for f in entry.files],
                "size_bytes": entry.total_size,
                "quantization": entry.quantization,
                "projector": entry.is_projector,
                "fit": asdict(verdict) if verdict else None,
                "recommended": best is not None and entry.name == best.name,
            }
        )
    shape = None
    if header is not None:
        shape = {
            "architecture": header.architecture,
            "layers": header.block_count,
            "context_length": header.context_length,
            "chat_template": header.chat_template is not None,
        }
    if args.json:
        print_json({"repo_id": listing.repo_id, "revision": listing.revision,
                     "from_cache": listing.from_cache, "model": shape,
                     "files": records})  # fmt: skip
        return 0
    if shape is not None:
        print(
            f"{shape['architecture']}, {shape['layers']} layers, context "
            f"{shape['context_length']:,}, chat template: "
            f"{'yes' if shape['chat_template'] else 'no'} (read from the file header)\n"
        )
    rows = []
    for r in records:
        shards = f" ({len(r['files'])} parts)" if len(r["files"]) > 1 else ""
        fit_text = "vision projector" if r["projector"] else r["fit"]["summary"]
        star = "★ " if r["recommended"] else "  "
        rows.append([star + r["files"][0] + shards, format_bytes(r["size_bytes"]),
                     r["quantization"] or "?", fit_text])  # fmt: skip
    print(table(rows, ["  FILE", "SIZE", "QUANT", "ON THIS MACHINE"]))
    if best is not None:
        print(f"\n★ recommended here: {best.files[0].path}  "
              f"(hearth models pull {args.repo} {best.files[0].path})")  # fmt: skip
    return 0


def cmd_pull(ctx: Context, args: argparse.Namespace) -> int:
    from app.cancel import CancelToken

    downloader = ctx.model_services().downloader  # a finished model joins the library
    names = shard_names(args.file)  # a part of a split model: fetch every part
    token = CancelToken()
    first_dest = ""
    for name in names:
        download = downloader.plan(args.repo, name, args.revision)
        first_dest = first_dest or download.dest_path
        if download.status == "done" and Path(download.dest_path).exists():
            print(f"{name}: already downloaded ({download.dest_path})")
            continue
        resumed = download.downloaded_bytes
        if resumed:
            print(f"{name}: resuming at {format_bytes(resumed)}", file=sys.stderr)
        try:
            last = 0.0
            for progress in downloader.run(download.id, token):
                now = time.monotonic()
                if now - last >= 0.2 or progress.status != "running":
                    _progress_line(progress)
                    last = now
        except KeyboardInterrupt:
            token.cancel()
            print(f"\nPaused {name}. Run the same command again to resume.", file=sys.stderr)
            return 130
        print(file=sys.stderr)
    print(f"Done: {args.repo} {args.file} is in the library.")
    with contextlib.suppress(NotFoundError):  # not in the library: the download said why
        _say_embedding_note(ctx, ctx.store.find_model(first_dest))
    return 0


def _progress_line(p: Any) -> None:
    total = p.total or 0
    percent = f"{100 * p.downloaded / total:5.1f}%" if total else "     "
    width = 30
    filled = int(width * p.downloaded / total) if total else 0
    eta = f" ETA {format_duration(p.eta_seconds)}" if p.eta_seconds else ""
    sys.stderr.write(
        f"\r{p.filename[:40]:40} [{'#' * filled}{'.' * (width - filled)}] {percent} "
        f"{format_bytes(p.downloaded)}/{format_bytes(total)} "
        f"{format_bytes(p.bytes_per_second)}/s{eta}   "
    )
    sys.stderr.flush()


def cmd_downloads(ctx: Context, args: argparse.Namespace) -> int:
    downloader = ctx.model_services(offline=True).downloader
    if args.cancel is not None:
        downloader.cancel(args.cancel)
        print(f"Cancelled download {args.cancel}; its partial file is deleted.")
        return 0
    downloads = downloader.pending() if not args.all else ctx.store.list_downloads()
    if args.json:
        print_json([asdict(d) for d in downloads])
        return 0
    if not downloads:
        print("No unfinished downloads.")
        return 0
    rows = [
        [str(d.id), d.status, f"{d.repo_id}/{d.filename}",
         f"{format_bytes(d.downloaded_bytes)} / {format_bytes(d.total_bytes or 0)}",
         d.error or ""]
        for d in downloads
    ]  # fmt: skip
    print(table(rows, ["ID", "STATUS", "FILE", "PROGRESS", "NOTE"]))
    print("\nResume one with `hearth models pull REPO FILE`; cancel with --cancel ID.")
    return 0


def cmd_login(ctx: Context, args: argparse.Namespace) -> int:
    import huggingface_hub

    token = args.token or (sys.stdin.readline().strip() if not sys.stdin.isatty() else "")
    if not token:
        import getpass

        token = getpass.getpass("Hugging Face token (from huggingface.co/settings/tokens): ")
    if not token.strip():
        raise HearthError("No token given")
    # Stored where huggingface_hub keeps it (never in Hearth's database).
    huggingface_hub.login(token=token.strip(), add_to_git_credential=False, skip_if_logged_in=False)
    print("Token saved for Hugging Face downloads.")
    return 0


def cmd_logout(ctx: Context, args: argparse.Namespace) -> int:
    import huggingface_hub

    try:
        huggingface_hub.logout()
    except Exception as exc:  # huggingface_hub raises different types by version
        raise HearthError(f"Could not log out: {exc}") from exc
    print("Hugging Face token removed.")
    return 0


def resolve_model(ctx: Context, name_or_path: str) -> Path:
    """A library model by name, or a .gguf path."""
    return resolve_model_entry(ctx, name_or_path)[0]


def resolve_model_entry(ctx: Context, name_or_path: str) -> tuple[Path, ModelEntry | None]:
    """A library model by name, or a .gguf path, with its library entry when it has one."""
    candidate = Path(name_or_path).expanduser()
    if candidate.is_file():
        try:
            return candidate, ctx.store.find_model(str(candidate.resolve()))
        except NotFoundError:
            return candidate, None
    try:
        entry = ctx.store.find_model(name_or_path)
        return Path(entry.path), entry
    except NotFoundError:
        raise HearthError(
            f"No model called {name_or_path!r} in the library, and no such file. "
            "See `hearth models list`, or give the path to a .gguf file."
        ) from None


def model_summary(path: Path, header: GGUFHeader, n_ctx: int) -> dict[str, Any]:
    estimate = estimate_memory(header, n_ctx)
    return {
        "path": str(path),
        "name": header.name or path.stem,
        "architecture": header.architecture,
        "parameters": header.parameter_count,
        "quantization": header.file_type_name,
        "context_length": header.context_length,
        "layers": header.block_count,
        "embedding_length": header.embedding_length,
        "heads": header.head_count,
        "kv_heads": header.head_count_kv,
        "vocab_size": header.vocab_size,
        "chat_template": header.chat_template is not None,
        "size_bytes": path.stat().st_size,
        "memory_estimate": {
            "context": min(n_ctx, header.context_length or n_ctx),
            "weights_bytes": estimate.weights_bytes,
            "kv_cache_bytes": estimate.kv_cache_bytes,
            "compute_bytes": estimate.compute_bytes,
            "total_bytes": estimate.total_bytes,
        },
    }


def cmd_models_info(ctx: Context, args: argparse.Namespace) -> int:
    path = resolve_model(ctx, args.model)
    header = validate_file(path)
    if args.ctx:
        check_context(header.name or path.stem, header.context_length, args.ctx, "--ctx")
    n_ctx = args.ctx or int(ctx.setting("context_length"))
    info = model_summary(path, header, n_ctx)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    mem = info["memory_estimate"]
    params = info["parameters"]
    rows = [
        ("Name", info["name"]),
        ("File", f"{info['path']} ({format_bytes(info['size_bytes'])})"),
        ("Architecture", info["architecture"] or "unknown"),
        ("Parameters", format_count(params)),
        ("Quantization", info["quantization"] or "unknown"),
        ("Context length", f"{info['context_length']:,}" if info["context_length"] else "unknown"),
        ("Layers", str(info["layers"])),
        ("Chat template", "yes" if info["chat_template"] else "no (a named format is used)"),
        (
            "Memory",
            f"about {format_bytes(mem['total_bytes'])} at {mem['context']:,} tokens of context "
            f"(weights {format_bytes(mem['weights_bytes'])}, KV cache "
            f"{format_bytes(mem['kv_cache_bytes'])}, working {format_bytes(mem['compute_bytes'])})",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k.ljust(width)}  {v}" for k, v in rows))
    return 0
