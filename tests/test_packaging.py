"""What ships: the Dockerfile's two targets, the build context, the pinned versions, the project documents.

No Docker daemon is needed: the Dockerfile is parsed (instructions, stages, ARG defaults), .dockerignore is
matched the way Docker matches it, and constraints.txt is checked against pyproject.toml by
scripts/constraints.py, the check CI runs. hadolint runs when scripts/lint has installed it.
"""

from __future__ import annotations

import hashlib
import json
import re
import runpy
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CONSTRAINTS: dict[str, Any] = runpy.run_path(str(ROOT / "scripts" / "constraints.py"))
# sha256 of the Apache License 2.0 text as apache.org serves LICENSE-2.0.txt (11,358 bytes).
_APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


# ------------------------------------------------------------------------------------------ Dockerfile


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def one(self, keyword: str) -> str:
        found = self.all(keyword)
        assert len(found) == 1, f"stage {self.name}: {len(found)} {keyword} instructions, expected 1"
        return found[0]

    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for args in self.all("ENV"):
            for word in shlex.split(args):
                key, sep, value = word.partition("=")
                assert sep, f"stage {self.name}: ENV {word!r} is not KEY=value"
                out[key] = value
        return out

    def run_commands(self) -> list[str]:
        """Every shell command of the stage's RUN instructions, split at &&."""
        return [c.strip() for args in self.all("RUN") for c in args.split("&&")]


def _instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: continuations joined, comments and directives dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction is dropped, as Docker does
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, args = line.partition(" ")
        out.append((keyword.upper(), " ".join(args.split())))
    assert not pending, "Dockerfile ends inside a continued instruction"
    return out


def _stages(text: str) -> tuple[dict[str, str], list[Stage]]:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, rest in _instructions(text):
        if keyword == "FROM":
            m = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", rest, re.IGNORECASE)
            assert m, f"FROM {rest!r}: every stage is named (FROM image AS name)"
            base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda g: args[g.group(1) or g.group(2)], m.group(1))
            stages.append(Stage(m.group(2), base))
        elif not stages:
            assert keyword == "ARG", f"only ARG may come before the first FROM, not {keyword}"
            name, _, default = rest.partition("=")
            args[name] = default
        else:
            stages[-1].instructions.append((keyword, rest))
    return args, stages


GLOBAL_ARGS, STAGES = _stages(DOCKERFILE.read_text(encoding="utf-8"))
BY_NAME = {s.name: s for s in STAGES}


