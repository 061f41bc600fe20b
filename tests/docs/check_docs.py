#!/usr/bin/env python3
"""Runs every fenced example of the READMEs as written and checks what the text claims.

    tests/docs/check_docs.py [--only TEXT] [--list]

Run by scripts/test-docs.sh (which builds what the examples need first). For each Markdown
file in DOCS, every fenced block in a code language is executed:

    rust    README.md only: compiled as written by the `tradewire-docs` crate (tests/docs) and
            run (`target/debug/tradewire-docs N` runs the N-th Rust block)
    python  run with the venv's Python; then all of them checked with `mypy --strict`
    c, cpp  compiled with -Wall -Wextra -Werror against target/dist (the profile the README
            recommends) and run
    sh      run with bash -e -o pipefail in the repository root, with the built `tradewire`
            (target/release) and the venv first on PATH
    toml    each `path` dependency must name a crate of the repository
    json    must parse (and, with shape-of, have the keys of a line the CLI printed)

Directives are HTML comments right before a block (blank lines between are allowed), one
`key=value` each, invisible on GitHub but visible in the source:

    <!-- no-run: REASON -->           the block is not run (keep these few)
    <!-- doc-test: needs=daemon -->   start `tradewire mock-server --preset daemon` (and/or
                                      agent, breakout) on its default port for the block;
                                      with agent, AGENT_JWT is the token it prints
    <!-- doc-test: stdout=REGEX -->   stdout must match (re.search, multiline); repeatable
    <!-- doc-test: stderr=REGEX -->   the same for stderr
    <!-- doc-test: exit=N -->         expected exit status (default 0)
    <!-- doc-test: save-as=FILE -->   the block is also saved as FILE in the repository root
                                      while the documents run (a later sh block compiles it)
    <!-- doc-test: interrupt -->      sh: each line is a long-running command: it must print a
                                      line on stdout, then Ctrl-C must stop it with `exit`
                                      (a `# ws://...` comment on the line must be in that line)
    <!-- doc-test: shape-of=listen --> json: same keys as a line `tradewire listen` printed

Also checked: relative links resolve inside the repository, and every measured figure
(µs, events/s, ...) of the READMEs is registered in FIGURES, matches its source file and
names the date and machine of its run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "python/README.md", "ffi/README.md", "CONTRIBUTING.md"]
CODE_LANGS = {"rust", "python", "c", "cpp", "sh", "toml", "json"}
DEFAULT_TIMEOUT = 120.0
MOCK_PORTS = {"daemon": 8765, "agent": 4000, "breakout": 8000}

FENCE = re.compile(r"^(\s*)(```+)\s*([^`]*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*(doc-test|no-run)\s*:\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    path: str
    line: int
    lang: str
    text: str
    opts: list[tuple[str, str]] = field(default_factory=list)
    no_run: str | None = None

    def where(self) -> str:
        return f"{self.path}:{self.line} ({self.lang})"

    def get(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.opts:
            if k == key:
                return v
        return default

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.opts if k == key]


class Failure(Exception):
    pass


def parse_blocks(rel: str) -> list[Block]:
    """The fenced blocks of a Markdown file, with the directives right before each."""
    lines = (ROOT / rel).read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    pending: list[tuple[str, str]] = []
    no_run: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        d = DIRECTIVE.match(line)
        f = FENCE.match(line)
        if d:
            if d.group(1) == "no-run":
                no_run = d.group(2) or "no reason given"
            else:
                key, _, value = d.group(2).partition("=")
                pending.append((key.strip(), value.strip()))
        elif f:
            indent, ticks, info = f.group(1), f.group(2), f.group(3).strip()
            lang = re.split(r"[ ,]", info)[0] if info else ""
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(ticks):
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            if lang in CODE_LANGS:
                out.append(Block(rel, i - len(body), lang, "\n".join(body) + "\n", pending, no_run))
            pending, no_run = [], None
        elif line.strip():
            pending, no_run = [], None
        i += 1
    return out


# ---------------------------------------------------------------------------------------------
# Processes


def env_for_examples() -> dict[str, str]:
    env = dict(os.environ)
    venv_bin = ROOT / ".venv" / "bin"
    env["PATH"] = os.pathsep.join([str(venv_bin), str(ROOT / "target" / "release"), env["PATH"]])
    env.pop("TRADEWIRE_LOG", None)
    return env


def run(cmd: list[str], *, cwd: Path = ROOT, timeout: float = DEFAULT_TIMEOUT,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, cwd=cwd, env=env or env_for_examples(), text=True,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"`{' '.join(cmd)[:200]}` did not finish in {timeout:.0f} s; "
                      f"stdout so far:\n{e.stdout or ''}\nstderr:\n{e.stderr or ''}") from None


def check_result(block: Block, r: subprocess.CompletedProcess[str], what: str) -> None:
    want = int(block.get("exit", "0") or 0)
    if r.returncode != want:
        raise Failure(f"{what} exited {r.returncode}, the text says {want}\n"
                      f"stdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}")
    for stream, text in (("stdout", r.stdout), ("stderr", r.stderr)):
        for pattern in block.all(stream):
            if not re.search(pattern, text, re.M):
                raise Failure(f"{what}: {stream} does not match /{pattern}/\nstdout:\n"
                              f"{r.stdout[-3000:]}\nstderr:\n{r.stderr[-2000:]}")


class LongRunning:
    """A command that runs until Ctrl-C: started in its own process group."""

    def __init__(self, command: str, env: dict[str, str]):
        self.command = command
        self.out = tempfile.TemporaryFile(mode="w+")
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=env, text=True,
                                     stdout=self.out, stderr=self.err, start_new_session=True)

    def stdout(self) -> str:
        self.out.seek(0)
        return self.out.read()

    def stderr(self) -> str:
        self.err.seek(0)
        return self.err.read()

    def first_line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout()
            if "\n" in text:
                return text.split("\n", 1)[0]
            if self.proc.poll() is not None:
                raise Failure(f"`{self.command}` exited {self.proc.returncode} before printing a "
                              f"line\nstderr:\n{self.stderr()[-3000:]}")
            time.sleep(0.05)
        raise Failure(f"`{self.command}` printed no line in {timeout:.0f} s\n"
                      f"stderr:\n{self.stderr()[-3000:]}")

    def interrupt(self, timeout: float = 30.0) -> int:
        """Ctrl-C (SIGINT to the process group); returns the exit status."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise Failure(f"`{self.command}` did not stop within {timeout:.0f} s of Ctrl-C") from None


