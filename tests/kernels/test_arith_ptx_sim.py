"""The inline-PTX carry chains of kernels/common/arith_ptx.cuh, checked without a GPU.

kernels/tools/gen_arith_ptx.py emits each primitive as instruction lists; this test runs those very lists
through a small simulator of the PTX integer instructions they use (carry flag CC.CF included, PTX ISA
"Extended-Precision Integer Arithmetic Instructions") against Python integers, and checks that the
committed headers are what the generators print. The GPU twin test (test_arith_twin_gpu.py) then
compares the compiled PTX with the portable twins on a device.
"""

from __future__ import annotations

import random
import re

import pytest

from tests.support.kernel_shim import load_tool
from verifier.backends._native import kernels_dir

M32 = 2**32
_INSN = re.compile(r"^(?P<op>[a-z.0-9]+)\s+(?P<args>[^;]+);$")


GEN = load_tool("gen_arith_ptx")


# C-level arrays (lists of 32-bit limbs) and scalars by name, as a primitive's statements see them.
Env = dict[str, list[int] | int]


class CarryUnset(AssertionError):
    pass


def run_stmt(code: list[str], regs: dict[str, int]) -> None:
    """Execute one asm statement; the carry flag starts undefined (it may not cross statements)."""
    cf: int | None = None

    def val(tok: str) -> int:
        tok = tok.strip()
        if tok.startswith("{"):
            return regs[tok[1:-1]]
        return int(tok, 0)

    def carry() -> int:
        if cf is None:
            raise CarryUnset(f"carry read before any .cc instruction set it in {code}")
        return cf

    for line in code:
        m = _INSN.match(line)
        assert m, line
        op, args = m["op"], [a.strip() for a in m["args"].split(",")]
        dst = args[0][1:-1]
        src = [val(a) for a in args[1:]]
        parts = op.split(".")
        base, cc = parts[0], "cc" in parts
        if base in ("add", "addc"):
            t = src[0] + src[1] + (carry() if base == "addc" else 0)
            new_cf = t >> 32
        elif base in ("sub", "subc"):
            t = src[0] - src[1] - (carry() if base == "subc" else 0)
            new_cf = int(t < 0)
        elif base in ("mad", "madc", "mul"):
            prod = src[0] * src[1]
            half = prod % M32 if "lo" in parts else prod >> 32
            if base == "mul":
                t = half
            else:
                t = half + src[2] + (carry() if base == "madc" else 0)
            new_cf = t >> 32
        else:
            raise AssertionError(f"simulator lacks {op}")
        regs[dst] = t % M32
        if cc:
            cf = new_cf


def run_primitive(p: object, env: Env) -> int | None:
    """Run a generator ``Primitive`` with C-level arrays/scalars in ``env``; returns its return value."""
    if "r[i] = 0" in p.prologue:  # type: ignore[attr-defined]
        env["r"] = [0] * len(env["r"])  # type: ignore[arg-type]
    if "uint32_t c = 0" in p.prologue:  # type: ignore[attr-defined]
        env["c"] = 0

    def read(expr: str) -> int:
        m = re.fullmatch(r"(\w+)\[(\d+)\]", expr)
        if m:
            return env[m[1]][int(m[2])]  # type: ignore[index]
        return env[expr]  # type: ignore[return-value]

    def write(expr: str, v: int) -> None:
        m = re.fullmatch(r"(\w+)\[(\d+)\]", expr)
        if m:
            env[m[1]][int(m[2])] = v  # type: ignore[index]
        else:
            env[expr] = v

    for stmt, mapping in p.stmts:  # type: ignore[attr-defined]
        regs = {name: read(mapping[name]) for name in stmt.outs + stmt.ins}
        run_stmt(stmt.code, regs)
        for name in stmt.outs:
            write(mapping[name], regs[name])
    ep = p.epilogue  # type: ignore[attr-defined]
    if ep == "return c;":
        return env["c"]  # type: ignore[return-value]
    if ep == "return c & 1u;":
        return env["c"] & 1  # type: ignore[operator]
    assert ep == "", ep
    return None


def to_limbs(x: int, n: int) -> list[int]:
    return [(x >> (32 * i)) % M32 for i in range(n)]


def from_limbs(a: list[int]) -> int:
    return sum(w << (32 * i) for i, w in enumerate(a))


def _result(env: Env) -> list[int]:
    """``env["r"]``, the result array (run_primitive may have replaced it with a zeroed one)."""
    r = env["r"]
    assert isinstance(r, list)
    return r


def _values(rng: random.Random) -> list[int]:
    edge = [0, 1, 2**32 - 1, 2**256 - 1, 2**255 - 19, 2**255, 2**256 - 38, 2**224, 2**128 - 1]
    return (
        edge
        + [rng.getrandbits(256) for _ in range(150)]
        + [rng.getrandbits(rng.randrange(1, 256)) for _ in range(50)]
    )