def test_two_targets_and_cuda_is_the_default() -> None:
    assert [s.name for s in STAGES] == ["cpu", "cuda"], "docker build without --target builds the last stage"
    assert re.fullmatch(r"python:3\.12(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?", BY_NAME["cpu"].base)
    assert re.fullmatch(
        r"nvidia/cuda:12\.[\d.]+-runtime-ubuntu24\.04(@sha256:[0-9a-f]{64})?", BY_NAME["cuda"].base
    )
    # Both bases are overridable (a digest pin for production): docker build --build-arg CPU_BASE=...
    assert set(GLOBAL_ARGS) == {"CPU_BASE", "CUDA_BASE"}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_stage_runs_the_server_as_non_root(stage: Stage) -> None:
    user = stage.one("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0, f"USER {user}: numeric and not root (runAsNonRoot can check it)"
    assert not gid or (gid.isdigit() and int(gid) != 0)
    assert json.loads(stage.one("ENTRYPOINT")) == ["verifier", "serve"]
    assert stage.one("STOPSIGNAL") == "SIGTERM"
    # The useradd creates the uid that USER names.
    assert any(f"--uid {uid}" in c for c in stage.run_commands() if c.startswith("useradd"))


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_healthcheck_uses_the_servers_own_settings(stage: Stage) -> None:
    check = stage.one("HEALTHCHECK")
    options, _, cmd = check.partition(" CMD ")
    assert json.loads(cmd) == ["verifier", "health"], check
    # No address, port or transport of its own: `verifier health` reads VERIFIER_PORT, TLS and the rest
    # as `verifier serve` does, so a changed port or TLS cannot leave the check asking the wrong server.
    assert not re.search(r"127\.0\.0\.1|localhost|5005\d|insecure", check)
    assert "--start-period=" in options and "--timeout=" in options


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_binds_are_configurable_and_exposed(stage: Stage) -> None:
    env = stage.env()
    for name in ("VERIFIER_HOST", "VERIFIER_PORT", "VERIFIER_METRICS_HOST", "VERIFIER_METRICS_PORT"):
        assert name in env, f"stage {stage.name}: ENV {name} (docker run -e {name}=... changes it)"
    assert stage.one("EXPOSE").split() == [env["VERIFIER_PORT"], env["VERIFIER_METRICS_PORT"]]
    assert env["VERIFIER_CACHE_DIR"] and env["VERIFIER_KERNELS_DIR"].startswith(stage.one("WORKDIR"))


def _pip_targets(words: list[str]) -> list[str]:
    """What ``pip install ...`` names to install (options and their values left out)."""
    out, skip = [], False
    for word in words[words.index("install") + 1 :]:
        if skip:
            skip = False
        elif word in ("-c", "--constraint", "-r", "--requirement"):
            skip = True
        elif not word.startswith("-"):
            out.append(word)
    return out


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_stage_installs_the_pinned_versions(stage: Stage) -> None:
    copied = [w for args in stage.all("COPY") for w in args.split()[:-1]]
    assert "constraints.txt" in copied
    installs = [c for c in stage.run_commands() if re.match(r"\S*pip install ", c)]
    assert len(installs) == 2, installs
    for cmd in installs:
        assert "-c constraints.txt" in cmd, f"{cmd!r}: every pip install takes the pins"
        assert "--no-cache-dir" in cmd
    bootstrap, project = (shlex.split(c) for c in installs)
    # First pip itself and the build requirements (pinned), then the project built with them: an
    # isolated build environment would install its own, unpinned, build requirements.
    build = [Requirement(r).name for r in PYPROJECT["build-system"]["requires"]]
    want_bootstrap = [*CONSTRAINTS["BOOTSTRAP"], *build]
    assert sorted(map(canonicalize_name, _pip_targets(bootstrap))) == sorted(
        map(canonicalize_name, want_bootstrap)
    )
    assert "--no-build-isolation" in project
    want = "." if stage.name == "cpu" else f".[{','.join(CONSTRAINTS['LOCKED_EXTRAS'])}]"
    assert _pip_targets(project) == [want], f"stage {stage.name} installs {_pip_targets(project)}"
    assert any(re.match(r"\S*pip check$", c) for c in stage.run_commands()), "pip check after the install"


def test_cpu_image_has_no_cuda_and_builds_the_host_kernels() -> None:
    cpu = BY_NAME["cpu"]
    assert cpu.env().get("VERIFIER_BACKEND") == "cpu"
    assert "cupy" not in " ".join(cpu.run_commands())
    for stage in STAGES:
        assert any("g++" in c for c in stage.run_commands() if "apt-get install" in c), stage.name
        # Built by constructing the backends that load them (every library, with its own defines).
        assert any("CpuBackend(" in c and "EmuBackend(" in c for c in stage.run_commands()), (
            f"{stage.name}: kernels prebuilt"
        )


def test_locked_python_matches_the_images() -> None:
    """The images run CPython 3.12 (python:3.12-slim; Ubuntu 24.04's python3): for it, and for every
    other Python pyproject allows, exactly one pin applies to each package of the lock."""
    pins, problems = CONSTRAINTS["read_pins"]()
    assert not problems
    for python in ("3.11", "3.12", "3.13"):
        env = {
            **default_environment(),
            "python_version": python,
            "python_full_version": f"{python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "platform_machine": "x86_64",
        }
        for name, reqs in pins.items():
            live = [r for r in reqs if r.marker is None or r.marker.evaluate(env)]
            assert len(live) == 1, f"python {python}: {name} has {len(live)} pins that apply"


# ---------------------------------------------------------------------------------------- constraints


def test_constraints_pin_every_pyproject_requirement_within_range() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "constraints.py"), "check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def _pyproject(tmp_path: Path, deps: list[str], cuda: list[str], build: list[str]) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        f"[build-system]\nrequires = {json.dumps(build)}\n[project]\nname = 'x'\ndependencies = {json.dumps(deps)}\n"
        f"[project.optional-dependencies]\ncuda12 = {json.dumps(cuda)}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("pins", "problem"),
    [
        ("pip==26.3\nsetuptools==80\nnumpy==2.0\ncupy-cuda12x==14.2.0\n", None),
        ("pip==26.3\nsetuptools==80\nnumpy==1.20\ncupy-cuda12x==14.2.0\n", "numpy==1.20 is outside"),
        ("pip==26.3\nsetuptools==80\ncupy-cuda12x==14.2.0\n", "numpy>=1.26 is not pinned"),
        ("pip==26.3\nsetuptools==80\nnumpy==2.0\n", "cupy-cuda12x>=13 is not pinned"),
        ("pip==26.3\nsetuptools==70\nnumpy==2.0\ncupy-cuda12x==14.2.0\n", "setuptools==70 is outside"),
        ("setuptools==80\nnumpy==2.0\ncupy-cuda12x==14.2.0\n", "bootstrap: pip is not pinned"),
        ("pip==26.3\nsetuptools==80\nnumpy>=2.0\ncupy-cuda12x==14.2.0\n", "is not an exact pin"),
        (
            "pip==26.3\nsetuptools==80\nnumpy==2.0\nNumPy==2.1\ncupy-cuda12x==14.2.0\n",
            "pinned more than once",
        ),
        (
            "pip==26.3\nsetuptools==80\nnumpy==2.0 ; python_version < '3.12'\nnumpy==1.2 ; python_version >= '3.12'\n"
            "cupy-cuda12x==14.2.0\n",
            'numpy==1.2 ; python_version >= "3.12" is outside',
        ),
    ],
)
def test_constraints_check_catches(tmp_path: Path, pins: str, problem: str | None) -> None:
    pyproject = _pyproject(tmp_path, ["numpy>=1.26"], ["cupy-cuda12x>=13"], ["setuptools>=77"])
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("# comment\n" + pins + "    # via x\n", encoding="utf-8")
    found: list[str] = CONSTRAINTS["check"](pyproject, constraints)
    if problem is None:
        assert found == []
    else:
        assert any(problem in p for p in found), found


