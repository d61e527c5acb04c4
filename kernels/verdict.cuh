// Verdict codes written by the kernels: identical to verifier/verdict.py and the proto enum
// (tests/test_verdict.py checks all three). Zero never means valid.
#ifndef VERIFIER_KERNELS_VERDICT_CUH
#define VERIFIER_KERNELS_VERDICT_CUH

#define VERDICT_UNSPECIFIED 0
#define VERDICT_OK 1
#define VERDICT_MALFORMED_LENGTH 2
#define VERDICT_NON_CANONICAL_S 3
#define VERDICT_SMALL_ORDER_R 4
#define VERDICT_NON_CANONICAL_KEY 5
#define VERDICT_SMALL_ORDER_KEY 6
#define VERDICT_UNDECODABLE_KEY 7
#define VERDICT_EQUATION_FAILED 8
#define VERDICT_UNDECODABLE_R 9
#define VERDICT_MALFORMED_PROOF 10
#define VERDICT_ROOT_MISMATCH 11

#endif  // VERIFIER_KERNELS_VERDICT_CUH