class MockServers:
    """`tradewire mock-server --preset P` on its default port for the duration of a block."""

    def __init__(self, presets: list[str], env: dict[str, str]):
        self.servers: list[LongRunning] = []
        self.env = env
        for p in presets:
            port = MOCK_PORTS.get(p)
            if port is None:
                raise Failure(f"needs={p}: not a mock-server preset ({', '.join(MOCK_PORTS)})")
            server = LongRunning(f"tradewire mock-server --preset {p}", env)
            self.servers.append(server)
            url = server.first_line(30)
            if f":{port}" not in url:
                raise Failure(f"mock-server --preset {p} printed {url!r}, expected port {port}")
            if p == "agent":
                m = re.search(r"[?&]token=([^&\s]+)", url)
                if not m:
                    raise Failure(f"mock-server --preset agent printed no token: {url!r}")
                env["AGENT_JWT"] = m.group(1)

    def stop(self) -> None:
        for s in self.servers:
            code = s.interrupt()
            if code != 0:
                raise Failure(f"`{s.command}` exited {code} on Ctrl-C; the README says 0\n"
                              f"stderr:\n{s.stderr()[-2000:]}")


# ---------------------------------------------------------------------------------------------
# Runners


class Context:
    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.saved: list[Path] = []
        self.listen_lines: list[str] = []
        self.python_files: list[Path] = []
        self.rust_index = 0


def run_rust(block: Block, ctx: Context, env: dict[str, str]) -> None:
    if block.path != "README.md":
        raise Failure("Rust examples are only compiled from README.md (see tests/docs/build.rs)")
    ctx.rust_index += 1
    exe = ROOT / "target" / "debug" / "tradewire-docs"
    r = run([str(exe), str(ctx.rust_index)], env=env, timeout=float(block.get("timeout", "60") or 60))
    check_result(block, r, f"Rust block {ctx.rust_index}")