def test_generated_ptx_semantics(rng: random.Random) -> None:
    prims = {p.name: p for p in GEN.PRIMITIVES}
    xs = _values(rng)
    for a in xs:
        b = rng.choice(xs)
        s = rng.choice([0, 1, 19, 38, 2**32 - 1, rng.getrandbits(32)])
        env: Env = {"r": [0] * 8, "a": to_limbs(a, 8), "b": to_limbs(b, 8), "c": 0}
        assert run_primitive(prims["arith_add8_ptx"], env) == (a + b) >> 256
        assert from_limbs(_result(env)) == (a + b) % 2**256
        env = {"r": [0] * 8, "a": to_limbs(a, 8), "b": to_limbs(b, 8), "c": 0}
        assert run_primitive(prims["arith_sub8_ptx"], env) == int(a < b)
        assert from_limbs(_result(env)) == (a - b) % 2**256
        env = {"r": [0] * 8, "a": to_limbs(a, 8), "s": s, "c": 0}
        assert run_primitive(prims["arith_add8_u32_ptx"], env) == (a + s) >> 256
        assert from_limbs(_result(env)) == (a + s) % 2**256
        env = {"r": [0] * 8, "a": to_limbs(a, 8), "s": s, "c": 0}
        assert run_primitive(prims["arith_sub8_u32_ptx"], env) == int(a < s)
        assert from_limbs(_result(env)) == (a - s) % 2**256
        env = {"r": [0xDEADBEEF] * 9, "a": to_limbs(a, 8), "s": s, "c": to_limbs(b, 8)}
        run_primitive(prims["arith_mad8_u32_ptx"], env)
        assert from_limbs(_result(env)) == b + a * s
        env = {"r": [0xDEADBEEF] * 16, "a": to_limbs(a, 8), "b": to_limbs(b, 8)}
        run_primitive(prims["arith_mul8_ptx"], env)
        assert from_limbs(_result(env)) == a * b
        env = {"r": [0xDEADBEEF] * 16, "a": to_limbs(a, 8)}
        run_primitive(prims["arith_sqr8_ptx"], env)
        assert from_limbs(_result(env)) == a * a


def test_no_carry_crosses_statements() -> None:
    """Each asm statement's first carry-using instruction comes after a .cc producer in that statement."""
    for p in GEN.PRIMITIVES:
        for stmt, _ in p.stmts:
            regs = {n: 0 for n in stmt.outs + stmt.ins}
            run_stmt(stmt.code, regs)  # raises CarryUnset otherwise


def test_operand_counts_fit_inline_asm() -> None:
    for p in GEN.PRIMITIVES:
        for stmt, _ in p.stmts:
            assert len(stmt.outs) + len(stmt.ins) <= 30, p.name  # GCC-style asm operand limit


@pytest.mark.parametrize(
    ("tool", "header", "args"),
    [
        ("gen_arith_ptx", "common/arith_ptx.cuh", ()),
        ("gen_ge25519_base_table", "ec/ge25519_base_table.cuh", ()),
        ("gen_weierstrass_tables", "ec/weierstrass_g_tables.cuh", ()),
    ],
)
def test_generated_headers_are_fresh(tool: str, header: str, args: tuple[str, ...]) -> None:
    mod = GEN if tool == "gen_arith_ptx" else load_tool(tool)
    want = mod.render()
    got = (kernels_dir() / header).read_text()
    assert got == want, f"{header} is stale: run python kernels/tools/{tool}.py > kernels/{header}"


def test_field_constants_match_generator() -> None:
    """d, 2d and sqrt(-1) in both field representations (ff/fe25519_32.cuh, ff/fe25519_51.cuh)."""
    mod = load_tool("gen_ge25519_base_table")
    pattern = {"32": r"0x[0-9a-f]{8}u\b", "51": r"0x[0-9a-f]{13}ull"}
    lines = mod.constants().splitlines()
    assert len(lines) == 6
    for line in lines:
        name, width, limbs = line.replace(":", "").split(None, 2)
        text = (kernels_dir() / "ff" / f"fe25519_{width}.cuh").read_text()
        ident = {"d": "fe25519_d", "2d": "fe25519_d2", "sqrtm1": "fe25519_sqrtm1"}[name]
        block = text[text.index(f"fe25519 {ident} =") :]
        block = block[: block.index(";")]
        got = re.findall(pattern[width], block)
        assert got == [w.strip() for w in limbs.split(",")], (name, width)


def test_base_table_entries_are_multiples_of_b() -> None:
    mod = load_tool("gen_ge25519_base_table")
    from tests.support import ed25519_ref as ref

    rows = mod.table()
    for j in (0, 1, 2, 3, 64, 127, 128):
        x, y, z, _ = ref.base_mult(j)
        zi = pow(z, -1, ref.P)
        x, y = x * zi % ref.P, y * zi % ref.P
        want = (
            to_limbs((y + x) % ref.P, 8)
            + to_limbs((y - x) % ref.P, 8)
            + to_limbs(2 * ref.D * x * y % ref.P, 8)
        )
        assert rows[j] == want, j
