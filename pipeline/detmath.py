"""Arithmetic whose results are the same bytes on every machine.

The transcendental functions of numpy (log10, power, exp) pick SIMD kernels by the CPU's instruction set (AVX-512 or
AVX2) and those of the C library (math.log10, math.pow, and through them scipy) pick FMA or non-FMA variants: the last
bit of a result then depends on the machine. Every number memwall commits (fits, plotted coordinates) is computed here
instead, from IEEE-754 basic operations only (+, -, *, /, frexp, ldexp, rint), whose results are exactly rounded and so
identical on every conforming machine, on numpy arrays (vectorised) or Python floats.

Accuracy is a few units in the last place, far below what any figure or table shows; determinism is the point.
"""

from __future__ import annotations

import math

import numpy as np

LN2_HI = 6.93147180369123816490e-01  # ln 2 split in two (fdlibm): k * LN2_HI is exact for |k| < 2**20
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e00
LN10 = 2.30258509299404568402e00
INV_LN10 = 4.34294481903251816668e-01
SQRT_HALF = 7.07106781186547572737e-01
LOG10_2 = 3.01029995663981198017e-01
# 1 / (2k + 1) for the series of atanh, and 1 / k! for exp: fixed constants, evaluated once by exact division.
_ATANH = tuple(1.0 / (2 * k + 1) for k in range(1, 12))
_EXP = tuple(1.0 / math.factorial(k) for k in range(0, 18))


def ln(x):
    """Natural logarithm of positive values (array or float), from basic operations only.

    x = m 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, as its series to
    s^23 (the next term is below 1e-19 of the sum)."""
    x = np.asarray(x, dtype="float64")
    m, e = np.frexp(x)
    low = m < SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = np.where(low, e - 1, e).astype("float64")
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    series = np.full_like(z, _ATANH[-1])
    for coefficient in reversed(_ATANH[:-1]):
        series = coefficient + z * series
    ln_m = 2.0 * s + 2.0 * s * (z * series)
    result = e * LN2_HI + (ln_m + e * LN2_LO)
    return result if result.ndim else float(result)


def log10(x):
    """Base-10 logarithm of positive values, deterministic (see ln)."""
    result = np.asarray(ln(x), dtype="float64") * INV_LN10
    return result if result.ndim else float(result)


def exp(y):
    """e^y from basic operations: y = k ln 2 + r with |r| <= ln2/2, e^r as its Taylor series to r^17."""
    y = np.asarray(y, dtype="float64")
    k = np.rint(y * INV_LN2)
    r = (y - k * LN2_HI) - k * LN2_LO
    series = np.full_like(r, _EXP[-1])
    for coefficient in reversed(_EXP[:-1]):
        series = coefficient + r * series
    with np.errstate(over="ignore"):
        result = np.ldexp(series, np.clip(k, -2000, 2000).astype("int64"))
    return result if result.ndim else float(result)


def pow10(y):
    """10^y, deterministic: 10^y = 10^k 10^f with k = floor(y), 10^k the exactly rounded float of the integer 10**k
    and 10^f = exp(f ln 10) for f in [0, 1) (integers give exact powers of ten)."""
    y = np.asarray(y, dtype="float64")
    k = np.floor(y)
    f = y - k
    finite = np.isfinite(k)
    powers = np.full_like(y, np.nan)
    for value in np.unique(k[finite]):
        exponent = int(value)
        if exponent > 308:
            power = math.inf
        elif exponent < -340:
            power = 0.0
        else:
            power = float(10**exponent) if exponent >= 0 else 1.0 / 10 ** (-exponent)
        powers[k == value] = power
    with np.errstate(over="ignore", invalid="ignore"):
        result = np.where(finite, powers * np.asarray(exp(f * LN10)), np.where(y > 0, math.inf, 0.0))
    result = np.where(np.isnan(y), np.nan, result)
    return result if result.ndim else float(result)