def run_python(block: Block, ctx: Context, env: dict[str, str]) -> None:
    name = re.sub(r"\W", "_", f"doc_{block.path}_{block.line}") + ".py"
    path = ctx.scratch / name
    path.write_text(block.text, encoding="utf-8")
    ctx.python_files.append(path)
    python = ROOT / ".venv" / "bin" / "python"
    r = run([str(python), str(path)], cwd=ctx.scratch, env=env,
            timeout=float(block.get("timeout", "60") or 60))
    check_result(block, r, "python")


def compile_and_run(block: Block, ctx: Context, env: dict[str, str]) -> None:
    src = ctx.scratch / f"doc_{block.line}.{block.lang}"
    src.write_text(block.text, encoding="utf-8")
    exe = ctx.scratch / f"doc_{block.line}_{block.lang}"
    lib = ROOT / "target" / "dist"
    if block.lang == "c":
        cc = ["cc", "-std=c11", "-pedantic"]
    else:
        cc = ["g++", "-std=c++17"]
    cmd = cc + ["-Wall", "-Wextra", "-Werror", f"-I{ROOT / 'include'}", str(src), f"-L{lib}",
                "-ltradewire", f"-Wl,-rpath,{lib}", "-o", str(exe)]
    r = run(cmd, env=env)
    if r.returncode != 0:
        raise Failure(f"does not compile with {' '.join(cc)} -Wall -Wextra -Werror:\n{r.stderr}")
    r = run([str(exe)], env=env, timeout=float(block.get("timeout", "60") or 60))
    check_result(block, r, "the program")


def run_sh(block: Block, ctx: Context, env: dict[str, str]) -> None:
    if block.get("interrupt") is not None:
        want = int(block.get("exit", "0") or 0)
        for line in block.text.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            proc = LongRunning(line, env)
            try:
                first = proc.first_line(60)
            finally:
                code = proc.interrupt()
            m = re.search(r"#\s*(ws://\S+)", line)
            if m and m.group(1).rstrip(",") not in first:
                raise Failure(f"`{line}` printed {first!r}; its comment says {m.group(1)}")
            if code != want:
                raise Failure(f"`{line}` exited {code} on Ctrl-C; the text says {want}\n"
                              f"stderr:\n{proc.stderr()[-2000:]}")
        return
    r = run(["bash", "-e", "-o", "pipefail", "-c", block.text], env=env,
            timeout=float(block.get("timeout", str(DEFAULT_TIMEOUT)) or DEFAULT_TIMEOUT))
    check_result(block, r, "the commands")
    if "tradewire listen" in block.text:
        ctx.listen_lines += [l for l in r.stdout.splitlines() if l.startswith("{")]


def run_toml(block: Block, ctx: Context, env: dict[str, str]) -> None:
    doc = tomllib.loads(block.text)
    for name, spec in doc.get("dependencies", {}).items():
        if isinstance(spec, dict) and "path" in spec:
            manifest = ROOT / spec["path"] / "Cargo.toml"
            if not manifest.is_file():
                raise Failure(f"dependency {name}: {spec['path']}/Cargo.toml does not exist")
            package = tomllib.loads(manifest.read_text())["package"]["name"]
            if package != name:
                raise Failure(f"dependency {name}: {spec['path']} is the crate {package}")


def run_json(block: Block, ctx: Context, env: dict[str, str]) -> None:
    value = json.loads(block.text)
    if block.get("shape-of") == "listen":
        if not ctx.listen_lines:
            raise Failure("shape-of=listen: no `tradewire listen` block printed a line before it")
        real = json.loads(ctx.listen_lines[0])
        if list(value) != list(real):
            raise Failure(f"the documented line has keys {list(value)}, tradewire listen "
                          f"printed {list(real)}: {ctx.listen_lines[0]}")


RUNNERS = {"rust": run_rust, "python": run_python, "c": compile_and_run,
           "cpp": compile_and_run, "sh": run_sh, "toml": run_toml, "json": run_json}


