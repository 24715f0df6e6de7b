"""Float32 maths for numba loops: the app's keystroke kernels (echo_tui.core.kernels) and the
trainer's fused GRU (trainer.gru_cpu) compute their gates with the same few lines.

Reassociating sums lets the compiler vectorise the loops (the order of a float sum changes in
the last bits, as it does between PyTorch's own kernels); no assumption about NaN or infinity
is made.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

FAST = {"reassoc", "contract"}
# numpy's rules for x / 0 (inf, no exception): numba's default checks every division for
# zero, and that branch alone keeps the gate loops from vectorising (none divides by zero:
# 1 + e^x >= 1). Compiled code is cached beside the module, so only the first run compiles.
JIT = dict(cache=True, fastmath=FAST, error_model="numpy", nogil=True)
INLINE = dict(inline="always", fastmath=FAST, error_model="numpy")

F = np.float32  # every constant float32: a float64 one would widen the whole expression
ONE, TWO = F(1.0), F(2.0)


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float32 whose bits are the int32 `bits` (a bit cast, no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


# Cephes' expf: e^x = 2^n e^r with |r| <= ln2 / 2, e^r from a degree-6 polynomial
_EXP_HI, _EXP_LO = F(88.3762626647949), F(-87.3365447504019)
_LOG2E, _LN2_HI, _LN2_LO = F(1.44269504088896341), F(0.693359375), F(-2.12194440e-4)
_P0, _P1, _P2 = F(1.9875691500e-4), F(1.3981999507e-3), F(8.3334519073e-3)
_P3, _P4, _P5 = F(4.1665795894e-2), F(1.6666665459e-1), F(5.0000001201e-1)


@numba.njit(**INLINE)
def fexp(x):
    """e^x in float32, within 1e-7 relative of the exact value (as libm's expf). Without a
    vector maths library numba calls libm once per element; written out as arithmetic, the
    loops that use it vectorise, five times faster."""
    x = min(max(x, _EXP_LO), _EXP_HI)
    n = np.floor(x * _LOG2E + F(0.5))
    r = x - n * _LN2_HI - n * _LN2_LO
    p = (((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5) * (r * r) + r + ONE
    return p * _float_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))


@numba.njit(**INLINE)
def sigmoid(x):
    return ONE / (ONE + fexp(-x))


@numba.njit(**INLINE)
def tanh(x):
    """tanh(x) = 2 sigmoid(2x) - 1: one exp, within float32 rounding of libm's tanh."""
    return TWO / (ONE + fexp(-TWO * x)) - ONE