# ------------------------------------------------------------------------------------------ .dockerignore


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    """moby/patternmatcher's translation: ``**`` any number of directories, ``*`` and ``?`` within one."""
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out, i = out + "(.*/)?", i + 3
            continue
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
            continue
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out)


def _dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:].strip() if negate else line
        pattern = pattern.strip("/") if pattern != "/" else pattern
        rules.append((negate, _dockerignore_regex(pattern)))
    return rules


def _in_context(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker sends ``path``: the last rule matching it, or one of its parent folders, decides."""
    parts = path.split("/")
    included = True
    for negate, regex in rules:
        if any(regex.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            included = negate
    return included


def test_build_context_holds_what_the_image_copies_and_nothing_local() -> None:
    rules = _dockerignore()
    sources = {w for stage in STAGES for args in stage.all("COPY") for w in args.split()[:-1]}
    files = [
        p.relative_to(ROOT).as_posix()
        for src in sources
        for p in ([ROOT / src] if (ROOT / src).is_file() else (ROOT / src).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert files and all(_in_context(f, rules) for f in files), [
        f for f in files if not _in_context(f, rules)
    ]
    for left_out in (
        ".git/HEAD",
        ".venv/bin/python",
        ".whl/x.whl",
        ".mypy_cache/x.json",
        ".pytest_cache/v",
        ".ruff_cache/x",
        "bench-out/suite.json",
        "benchmarks/results/suite-cpu-throughput.png",
        "benchmarks/results/x.json",
        "tests/test_packaging.py",
        "verifier/__pycache__/cli.cpython-312.pyc",
        "kernels/x.so",
        "verifier.egg-info/PKG-INFO",
        "build/lib/x.py",
        "notes.txt",
    ):
        assert not _in_context(left_out, rules), left_out


# ------------------------------------------------------------------------------------------- tools


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip(
            "hadolint is not installed (scripts/lint installs pyproject's lint extra, and CI runs it)"
        )
    proc = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_health_subcommand_exists() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "verifier", "health", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0 and "invalid choice" in proc.stderr:
        pytest.skip("verifier health is not in verifier/cli.py yet; the HEALTHCHECK needs it")
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------------------------- documents


def test_license_is_the_apache_2_text_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(text).hexdigest() == _APACHE_2_SHA256, "LICENSE differs from the Apache-2.0 text"
    assert PYPROJECT["project"]["license"] == "Apache-2.0"


def test_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)
    assert versions[0] == "Unreleased" and PYPROJECT["project"]["version"] in versions
    for heading in re.findall(r"^### (.+)$", text, re.MULTILINE):
        assert heading in {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}, heading


def test_security_policy_says_how_to_report_and_what_is_in_scope() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    for heading in ("Reporting a vulnerability", "Scope", "Supported versions"):
        assert re.search(rf"^## {heading}", text, re.MULTILINE), heading


def _rules_sections() -> set[str]:
    text = (ROOT / "docs" / "RULES.md").read_text(encoding="utf-8")
    headings = re.findall(r"^#{2,3} (\d+(?:\.\d+)?)[. ]", text, re.MULTILINE)  # "## 3. ..." or "### 3.2 ..."
    steps = re.findall(r"^\| (\d+\.\d+) \|", text, re.MULTILINE)  # a table row "| 1.4 | check | verdict |"
    return set(headings) | set(steps)


def test_rules_sections_are_numbered_in_order() -> None:
    sections = _rules_sections()
    top = sorted(int(s) for s in sections if "." not in s)
    assert top == list(range(1, len(top) + 1)) and len(top) >= 4


def _tracked_text_files() -> list[Path]:
    proc = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip("not a git checkout")
    suffixes = {".py", ".proto", ".toml", ".md", ".cu", ".cuh", ".sh", ""}
    return [ROOT / p for p in proc.stdout.splitlines() if Path(p).suffix in suffixes and (ROOT / p).is_file()]


def test_every_rules_citation_names_a_section_that_exists() -> None:
    """``docs/RULES.md section N`` (or ``sections N and M``, ``section N.M``) anywhere in the tree."""
    sections = _rules_sections()
    cite = re.compile(r"RULES\.md,? sections? ((?:\d+(?:\.\d+)?(?:,? (?:and |to |or )?)?)+)")
    bad: list[str] = []
    for path in _tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for m in cite.finditer(text):
            for number in re.findall(r"\d+(?:\.\d+)?", m.group(1)):
                if number not in sections:
                    bad.append(f"{path.relative_to(ROOT)}: {m.group(0)!r}")
    assert not bad, bad


@pytest.mark.parametrize("path", ["pyproject.toml", "protos/verifier/v1/verifier.proto"])
def test_the_rules_are_cited_from_the_repository(path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    assert "SPEC.md" not in text and "docs/RULES.md" in text, (
        f"{path}: cite docs/RULES.md, which is in the tree"
    )