def run_block(block: Block, ctx: Context) -> None:
    env = env_for_examples()
    save_as = block.get("save-as")
    if save_as:
        target = ROOT / save_as
        if target.exists() and target not in ctx.saved:
            raise Failure(f"save-as={save_as}: {target} already exists; not overwriting it")
        target.write_text(block.text, encoding="utf-8")
        ctx.saved.append(target)
    needs = [n for n in (block.get("needs") or "").split(",") if n]
    servers = MockServers(needs, env) if needs else None
    try:
        RUNNERS[block.lang](block, ctx, env)
    finally:
        if servers:
            servers.stop()


def mypy_python_blocks(ctx: Context) -> str | None:
    if not ctx.python_files:
        return None
    python = ROOT / ".venv" / "bin" / "python"
    r = run([str(python), "-m", "mypy", "--strict", "--no-incremental", *map(str, ctx.python_files)],
            cwd=ctx.scratch, timeout=300)
    if r.returncode != 0:
        return f"mypy --strict on the Python examples:\n{r.stdout}{r.stderr}"
    return None


# ---------------------------------------------------------------------------------------------
# Links and figures

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def check_links(rel: str) -> list[str]:
    problems = []
    base = (ROOT / rel).parent
    for n, line in enumerate((ROOT / rel).read_text(encoding="utf-8").splitlines(), 1):
        for target in LINK.findall(line):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = (base / target.split("#", 1)[0]).resolve()
            if not path.is_relative_to(ROOT):
                problems.append(f"{rel}:{n}: link {target} leaves the repository")
            elif not path.exists():
                problems.append(f"{rel}:{n}: link {target} does not resolve ({path})")
    return problems


def number(s: str) -> float:
    return float(s.replace(",", ""))


