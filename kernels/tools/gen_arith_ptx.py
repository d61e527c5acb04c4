#!/usr/bin/env python3
"""Generates kernels/common/arith_ptx.cuh: the inline-PTX carry chains behind kernels/common/arith.cuh.

Each primitive is emitted as a list of PTX instructions (``PRIMITIVES``) so that
tests/kernels/test_arith_ptx_sim.py can run the very same instruction lists through a small carry-flag
simulator against Python integers, on a machine without a GPU. Every asm statement starts its chain with
a carry-less instruction (add.cc / sub.cc / mad.lo.cc / mad.hi.cc), so no carry flag crosses two asm
statements. Run from the repository root:

    python kernels/tools/gen_arith_ptx.py > kernels/common/arith_ptx.cuh
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass
class Asm:
    """One asm statement: instructions over named operands (r* in/out, a*/b*/s inputs, c out)."""

    outs: list[str]  # "+r" operands (read and written), in operand order
    ins: list[str]  # "r" operands
    code: list[str] = field(default_factory=list)  # instructions with {name} placeholders


@dataclass
class Primitive:
    name: str
    signature: str
    prologue: str
    stmts: list[tuple[Asm, dict[str, str]]]  # statement, operand name -> C expression
    epilogue: str
    doc: str


def _add8() -> Primitive:
    s = Asm(
        outs=[f"r{i}" for i in range(8)] + ["c"],
        ins=[f"a{i}" for i in range(8)] + [f"b{i}" for i in range(8)],
    )
    s.code.append("add.cc.u32 {r0}, {a0}, {b0};")
    s.code += [f"addc.cc.u32 {{r{i}}}, {{a{i}}}, {{b{i}}};" for i in range(1, 8)]
    s.code.append("addc.u32 {c}, 0, 0;")
    m = {f"r{i}": f"r[{i}]" for i in range(8)} | {f"a{i}": f"a[{i}]" for i in range(8)}
    m |= {f"b{i}": f"b[{i}]" for i in range(8)} | {"c": "c"}
    return Primitive(
        "arith_add8_ptx",
        "uint32_t arith_add8_ptx(uint32_t r[8], const uint32_t a[8], const uint32_t b[8])",
        "uint32_t c = 0;",
        [(s, m)],
        "return c;",
        "r = a + b mod 2^256; returns the carry (0 or 1).",
    )


def _sub8() -> Primitive:
    s = Asm(
        outs=[f"r{i}" for i in range(8)] + ["c"],
        ins=[f"a{i}" for i in range(8)] + [f"b{i}" for i in range(8)],
    )
    s.code.append("sub.cc.u32 {r0}, {a0}, {b0};")
    s.code += [f"subc.cc.u32 {{r{i}}}, {{a{i}}}, {{b{i}}};" for i in range(1, 8)]
    s.code.append("subc.u32 {c}, 0, 0;")  # 0 - borrow: 0 or 0xffffffff
    m = {f"r{i}": f"r[{i}]" for i in range(8)} | {f"a{i}": f"a[{i}]" for i in range(8)}
    m |= {f"b{i}": f"b[{i}]" for i in range(8)} | {"c": "c"}
    return Primitive(
        "arith_sub8_ptx",
        "uint32_t arith_sub8_ptx(uint32_t r[8], const uint32_t a[8], const uint32_t b[8])",
        "uint32_t c = 0;",
        [(s, m)],
        "return c & 1u;",
        "r = a - b mod 2^256; returns the borrow (0 or 1).",
    )


def _add8_u32() -> Primitive:
    s = Asm(outs=[f"r{i}" for i in range(8)] + ["c"], ins=[f"a{i}" for i in range(8)] + ["s"])
    s.code.append("add.cc.u32 {r0}, {a0}, {s};")
    s.code += [f"addc.cc.u32 {{r{i}}}, {{a{i}}}, 0;" for i in range(1, 8)]
    s.code.append("addc.u32 {c}, 0, 0;")
    m = {f"r{i}": f"r[{i}]" for i in range(8)} | {f"a{i}": f"a[{i}]" for i in range(8)} | {"s": "s", "c": "c"}
    return Primitive(
        "arith_add8_u32_ptx",
        "uint32_t arith_add8_u32_ptx(uint32_t r[8], const uint32_t a[8], uint32_t s)",
        "uint32_t c = 0;",
        [(s, m)],
        "return c;",
        "r = a + s mod 2^256 for one 32-bit s; returns the carry.",
    )


def _sub8_u32() -> Primitive:
    s = Asm(outs=[f"r{i}" for i in range(8)] + ["c"], ins=[f"a{i}" for i in range(8)] + ["s"])
    s.code.append("sub.cc.u32 {r0}, {a0}, {s};")
    s.code += [f"subc.cc.u32 {{r{i}}}, {{a{i}}}, 0;" for i in range(1, 8)]
    s.code.append("subc.u32 {c}, 0, 0;")
    m = {f"r{i}": f"r[{i}]" for i in range(8)} | {f"a{i}": f"a[{i}]" for i in range(8)} | {"s": "s", "c": "c"}
    return Primitive(
        "arith_sub8_u32_ptx",
        "uint32_t arith_sub8_u32_ptx(uint32_t r[8], const uint32_t a[8], uint32_t s)",
        "uint32_t c = 0;",
        [(s, m)],
        "return c & 1u;",
        "r = a - s mod 2^256 for one 32-bit s; returns the borrow.",
    )


def _mad8_u32() -> Primitive:
    # r[0..9) = c[0..8) + a[0..8) * s. Even chain: lo products; odd chain: hi products one limb up.
    s = Asm(
        outs=[f"r{i}" for i in range(9)],
        ins=[f"a{i}" for i in range(8)] + ["s"] + [f"c{i}" for i in range(8)],
    )
    s.code.append("mad.lo.cc.u32 {r0}, {a0}, {s}, {c0};")
    s.code += [f"madc.lo.cc.u32 {{r{i}}}, {{a{i}}}, {{s}}, {{c{i}}};" for i in range(1, 8)]
    s.code.append("addc.u32 {r8}, 0, 0;")
    s.code.append("mad.hi.cc.u32 {r1}, {a0}, {s}, {r1};")
    s.code += [f"madc.hi.cc.u32 {{r{i + 1}}}, {{a{i}}}, {{s}}, {{r{i + 1}}};" for i in range(1, 7)]
    s.code.append("madc.hi.u32 {r8}, {a7}, {s}, {r8};")  # no carry out: c + a*s < 2^288
    m = {f"r{i}": f"r[{i}]" for i in range(9)} | {f"a{i}": f"a[{i}]" for i in range(8)} | {"s": "s"}
    m |= {f"c{i}": f"c[{i}]" for i in range(8)}
    return Primitive(
        "arith_mad8_u32_ptx",
        "void arith_mad8_u32_ptx(uint32_t r[9], const uint32_t a[8], uint32_t s, const uint32_t c[8])",
        "",
        [(s, m)],
        "",
        "r (9 limbs) = c + a * s; never overflows (c + a*s < 2^288).",
    )


def _row(i: int, js: list[int], shift: int, bname: str, fresh: bool = False) -> Asm:
    """r[shift + j] += a[j] * b, for j in js (consecutive), carry into r[shift + js[-1] + 1].

    ``fresh``: the limbs this row touches are still zero (a product's first row), so the low halves are
    plain mul.lo (no addend, no carry chain) and the top limb needs no carry-in add."""
    top = shift + js[-1] + 1
    outs = [f"r{k}" for k in range(shift + js[0], top + 1)]
    s = Asm(outs=outs, ins=[f"a{j}" for j in js] + [bname])
    first = True
    for j in js:
        if fresh:
            s.code.append(f"mul.lo.u32 {{r{shift + j}}}, {{a{j}}}, {{{bname}}};")
            continue
        op = "mad.lo.cc.u32" if first else "madc.lo.cc.u32"
        first = False
        s.code.append(f"{op} {{r{shift + j}}}, {{a{j}}}, {{{bname}}}, {{r{shift + j}}};")
    if not fresh:
        s.code.append(f"addc.u32 {{r{top}}}, {{r{top}}}, 0;")
    first = True
    for j in js:
        last = j == js[-1]
        op = (
            "mad.hi.u32"
            if (first and last)
            else "mad.hi.cc.u32"
            if first
            else "madc.hi.u32"
            if last
            else "madc.hi.cc.u32"
        )
        first = False
        s.code.append(f"{op} {{r{shift + j + 1}}}, {{a{j}}}, {{{bname}}}, {{r{shift + j + 1}}};")
    return s


def _mul8() -> Primitive:
    stmts = []
    for i in range(8):
        s = _row(i, list(range(8)), i, "b", fresh=i == 0)
        m = {n: f"r[{n[1:]}]" for n in s.outs} | {f"a{j}": f"a[{j}]" for j in range(8)} | {"b": f"b[{i}]"}
        stmts.append((s, m))
    return Primitive(
        "arith_mul8_ptx",
        "void arith_mul8_ptx(uint32_t r[16], const uint32_t a[8], const uint32_t b[8])",
        "for (int i = 0; i < 16; ++i) r[i] = 0;",
        stmts,
        "",
        "r (16 limbs) = a * b, schoolbook by rows: 64 mul.lo + 64 mul.hi, two carry chains per row (row 0,\n"
        "// onto zeros, has plain mul.lo and one chain).\n"
        "// After row i the partial sum is (b mod 2^(32(i+1))) * a < 2^(32(i+9)): the hi chain never carries out.",
    )


def _sqr8() -> Primitive:
    stmts = []
    for i in range(7):  # off-diagonal rows: r[i + j] += a[i] * a[j] for j > i
        s = _row(i, list(range(i + 1, 8)), i, "b", fresh=i == 0)
        m = {n: f"r[{n[1:]}]" for n in s.outs} | {f"a{j}": f"a[{j}]" for j in range(8)} | {"b": f"a[{i}]"}
        stmts.append((s, m))
    d = Asm(outs=[f"r{k}" for k in range(16)], ins=[f"a{j}" for j in range(8)])
    d.code.append("add.cc.u32 {r0}, {r0}, {r0};")  # double the off-diagonal sum (< 2^511: no carry out)
    d.code += [f"addc.cc.u32 {{r{k}}}, {{r{k}}}, {{r{k}}};" for k in range(1, 15)]
    d.code.append("addc.u32 {r15}, {r15}, {r15};")
    d.code.append("mad.lo.cc.u32 {r0}, {a0}, {a0}, {r0};")  # add the squares a[j]^2 at limb 2j
    d.code.append("madc.hi.cc.u32 {r1}, {a0}, {a0}, {r1};")
    for j in range(1, 8):
        d.code.append(f"madc.lo.cc.u32 {{r{2 * j}}}, {{a{j}}}, {{a{j}}}, {{r{2 * j}}};")
        op = "madc.hi.u32" if j == 7 else "madc.hi.cc.u32"
        d.code.append(f"{op} {{r{2 * j + 1}}}, {{a{j}}}, {{a{j}}}, {{r{2 * j + 1}}};")
    m = {f"r{k}": f"r[{k}]" for k in range(16)} | {f"a{j}": f"a[{j}]" for j in range(8)}
    stmts.append((d, m))
    return Primitive(
        "arith_sqr8_ptx",
        "void arith_sqr8_ptx(uint32_t r[16], const uint32_t a[8])",
        "for (int i = 0; i < 16; ++i) r[i] = 0;",
        stmts,
        "",
        "r (16 limbs) = a^2: 28 cross products (each row's partial sum bounded as in mul8), doubled,\n"
        "// plus the 8 squares: 36 mul.lo + 36 mul.hi instead of 64 + 64.",
    )


PRIMITIVES = [_add8(), _sub8(), _add8_u32(), _sub8_u32(), _mad8_u32(), _mul8(), _sqr8()]


def _render_stmt(s: Asm, m: dict[str, str]) -> str:
    names = s.outs + s.ins
    idx = {n: i for i, n in enumerate(names)}
    lines = [ins.format(**{n: f"%{idx[n]}" for n in names}) for ins in s.code]
    body = "\n".join(f'      "{ln}\\n\\t"' for ln in lines)
    outs = ", ".join(f'"+r"({m[n]})' for n in s.outs)
    ins = ", ".join(f'"r"({m[n]})' for n in s.ins)
    return f"  asm volatile(\n{body}\n      : {outs}\n      : {ins});"


def render() -> str:
    out = [
        "// GENERATED by kernels/tools/gen_arith_ptx.py -- DO NOT EDIT. Inline-PTX carry chains for the",
        "// primitives of kernels/common/arith.cuh (device code only; the portable twins live in arith.cuh).",
        "#ifndef VERIFIER_KERNELS_COMMON_ARITH_PTX_CUH",
        "#define VERIFIER_KERNELS_COMMON_ARITH_PTX_CUH",
        "#if defined(__CUDACC__)",
        "",
    ]
    for p in PRIMITIVES:
        out.append(f"// {p.doc}")
        out.append(f"__device__ __forceinline__ {p.signature} {{")
        if p.prologue:
            out.append(f"  {p.prologue}")
        for s, m in p.stmts:
            out.append(_render_stmt(s, m))
        if p.epilogue:
            out.append(f"  {p.epilogue}")
        out.append("}")
        out.append("")
    out += ["#endif  // __CUDACC__", "#endif  // VERIFIER_KERNELS_COMMON_ARITH_PTX_CUH", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(render())