def round_sig(values, digits: int):
    """Values rounded to `digits` significant digits (array or float; NaN and inf pass through): what a figure or a
    table needs, and free of differences in the last bits."""

    def one(v: float) -> float:
        if not math.isfinite(v) or v == 0.0:
            return v
        return float(f"{v:.{digits - 1}e}")

    if np.ndim(values):
        return np.array([one(float(v)) for v in np.asarray(values, dtype="float64")])
    return one(float(values))


def round_bits(values: np.ndarray, bits: int = 24) -> np.ndarray:
    """Values with their mantissa rounded to `bits` bits (24: float32's precision, about 7 significant digits),
    vectorized and exact (frexp, a multiplication by a power of two, rint, ldexp): stored tables compress better and
    hold no last-bit noise."""
    values = np.asarray(values, dtype="float64")
    mantissa, exponent = np.frexp(values)
    scale = float(2**bits)
    with np.errstate(invalid="ignore"):
        rounded = np.ldexp(np.rint(mantissa * scale) / scale, exponent)
    return np.where(np.isfinite(values), rounded, values)


def fsum_mean(values: np.ndarray) -> float:
    """The mean by math.fsum: exactly rounded, independent of summation order and of SIMD."""
    return math.fsum(values) / len(values)


# Student's t 97.5% quantile (two-sided 95% interval) for 1..200 degrees of freedom: scipy.stats.t.ppf(0.975, df),
# evaluated once and written here as constants (scipy evaluates it through the C library's FMA-dependent functions).
_T975 = (
    12.706204736174694,
    4.302652729749462,
    3.1824463052837078,
    2.7764451051977934,
    2.5705818356363146,
    2.4469118511449786,
    2.364624251592784,
    2.306004135204166,
    2.262157162798205,
    2.228138851986274,
    2.200985160091639,
    2.1788128296672284,
    2.1603686564627913,
    2.144786687917804,
    2.131449545559776,
    2.1199052992212546,
    2.1098155778333156,
    2.1009220402410382,
    2.0930240544083087,
    2.085963447265864,
    2.0796138447276795,
    2.0738730679040254,
    2.0686576104190486,
    2.0638985616280245,
    2.0595385527532972,
    2.0555294386428735,
    2.0518305164802846,
    2.0484071417952454,
    2.045229642132703,
    2.0422724563012378,
    2.039513446396408,
    2.0369333434601016,
    2.0345152974493383,
    2.0322445093177186,
    2.030107928250343,
    2.0280940009804502,
    2.0261924630291093,
    2.0243941639119694,
    2.022690920036761,
    2.021075390306273,
    2.019540970441376,
    2.0180817028184443,
    2.016692199227824,
    2.0153675744437636,
    2.014103388880846,
    2.012895598919429,
    2.0117405137297655,
    2.010634757624232,
    2.0095752371292392,
    2.008559112100761,
    2.007583770315836,
    2.006646805061688,
    2.0057459953178687,
    2.0048792881880564,
    2.0040447832891455,
    2.003240718847872,
    2.002465459291007,
    2.0017174841452356,
    2.000995378088267,
    2.0002978220142604,
    1.999623584994939,
    1.9989715170333788,
    1.998340542520741,
    1.997729654317693,
    1.9971379083920038,
    1.9965644189523117,
    1.996008354025296,
    1.9954689314298435,
    1.9949454151072374,
    1.994437111771186,
    1.9939433678456255,
    1.9934635666618719,
    1.992997125889855,
    1.992543495180932,
    1.9921021540022417,
    1.9916726096446642,
    1.9912543953883846,
    1.9908470688116906,
    1.9904502102301285,
    1.990063421254446,
    1.9896863234569029,
    1.989318557136572,
    1.9889597801751624,
    1.9886096669757083,
    1.9882679074772216,
    1.98793420623902,
    1.9876082815890708,
    1.9872898648311692,
    1.986978699506281,
    1.9866745407037683,
    1.9863771544186177,
    1.98608631695113,
    1.9858018143458227,
    1.985523441866604,
    1.9852510035054978,
    1.984984311522457,
    1.9847231860139845,
    1.9844674545084815,
    1.9842169515864174,
    1.9839715185235518,
    1.983731002955606,
    1.9834952585628793,
    1.9832641447734565,
    1.9830375264837259,
    1.9828152737950475,
    1.9825972617655006,
    1.9823833701756908,
    1.982173483307727,
    1.9819674897364825,
    1.981765282132372,
    1.9815667570749007,
    1.9813718148763053,
    1.981180359414661,
    1.9809922979758567,
    1.9808075411039094,
    1.9806260024590894,
    1.9804475986834025,
    1.980272249272974,
    1.9800998764569397,
    1.9799304050824402,
    1.9797637625053868,
    1.9795998784866382,
    1.9794386850933035,
    1.9792801166048548,
    1.9791241094237977,
    1.9789706019906281,
    1.9788195347028539,
    1.978670849837835,
    1.9785244914792577,
    1.9783804054470222,
    1.9782385392303798,
    1.9780988419241303,
    1.9779612641677262,
    1.9778257580871244,
    1.9776922772392527,
    1.977560776558935,
    1.9774312123081748,
    1.9773035420276506,
    1.977177724490333,
    1.9770537196570985,
    1.9769314886342528,
    1.9768109936328597,
    1.976692197929798,
    1.9765750658304433,
    1.9764595626329178,
    1.9763456545938125,
    1.976233308895327,
    1.9761224936137445,
    1.976013177689192,
    1.9759053308966201,
    1.9757989238179392,
    1.97569392781527,
    1.9755903150052492,
    1.9754880582343404,
    1.9753871310551152,
    1.9752875077034489,
    1.9751891630765912,
    1.9750920727120844,
    1.9749962127674756,
    1.9749015600007986,
    1.974808091751787,
    1.974715785923791,
    1.974624620966361,
    1.9745345758584756,
    1.9744456300923825,
    1.9743577636580294,
    1.9742709570280557,
    1.9741851911433248,
    1.9741004473989765,
    1.9740167076309703,
    1.973933954103107,
    1.9738521694945061,
    1.973771336887522,
    1.9736914397560734,
    1.9736124619543842,
    1.9735343877061042,
    1.9734572015938032,
    1.9733808885488238,
    1.9733054338414737,
    1.9732308230715456,
    1.9731570421591593,
    1.973084077335903,
    1.973011915136267,
    1.9729405423893598,
    1.9728699462108963,
    1.9728001139954416,
    1.9727310334089099,
    1.9726626923813002,
    1.9725950790996682,
    1.972528182001318,
    1.972461989767211,
    1.9723964913155805,
    1.9723316757957499,
    1.9722675325821355,
    1.9722040512684433,
    1.9721412216620415,
    1.9720790337785026,
    1.9720174778363146,
    1.9719565442517533,
    1.9718962236339088,
)
_Z975 = 1.959963984540054  # standard normal 97.5% quantile


def t975(df: int) -> float:
    """Student's t 97.5% quantile: the table above up to 200 degrees of freedom, beyond it the Cornish-Fisher
    expansion to 1/df^4 (Abramowitz & Stegun 26.7.5; relative error below 2e-12 at df = 201, falling as 1/df^5)."""
    if df < 1:
        return math.nan
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    z2 = z * z
    g1 = (z2 * z + z) / 4.0
    g2 = (5.0 * z2 * z2 * z + 16.0 * z2 * z + 3.0 * z) / 96.0
    g3 = (3.0 * z2 * z2 * z2 * z + 19.0 * z2 * z2 * z + 17.0 * z2 * z - 15.0 * z) / 384.0
    g4 = (79.0 * z2**4 * z + 776.0 * z2**3 * z + 1482.0 * z2 * z2 * z - 1920.0 * z2 * z - 945.0 * z) / 92160.0
    v = float(df)
    return z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v)