def table_median(doc: str, heading: str, row: str, column: int) -> float:
    """The median (first number) of a cell of the first table under a `### heading...`."""
    start = doc.find("### " + heading)
    if start < 0:
        raise Failure(f"docs/BENCHMARKS.md has no table `### {heading}`")
    for line in doc[start:].splitlines()[1:]:
        if line.startswith("### "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == row:
            return number(re.match(r"[\d,.]+", cells[column]).group(0))  # type: ignore[union-attr]
    raise Failure(f"docs/BENCHMARKS.md: no row `{row}` under `### {heading}`")


LAT20K = "One-way latency at 20,000 events/s"
FIRE100 = "Firehose, 100 % of events for the filtered account"

# Every measured figure in the READMEs: (pattern with one group per figure, source, for each
# group the value it must equal, relative tolerance). A README line with a measured unit that
# no pattern matches fails the check: register the figure here, with its source.
FIGURES: list[tuple[str, str, list[tuple[str, str, int]], float]] = [
    (r"(\d+) against (\d+) µs median in Rust", "docs/BENCHMARKS.md",
     [(LAT20K, "tradewire Rust", 1), (LAT20K, "tradewire Rust, inline_reads off", 1)], 0.0),
    (r"(\d+) against (\d+) µs in Python", "docs/BENCHMARKS.md",
     [(LAT20K, "tradewire Python", 1), (LAT20K, "tradewire Python, inline_reads off", 1)], 0.0),
    (r"about ([\d,]+) and ([\d,]+)\s+events per second", "docs/BENCHMARKS.md",
     [(FIRE100, "tradewire Python", 1), (FIRE100, "tradewire Python, ev.data as dict", 1)], 0.02),
    # Quoted from the text of docs/BENCHMARKS.md rather than a table: no cells, the match must
    # appear there word for word.
    (r"(\d+–\d+ % more events per second)", "docs/BENCHMARKS.md", [], 0.0),
]
# A measured figure: a number with a unit of time, rate or gain ("at 20,000 events/s" is a
# rate chosen for a run, not a measurement).
MEASURED = re.compile(r"(?<![\d,.])(?<!at )\d[\d,.]*\s*(µs|events/s\b|events per second|% more|million)")


def check_figures() -> list[str]:
    problems = []
    bench = (ROOT / "docs" / "BENCHMARKS.md").read_text(encoding="utf-8")
    stamp = re.search(r"started (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", bench)
    cores = re.search(r"\| CPU \|[^|]*?(\d+) cores", bench)
    if not stamp or not cores:
        return ["docs/BENCHMARKS.md: cannot find the run's start (`started YYYY-MM-DD HH:MM UTC`) "
                "or the machine's CPU row (`| CPU | ... N cores`)"]
    run_mark = [stamp.group(1), f"{cores.group(1)}-core"]
    for rel in ("README.md", "python/README.md"):
        text = (ROOT / rel).read_text(encoding="utf-8")
        # Prose only: code blocks (their figures are settings) and directives removed.
        text = re.sub(r"^```.*?^```[^\n]*$", "", text, flags=re.M | re.S)
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        paragraphs = re.split(r"\n\s*\n", text)
        for para in paragraphs:
            if para.lstrip().startswith(("```", "|")):
                continue
            flat = " ".join(para.split())
            covered: list[tuple[int, int]] = []
            for pattern, source, cells, tol in FIGURES:
                for m in re.finditer(pattern, flat):
                    covered.append(m.span())
                    if not cells and m.group(1) not in " ".join(bench.split()):
                        problems.append(f"{rel}: `{m.group(1)}` is not in {source}")
                    for (heading, row, col), got in zip(cells, m.groups()):
                        want = table_median(bench, heading, row, col)
                        if abs(number(got) - want) > tol * want:
                            problems.append(f"{rel}: `{m.group(0)}`: {got} but {source} says "
                                            f"{want:g} ({row}, {heading})")
                    for mark in run_mark:
                        if mark not in flat:
                            problems.append(f"{rel}: `{m.group(0)}` does not name its run: the "
                                            f"paragraph must contain `{mark}` (from {source})")
            for m in MEASURED.finditer(flat):
                if not any(a <= m.start() < b for a, b in covered):
                    problems.append(f"{rel}: the figure `{m.group(0)}` is not registered in "
                                    f"tests/docs/check_docs.py FIGURES (with its source): "
                                    f"...{flat[max(0, m.start() - 60):m.end() + 20]}...")
    return problems


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="run only the blocks whose `path:line (lang)` contains this "
                    "(several: comma-separated)")
    ap.add_argument("--list", action="store_true", help="list the blocks and exit")
    args = ap.parse_args()

    blocks = [b for rel in DOCS if (ROOT / rel).exists() for b in parse_blocks(rel)]
    if args.list:
        for b in blocks:
            print(b.where(), f"no-run: {b.no_run}" if b.no_run else dict(b.opts))
        return 0

    problems: list[str] = []
    for rel in DOCS:
        if (ROOT / rel).exists():
            problems += check_links(rel)
    problems += check_figures()

    with tempfile.TemporaryDirectory(prefix="tradewire-docs-") as scratch:
        ctx = Context(Path(scratch))
        ran = 0
        try:
            wanted = args.only.split(",") if args.only else None
            for b in blocks:
                if wanted and not any(w in b.where() for w in wanted):
                    if b.lang == "rust" and b.path == "README.md":
                        ctx.rust_index += 1  # keep the numbering of the README
                    continue
                if b.no_run:
                    print(f"skip  {b.where()}: no-run: {b.no_run}", flush=True)
                    continue
                start = time.monotonic()
                try:
                    run_block(b, ctx)
                    ran += 1
                    print(f"ok    {b.where()} ({time.monotonic() - start:.1f} s)", flush=True)
                except Failure as e:
                    print(f"FAIL  {b.where()}", flush=True)
                    problems.append(f"{b.where()}: {e}")
                except Exception as e:  # a broken block must not hide the others
                    print(f"FAIL  {b.where()}", flush=True)
                    problems.append(f"{b.where()}: {type(e).__name__}: {e}")
            m = mypy_python_blocks(ctx)
            if m:
                problems.append(m)
        finally:
            for p in ctx.saved:
                p.unlink(missing_ok=True)
            for leftover in ("app",):
                (ROOT / leftover).unlink(missing_ok=True)

    if problems:
        print(f"\n{len(problems)} problem(s) in the documents:", file=sys.stderr)
        for p in problems:
            print(f"\n- {p}", file=sys.stderr)
        return 1
    skipped = sum(1 for b in blocks if b.no_run)
    print(f"\n{ran} blocks of {', '.join(d for d in DOCS if (ROOT / d).exists())} ran as written "
          f"({skipped} marked no-run, {len(blocks)} in all); links and figures checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
