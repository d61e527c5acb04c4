"""Prints the fp256_moduli array of kernels/ff/fp256.cuh (m, -m^-1 mod 2^32, R^2 mod m, R mod m with
R = 2^256) for the field primes and group orders of secp256k1 and P-256, from Python integers."""

from __future__ import annotations

MODULI = {
    "secp256k1_p": 2**256 - 2**32 - 977,
    "secp256k1_n": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
    "p256_p": 2**256 - 2**224 + 2**192 + 2**96 - 1,
    "p256_n": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
}


def _limbs(x: int) -> str:
    return ", ".join(f"0x{(x >> (32 * i)) & 0xFFFFFFFF:08x}u" for i in range(8))


def main() -> None:
    r = 2**256
    print("VERIFIER_CONSTANT fp256_modulus fp256_moduli[4] = {")
    for name, m in MODULI.items():
        print(f"    {{  // {name}")
        print(f"        {{{_limbs(m)}}},")
        print(f"        0x{(-pow(m, -1, 2**32)) % 2**32:08x}u,")
        print(f"        {{{_limbs(r * r % m)}}},")
        print(f"        {{{_limbs(r % m)}}}}},")
    print("};")


if __name__ == "__main__":
    main()
