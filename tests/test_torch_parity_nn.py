"""Losses and GELU against PyTorch 2.13: values and input gradients recorded from torch in
float64 (the tests do not import torch), and gradients of every new loss checked with
central differences on inputs drawn by hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import arrays, floats, grid, with_fixtures

import tinygrad_edu as tg
from tinygrad_edu import ShapeError, Tensor, nn
from tinygrad_edu import functional as F
from tinygrad_edu.functional import _erf_data

inf = math.inf
nan = math.nan

# (value, [gradient of value.sum() with respect to each input]), computed by PyTorch
# fmt: off
CASES = {
'ce_weight_mean': (1.524116363098844, [[[-0.1456188569682028, 0.004696401148791916,
    0.11521460300047673, 0.02570785281893414], [0.3163495224047171, 0.07801083176938046,
    0.03505252622885856, -0.42941288040295617], [0.04980095564502704, -0.15059885274078183,
    0.09074325755821762, 0.010054639537537238]]]),
'ce_weight_sum': (9.144698178593064, [[[-0.8737131418092168, 0.028178406892751497,
    0.6912876180028604, 0.15424711691360485], [1.8980971344283026, 0.4680649906162828,
    0.21031515737315135, -2.576477282417737], [0.29880573387016224, -0.9035931164446911,
    0.5444595453493057, 0.060327837225223425]]]),
'ce_weight_none': ([2.0691993073690185, 5.873281237607321, 1.2022176336167236],
    [[[-0.8737131418092168, 0.028178406892751497, 0.6912876180028604, 0.15424711691360485],
    [1.8980971344283026, 0.4680649906162828, 0.21031515737315135, -2.576477282417737],
    [0.29880573387016224, -0.9035931164446911, 0.5444595453493057, 0.060327837225223425]]]),
'ce_ignore': (1.68515406208869, [[[-0.4368565709046084, 0.014089203446375749,
    0.3456438090014302, 0.07712355845680242], [0.0, 0.0, 0.0, 0.0], [0.07470143346754056,
    0.2741017208888272, -0.36388511366267356, 0.015081959306305856]]]),
'ce_ignore_1_weight': (1.3011088168083618, [[[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0],
    [0.14940286693508112, 0.5482034417776545, -0.7277702273253471, 0.030163918612611713]]]),
'ce_smooth_weight_ignore': (2.4257687419841387, [[[-0.47195152302357923, -0.04553286149710304,
    0.5017990468354786, 0.01568533768520363], [0.0, 0.0, 0.0, 0.0], [0.038878052351955864,
    0.19829833019253296, -0.15175560987391779, -0.08542077267057101]]]),
'ce_soft': (2.087689512237718, [[[0.008762286063594403, -0.057273864369082834,
    0.1304292060009535, -0.08191762769546504], [0.2108996816031447, 0.05200722117958698,
    -0.30996498251409427, 0.04705807973136254], [-0.03353237768830629, 0.09940114725921814,
    0.00740992422488429, -0.07327869379579609]], [[0.6897331024563395, 1.1897331024563393,
    0.12306643578967277, 0.6230664357896727], [0.1525868041785912, 0.6192534708452577,
    0.8859201375119246, 0.6525868041785912], [0.6337029389361206, 0.20036960560278727,
    0.43370293893612055, 1.1670362722694538]]]),
'ce_soft_weight_smooth_sum': (9.225773938197573, [[[0.08010632472507102, -0.3797719897136704,
    1.0897201790900986, -0.7900545141014993], [0.4548854500279011, -0.01933185678628773,
    -0.32878701856666187, -0.10676657467495158], [-0.007220341230493182, 0.3908305928886885,
    0.31737338059631093, -0.700983632254506]], [[1.448439515158313, 4.9968790303166255,
    0.1292197575791564, 3.925318545474938], [0.3204322887750415, 2.6008645775500825,
    0.9302161443875208, 4.111296866325125], [1.3307761717658533, 0.8415523435317065,
    0.45538808588292656, 7.352328515297559]]]),
'ce_unbatched': (0.36919930736901835, [[0.1262868581907832, 0.028178406892751497,
    -0.3087123819971396, 0.15424711691360485]]),
'ce_unbatched_soft_none': (1.7791993073690184, [[0.02628685819078319, -0.1718215931072485,
    0.39128761800286044, -0.24575288308639517], [2.0691993073690185, 3.5691993073690185,
    0.36919930736901835, 1.8691993073690183]]),
'ce_4d': (1.30942802276408, [[[[[-0.035109600818801566, 0.09158003120893933],
    [0.050451391084388446, 0.0]], [[0.025606494772911437, 0.060832905502479495],
    [-0.08179117904489021, 0.0]], [[0.00950310604589013, -0.1524129367114188],
    [0.031339787960501755, 0.0]]], [[[0.038341424931341954, 0.07516866924371318],
    [-0.043579954899371005, 0.03670232533504601]], [[0.08397681485832635, 0.06392766395743267],
    [0.0024242682782956854, -0.08738903780324857]], [[-0.12231823978966831,
    -0.13909633320114584], [0.04115568662107531, 0.05068671246820254]]]]]),
'ce_4d_none': ([[[1.3246111377053338, 1.3538856204085639], [1.6400016280195016, 0.0]],
    [[0.9174185303481214, 1.1370463737056504], [2.0296828037401773, 1.9349955518212747]]],
    [[[[[-0.7340936600633189, 0.4387236248071933], [0.46301231451753705, 0.0]],
    [[0.4655149169815345, 0.30304146931599063], [-0.8060202735121428, 0.0]],
    [[0.26857874308178437, -0.7417650941231839], [0.3430079589946057, 0.0]]],
    [[[0.18873364750369262, 0.36166157731830534], [-0.868622813107657, 0.3412992734577843]],
    [[0.4117172175956193, 0.3175733785827273], [0.09732661383175499, -0.8555750887500693]],
    [[-0.600450865099312, -0.6792349559010327], [0.771296199275902, 0.5142758152922847]]]]]),
'ce_masked': (0.7200948492805977, [[[0.0, -0.36552928931500245, 0.36552928931500245],
    [-0.05960146101105884, 0.0, 0.059601461011058766]]]),
'ce_huge': ([-0.0, 0.6931471805599453, -0.0], [[[0.0, 0.0, 0.0], [0.5, -0.5, 0.0], [0.0, 0.0,
    0.0]]]),
'ce_empty': (nan, [[]]),
'ce_empty_sum': (0.0, [[]]),
'nll_weight_ignore': (3.143131439448526, [[[-0.25, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0,
    0.0, 0.0, -0.75]]]),
'nll_none': ([-0.3, -0.0, -0.9], [[[-1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, -1.0], [0.0, -1.0,
    0.0, 0.0]]]),
'bcel_pos_weight': (0.3618626917765659, [[[-0.1258468895993818, 0.019867153670352924,
    -0.007904312196261106], [0.002921176046229675, -0.019289601375081872,
    0.0029977016603485933]], [[-0.004320502636648886, 0.15608933241308565, -0.5],
    [0.14073277667892847, -0.2219402056115026, 0.6666666666666666]]]),
'bcel_weight_pos_sum': (5.326374244357039, [[[-1.132622006394436, 0.3576087660663526,
    -0.02845552390653996], [-0.13996669996630395, -2.083276948508842, 0.0035972419924183117]],
    [[0.4481539683602134, 18.761568066257837, -0.5805650593705032], [1.5887933201471416,
    -2.020305195971812, 2.407259971167124]]]),
'bce': (2.209697783300473, [[[-0.8333333333333331, 1.666666666666667, -0.3333333333333333],
    [-4.8821548821548815, -0.2380952380952381, 166.6666666666665]], [[0.23104906018664842,
    -0.3662040962227033, -0.0], [0.7658533083557649, -0.14121631006453392,
    -1.1511257964414254]]]),
'bce_weight_none': ([[3.2188758248682006, 2.302585092994046, 0.34657359027997264],
    [2.7771725817877564, 0.35667494393873245, 3.453877639491068]], [[[-9.999999999999998,
    10.000000000000002, -1.0], [-58.585858585858574, -1.4285714285714286, 499.9999999999995]],
    [[2.772588722239781, -2.1972245773362196, -0.0], [9.19023970026918, -0.8472978603872034,
    -3.4533773893242765]]]),
'bce_clamped': ([100.0, 100.0, -0.0], [[-1000000003995.8029, 1000000003995.8029, 0.0]]),
'huber': (1.1208333333333333, [[[-0.08333333333333333, -0.16666666666666666,
    0.16666666666666666], [-0.06666666666666667, 0.033333333333333326, -0.16666666666666666]],
    [[0.08333333333333333, 0.16666666666666666, -0.16666666666666666], [0.06666666666666667,
    -0.033333333333333326, 0.16666666666666666]]]),
'huber_delta_none': ([[0.125, 0.875, 0.875], [0.08000000000000002, 0.01999999999999999, 1.875]],
    [[[-0.5, -0.5, 0.5], [-0.4, 0.19999999999999996, -0.5]], [[0.5, 0.5, -0.5], [0.4,
    -0.19999999999999996, 0.5]]]),
'l1': (1.5166666666666666, [[[-0.16666666666666666, -0.16666666666666666, 0.16666666666666666],
    [-0.16666666666666666, 0.16666666666666666, -0.16666666666666666]], [[0.16666666666666666,
    0.16666666666666666, -0.16666666666666666], [0.16666666666666666, -0.16666666666666666,
    0.16666666666666666]]]),
'l1_sum': (9.1, [[[-1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]], [[1.0, 1.0, -1.0], [1.0, -1.0, 1.0]]]),
'gelu': ([-0.0, -0.0, -1.4332578593401202e-06, -0.030587584529696902, -0.15865525393145702,
    -0.000499601057786089, 0.0, 0.000500398942213911, 0.34573123063700656, 1.6242387133104768,
    2.587880911138331, 3.9998733150326675, 10.0], [[0.0, -7.694598626706419e-22,
    -7.1469460018034646e-06, -0.06414065674821055, -0.08331547058768635, 0.4992021157051586,
    0.5, 0.5007978842948414, 0.8674951246561629, 1.1153179687821648, 1.0306545319838638,
    1.0005036496612265, 1.0]]),
'gelu_tanh': ([-0.0, -0.0, -2.2917961972623857e-07, -0.030321472961988553, -0.15880800939172324,
    -0.000499601057786418, 0.0, 0.000500398942213582, 0.34571400982514394, 1.624105895551156,
    2.5883460823147573, 3.9999297540518075, 10.0], [[0.0, 0.0, -1.5463619879596227e-06,
    -0.06491894924555185, -0.08296408384578252, 0.499202115706475, 0.5, 0.500797884293525,
    0.8673699035346424, 1.115914631452605, 1.0308198404724873, 1.000335123197122, 1.0]]),
}
# fmt: on


def t(values, dtype="float64"):
    return Tensor(np.asarray(values, dtype=dtype))


Z = [[0.3, -1.2, 2.0, 0.5], [1.5, 0.1, -0.7, 0.0], [-0.4, 0.9, 0.2, -2.0]]
W = [1.0, 2.0, 0.5, 3.0]
Y = [0, 3, 1]
P = [[0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 1.0, 0.0], [0.25, 0.25, 0.25, 0.25]]
Z4 = np.random.default_rng(1).standard_normal((2, 3, 2, 2)).round(2)
Y4 = [[[0, 2], [1, -100]], [[2, 2], [0, 1]]]
LP = F.log_softmax(t(Z), 1).numpy()
X = [[0.5, -2.0, 3.0], [-0.1, 1.2, -4.0]]
T = [[1.0, 0.0, 1.0], [0.3, 1.0, 0.0]]
PR = [[0.2, 0.9, 0.5], [0.01, 0.7, 0.999]]
G = [-40.0, -10.0, -5.0, -2.2, -1.0, -1e-3, 0.0, 1e-3, 0.5, 1.7, 2.6, 4.0, 10.0]
L = lambda v: t(v, "int64")  # noqa: E731

# name -> (the same computation with tinygrad_edu, its inputs)
OURS = {
    **{
        f"ce_weight_{r}": (lambda z, r=r: F.cross_entropy(z, L(Y), weight=W, reduction=r), [Z])
        for r in ("mean", "sum", "none")
    },
    "ce_ignore": (lambda z: F.cross_entropy(z, L([0, -100, 2])), [Z]),
    "ce_ignore_1_weight": (
        lambda z: F.cross_entropy(z, L([1, 1, 2]), weight=t(W), ignore_index=1),
        [Z],
    ),
    "ce_smooth_weight_ignore": (
        lambda z: F.cross_entropy(z, L([0, -100, 2]), weight=W, label_smoothing=0.2),
        [Z],
    ),
    "ce_soft": (lambda z, p: F.cross_entropy(z, p), [Z, P]),
    "ce_soft_weight_smooth_sum": (
        lambda z, p: F.cross_entropy(z, p, weight=W, label_smoothing=0.3, reduction="sum"),
        [Z, P],
    ),
    "ce_unbatched": (lambda z: F.cross_entropy(z, L(2)), [Z[0]]),
    "ce_unbatched_soft_none": (lambda z, p: F.cross_entropy(z, p, reduction="none"), [Z[0], P[0]]),
    "ce_4d": (
        lambda z: F.cross_entropy(z, L(Y4), weight=[0.5, 1.0, 2.0], label_smoothing=0.1),
        [Z4],
    ),
    "ce_4d_none": (lambda z: F.cross_entropy(z, L(Y4), reduction="none"), [Z4]),
    "ce_masked": (lambda z: F.cross_entropy(z, L([1, 0])), [[[-inf, 0.0, 1.0], [2.0, -inf, 0.0]]]),
    "ce_huge": (
        lambda z: F.cross_entropy(z, L([0, 1, 2]), reduction="none"),
        [[[1e308, -1e308, 0.0], [1e308, 1e308, -1e308], [-1e308, -1e308, 5.0]]],
    ),
    "ce_empty": (lambda z: F.cross_entropy(z, L(np.zeros(0))), [np.zeros((0, 3))]),
    "ce_empty_sum": (
        lambda z: F.cross_entropy(z, L(np.zeros(0)), reduction="sum"),
        [np.zeros((0, 3))],
    ),
    "nll_weight_ignore": (lambda z: F.nll_loss(z, L([0, -100, 3]), weight=W), [LP]),
    "nll_none": (lambda z: F.nll_loss(z, L(Y), reduction="none"), [Z]),
    "bcel_pos_weight": (
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=[2.0, 0.5, 1.0]),
        [X, T],
    ),
    "bcel_weight_pos_sum": (
        lambda x, y: F.binary_cross_entropy_with_logits(
            x, y, weight=[1.0, 3.0, 0.2], pos_weight=[3.0, 3.0, 3.0], reduction="sum"
        ),
        [X, T],
    ),
    "bce": (lambda p, y: F.binary_cross_entropy(p, y), [PR, T]),
    "bce_weight_none": (
        lambda p, y: F.binary_cross_entropy(p, y, weight=[2.0, 1.0, 0.5], reduction="none"),
        [PR, T],
    ),
    "bce_clamped": (
        lambda p: F.binary_cross_entropy(p, [1.0, 0.0, 1.0], reduction="none"),
        [[0.0, 1.0, 1.0]],
    ),
    "huber": (lambda x, y: F.huber_loss(x, y), [X, T]),
    "huber_delta_none": (lambda x, y: F.huber_loss(x, y, delta=0.5, reduction="none"), [X, T]),
    "l1": (lambda x, y: F.l1_loss(x, y), [X, T]),
    "l1_sum": (lambda x, y: F.l1_loss(x, y, reduction="sum"), [X, T]),
    "gelu": (lambda x: F.gelu(x), [G]),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), [G]),
}


def assert_close(found, expected, rtol=1e-13):
    found, expected = np.asarray(found, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if expected.size == 0:  # torch's tolist() of an empty (0, 3) array is []
        assert found.size == 0
        return
    assert found.shape == expected.shape
    np.testing.assert_allclose(found, expected, rtol=rtol, atol=1e-300, equal_nan=True)


# the tanh form is Tensor.gelu's: in the far tail 1 + tanh(x) cancels, and its constant
# sqrt(2 / pi) is rounded differently from PyTorch's, which shows at 1e-10
RTOL = {"gelu_tanh": 1e-9}


@pytest.mark.parametrize("name", sorted(CASES))
def test_losses_and_gelu_match_pytorch(name):
    value, grads = CASES[name]
    fn, inputs = OURS[name]
    leaves = [Tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in inputs]
    out = fn(*leaves)
    rtol = RTOL.get(name, 1e-13)
    assert_close(out.numpy(), value, rtol)
    out.sum().backward()
    for leaf, expected in zip(leaves, grads):
        if expected is not None:
            assert_close(leaf.grad.numpy(), expected, rtol)


# --- erf ------------------------------------------------------------------------------------


def test_erf_is_accurate_to_float64_rounding(xp_backend):
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-7, 7, 20000),
            rng.standard_normal(5000) * 1e-3,
            np.linspace(2.4, 2.6, 2001),  # around the switch from series to fraction
            np.logspace(-300, 1.5, 400),
            -np.logspace(-300, 1.5, 400),
            [0.0, -0.0, 30.0, 1e300, -1e300],
        ]
    )
    found = tg.Tensor(x, dtype="float64").data
    found = np.asarray(tg.Tensor._wrap(_erf_data(found)).numpy())
    expected = np.array([math.erf(v) for v in x])
    assert np.all(np.abs(found - expected) <= 2e-15 * np.abs(expected))
    special = Tensor([math.inf, -math.inf, math.nan], dtype="float64").data
    np.testing.assert_array_equal(Tensor._wrap(_erf_data(special)).numpy(), [1.0, -1.0, math.nan])


def test_gelu_default_is_the_exact_form_and_tanh_stays(xp_backend):
    x = Tensor([-1.0, 0.5, 2.0], dtype="float64")
    exact = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in (-1.0, 0.5, 2.0)]
    np.testing.assert_allclose(F.gelu(x).numpy(), exact, rtol=1e-15)
    np.testing.assert_array_equal(nn.GELU()(x).numpy(), F.gelu(x).numpy())
    np.testing.assert_array_equal(nn.GELU("tanh")(x).numpy(), x.gelu().numpy())
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        nn.GELU(approximate="fast")


# --- gradients against central differences ---------------------------------------------------


@st.composite
def class_problems(draw, soft: bool = False):
    """Logits of shape (C,), (N, C) or (N, C, d), targets (indices, some ignored, or
    probabilities), and maybe class weights."""
    layout = draw(st.sampled_from(["unbatched", "batch", "spatial"]))
    classes = draw(st.integers(1, 4))
    n, d = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    shape = {"unbatched": (classes,), "batch": (n, classes), "spatial": (n, classes, d)}[layout]
    target_shape = {"unbatched": (), "batch": (n,), "spatial": (n, d)}[layout]
    logits = draw(arrays(shape, floats(-3, 3)))
    weight = draw(st.none() | arrays((classes,), floats(0.1, 2)))
    if soft:
        raw = draw(arrays(shape, floats(0.05, 1)))
        return logits, raw / raw.sum(axis=0 if layout == "unbatched" else 1, keepdims=True), weight
    labels = draw(
        arrays(
            target_shape,
            st.integers(0, classes - 1),
        ).map(lambda a: a.astype(int))
    )
    mask = draw(hnp_bools(target_shape))
    labels = np.where(mask, -100, labels)
    if np.all(labels == -100):  # keep one target counted, so the mean is defined
        labels.reshape(-1)[0] = 0
    return logits, labels.astype(np.int64), weight


def hnp_bools(shape):
    return hnp.arrays(np.bool_, shape)


REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@with_fixtures
@given(problem=class_problems(), reduction=REDUCTIONS, smoothing=st.sampled_from([0.0, 0.3]))
def test_cross_entropy_gradients_with_weights_ignore_and_shapes(
    xp_backend, problem, reduction, smoothing
):
    logits, labels, weight = problem
    w = None if weight is None else Tensor(weight, dtype="float64")
    y = Tensor(labels)

    def fn(z):
        return F.cross_entropy(z, y, w, reduction=reduction, label_smoothing=smoothing)

    assert tg.gradcheck(fn, [Tensor(logits, dtype="float64", requires_grad=True)])
    nll = F.nll_loss(
        F.log_softmax(Tensor(logits, dtype="float64"), 0 if logits.ndim == 1 else 1),
        y,
        w,
        reduction=reduction,
    )
    if not smoothing:  # the fused form equals log_softmax + nll_loss, as in PyTorch
        np.testing.assert_allclose(
            fn(Tensor(logits, dtype="float64")).numpy(), nll.numpy(), rtol=1e-12
        )


@with_fixtures
@given(
    problem=class_problems(soft=True), reduction=REDUCTIONS, smoothing=st.sampled_from([0.0, 0.2])
)
def test_cross_entropy_gradients_with_probability_targets(
    xp_backend, problem, reduction, smoothing
):
    logits, probabilities, weight = problem

    def fn(z, p):
        return F.cross_entropy(z, p, weight, reduction=reduction, label_smoothing=smoothing)

    inputs = [Tensor(a, dtype="float64", requires_grad=True) for a in (logits, probabilities)]
    assert tg.gradcheck(fn, inputs)


@with_fixtures
@given(problem=class_problems(), reduction=REDUCTIONS)
def test_nll_loss_gradients(xp_backend, problem, reduction):
    logp, labels, weight = problem
    fn = lambda x: F.nll_loss(x, Tensor(labels), weight, reduction=reduction)  # noqa: E731
    assert tg.gradcheck(fn, [Tensor(logp, dtype="float64", requires_grad=True)])


@st.composite
def pairs(draw, first, second):
    shape = draw(st.sampled_from([(3,), (2, 3), (1, 2, 3)]))
    return draw(arrays(shape, first)), draw(arrays(shape, second))


@with_fixtures
@given(data=pairs(floats(-4, 4), floats(0, 1)), reduction=REDUCTIONS, pos=st.booleans())
def test_bce_with_logits_gradients_with_pos_weight_and_weight(xp_backend, data, reduction, pos):
    x, y = data
    pos_weight = [2.0, 0.5, 1.5] if pos else None
    weight = [1.0, 0.3, 2.0] if not pos else None

    def fn(a, b):
        return F.binary_cross_entropy_with_logits(a, b, weight, reduction, pos_weight)

    assert tg.gradcheck(fn, [Tensor(v, dtype="float64", requires_grad=True) for v in (x, y)])


@with_fixtures
@given(data=pairs(floats(0.05, 0.95), floats(0, 1)), reduction=REDUCTIONS)
def test_binary_cross_entropy_gradients(xp_backend, data, reduction):
    fn = lambda p, y: F.binary_cross_entropy(p, y, [1.0, 2.0, 0.5], reduction)  # noqa: E731
    assert tg.gradcheck(fn, [Tensor(v, dtype="float64", requires_grad=True) for v in data])


@with_fixtures
@given(data=pairs(grid(0.013), grid(0.0)), reduction=REDUCTIONS, delta=st.sampled_from([0.5, 1.0]))
def test_huber_and_l1_gradients(xp_backend, data, reduction, delta):
    # grids with offsets 0.013 apart: the difference is never 0 nor +-delta (the kinks)
    inputs = [Tensor(v, dtype="float64", requires_grad=True) for v in data]
    assert tg.gradcheck(lambda a, b: F.huber_loss(a, b, reduction, delta), inputs)
    assert tg.gradcheck(lambda a, b: F.l1_loss(a, b, reduction), inputs)


@with_fixtures
@given(a=arrays(st.sampled_from([(), (4,), (2, 3)]), floats(-6, 6)))
def test_exact_gelu_gradient(xp_backend, a):
    assert tg.gradcheck(F.gelu, [Tensor(a, dtype="float64", requires_grad=True)])


# --- loss modules ---------------------------------------------------------------------------


def test_loss_modules_call_their_functions_with_pytorchs_arguments():
    z, y = t(Z), L(Y)
    cases = [
        (nn.CrossEntropyLoss(weight=t(W), label_smoothing=0.1), (z, y),
         F.cross_entropy(z, y, t(W), label_smoothing=0.1)),
        (nn.CrossEntropyLoss(ignore_index=3, reduction="sum"), (z, y),
         F.cross_entropy(z, y, ignore_index=3, reduction="sum")),
        (nn.NLLLoss(t(W)), (t(LP), y), F.nll_loss(t(LP), y, t(W))),
        (nn.MSELoss(reduction="none"), (t(X), t(T)), F.mse_loss(t(X), t(T), "none")),
        (nn.L1Loss(), (t(X), t(T)), F.l1_loss(t(X), t(T))),
        (nn.HuberLoss(delta=0.5), (t(X), t(T)), F.huber_loss(t(X), t(T), delta=0.5)),
        (nn.BCEWithLogitsLoss(pos_weight=t([2.0, 1.0, 0.5])), (t(X), t(T)),
         F.binary_cross_entropy_with_logits(t(X), t(T), pos_weight=t([2.0, 1.0, 0.5]))),
        (nn.BCELoss(), (t(PR), t(T)), F.binary_cross_entropy(t(PR), t(T))),
    ]  # fmt: skip
    for module, args, expected in cases:
        np.testing.assert_array_equal(module(*args).numpy(), expected.numpy())
    assert CASES["ce_weight_mean"][0] == pytest.approx(
        nn.CrossEntropyLoss(weight=W)(z, y).item(), rel=1e-13
    )
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.HuberLoss()) == "HuberLoss()"
    assert list(nn.MSELoss().parameters()) == []
    assert [name for name, _ in nn.CrossEntropyLoss(weight=t(W)).named_buffers()] == ["weight"]


def test_loss_errors_say_what_is_wrong():
    z = t(Z)
    with pytest.raises(ShapeError, match=r"weight must have one entry per class, shape \(4,\)"):
        F.cross_entropy(z, L(Y), weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"\[0, 3\].*ignore_index=-100.*from -5 to 3"):
        F.cross_entropy(z, L([0, -5, 3]))
    with pytest.raises(ShapeError, match=r"targets must have shape \(\)"):
        F.cross_entropy(t(Z[0]), L([1]))
    with pytest.raises(TypeError, match="class probabilities of the input's shape"):
        F.cross_entropy(z, t([[0.5, 0.5]]))
    with pytest.raises(ValueError, match="probability in \\[0, 1\\].*with_logits"):
        F.binary_cross_entropy(t([0.5, 1.5]), t([1.0, 0.0]))
    with pytest.raises(ValueError, match="delta must be > 0"):
        F.huber_loss(t([1.0]), t([0.0]), delta=0)
    with pytest.raises(ValueError, match="reduction"):
        nn.L1Loss(reduction="avg")(t([1.0]), t([0.0]))


# --- layers against PyTorch (torch 2.13, float64, recorded) ----------------------------------

X2 = np.random.default_rng(2).standard_normal((4, 3)).round(3)
X3 = np.random.default_rng(3).standard_normal((2, 3, 4)).round(3)
UPSTREAM = np.arange(12.0).reshape(4, 3)  # the gradient fed to backward: sum(y * UPSTREAM)

# fmt: off
LN_OUT = [[2.199259394073856, 0.6377451095709563, -1.3480320871479827], [-1.9993070657695826,
    -0.2378697802655102, 0.7475969666307365], [-1.7966957977904199, -0.39033034410212103,
    -0.13239364602125692], [-1.2201279096790598, -0.49935790294922583, -1.3372610655581572]]
LN_GRAD_X = [[-1.2559046540705698, -6.871684516689655, 8.127589170760224], [-0.5248147719435852,
    -2.8680930631765182, 3.392907835120104], [-9.210578832201152, -11.32314862182291,
    20.53372745402406], [-8.256951190742312, -1.557105666965013, 9.81405685770733]]
LN_GRAD_W = [-19.706164780775204, 24.879250899396382, -3.463550115226032]
LN_GRAD_B = [18.0, 22.0, 26.0]
LN2_OUT = [[[1.419152659759755, -1.6214399266769999, 0.3456521664408834, -0.3065175725686098],
    [-0.23045315067602185, -0.07369429860173189, -1.266913577681981, -0.08427717469113545],
    [-0.502962209978163, 2.267105606423214, 0.21865765336804097, -0.1643101751172497]],
    [[-0.42323255987379477, -0.9710285487405457, -1.5188245376072966, -0.5789368461149901],
    [0.6567889892355877, -0.3637818323998837, 1.3305639006065786, -0.30857758545982356],
    [0.008492961067701582, 2.162874085241332, 0.7459650804464542, -0.7403031064013198]]]
BN_OUT = [[1.5657100324832276, 0.9684763835944191, -2.2009359903696177], [-2.4011717636895415,
    -0.4259158359641324, 2.8305256959975647], [0.7904335141437586, 0.1899457297987061,
    0.041732224363089224], [0.4450282170625554, 0.06749372257100725, -1.8713219299910357]]
BN_GRAD_X = [[-6.724639955017632, 1.2570449260772196, -15.578382162274718], [-2.369646287542878,
    2.076588354277058, -3.1401817217846766], [2.292062694069909, -0.8814886639309506,
    5.033613071961034], [6.802223548490601, -2.4521446164233276, 13.68495081209836]]
BN_GRAD_W = [-0.17044016842871618, 6.261259251922192, -1.3499634678740449]
BN_RUNNING = [[-0.3340274999999999, 0.9133724999999999, 0.44195249999999997],
    [2.3492977924999994, 1.7944280124999998, 1.2101042724999997], 2]
BN_EVAL = [[0.6118536722786916, 0.7361333902644882, -1.8543856944852166], [-1.9619596704097122,
    -0.13093825416229257, 0.976389730247131], [0.10883463876468416, 0.2520214992522047,
    -0.5926270915537784], [-0.11527306293708185, 0.17587745471364968, -1.6689399055817489]]
BN3_RUNNING = [[-0.7650000000000001, -0.4800000000000001, 0.98525], [8.440575714285714,
    3.6946414285714284, 9.262532767857142]]
BN3_TRAIN = [[[1.9940520697180384, -1.788352454521212, 0.6586501678602392,
    -0.15262911447604544], [-0.26489336040048606, 0.02984713920005477, -2.213662824004062,
    0.009949046400018239], [-1.0663372585996145, 2.2230986600194336, -0.20941878027741265,
    -0.6641903650148598]], [[0.08351404376991163, -0.2349089605547762, -0.5533319648794639,
    -0.0069937869166921355], [0.8979014376016475, 0.001243630800002292, 1.4898696984027338,
    0.04974523200009126], [-0.3680782968870229, 0.8273661797457831, 0.04113758506152635,
    -0.7835777240478339]]]
EMB_OUT = [[[0.1, 0.2], [0.0, 0.0], [1.0, 2.0]], [[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]]]
EMB_GRAD = [[0.0, 1.0], [0.0, 0.0], [0.0, 0.0], [18.0, 21.0]]
# fmt: on


def f64(module):
    return module.to("float64")


def backward_with(out, upstream):
    (out * Tensor(upstream, dtype="float64")).sum().backward()


def test_layer_norm_matches_pytorch():
    ln = f64(nn.LayerNorm(3))
    ln.weight.data[:] = np.array([1.5, -0.5, 2.0])
    ln.bias.data[:] = np.array([0.1, 0.2, -0.3])
    x = Tensor(X2, dtype="float64", requires_grad=True)
    out = ln(x)
    backward_with(out, UPSTREAM)
    for found, expected in [
        (out, LN_OUT), (x.grad, LN_GRAD_X), (ln.weight.grad, LN_GRAD_W), (ln.bias.grad, LN_GRAD_B)
    ]:  # fmt: skip
        assert_close(found.numpy(), expected, 1e-12)
    plain = nn.LayerNorm((3, 4), eps=1e-3, elementwise_affine=False)
    assert_close(plain(Tensor(X3, dtype="float64")).numpy(), LN2_OUT, 1e-12)
    assert list(plain.parameters()) == []
    assert repr(nn.LayerNorm(3)) == "LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)"


def test_batch_norm_matches_pytorch_in_training_and_eval():
    bn = f64(nn.BatchNorm1d(3, momentum=0.3))
    bn.weight.data[:] = np.array([1.5, -0.5, 2.0])
    bn.bias.data[:] = np.array([0.1, 0.2, -0.3])
    x = Tensor(X2, dtype="float64", requires_grad=True)
    out = bn(x)
    backward_with(out, UPSTREAM)
    assert_close(out.numpy(), BN_OUT, 1e-12)
    assert_close(x.grad.numpy(), BN_GRAD_X, 1e-12)
    assert_close(bn.weight.grad.numpy(), BN_GRAD_W, 1e-12)
    bn(Tensor(X2 * 2 + 1, dtype="float64"))
    mean, var, batches = BN_RUNNING
    assert_close(bn.running_mean.numpy(), mean, 1e-13)
    assert_close(bn.running_var.numpy(), var, 1e-13)  # the unbiased batch variance
    assert bn.num_batches_tracked.item() == batches and bn.num_batches_tracked.dtype == np.int64
    bn.eval()
    assert_close(bn(Tensor(X2, dtype="float64")).numpy(), BN_EVAL, 1e-12)
    assert bn.num_batches_tracked.item() == batches  # evaluation leaves the statistics alone


def test_batch_norm_with_cumulative_average_and_3d_input():
    bn = f64(nn.BatchNorm1d(3, momentum=None, affine=False))
    bn(Tensor(X3, dtype="float64"))
    bn(Tensor(X3 * 3, dtype="float64"))
    assert_close(bn.running_mean.numpy(), BN3_RUNNING[0], 1e-13)
    assert_close(bn.running_var.numpy(), BN3_RUNNING[1], 1e-13)
    assert_close(bn(Tensor(X3, dtype="float64")).numpy(), BN3_TRAIN, 1e-12)
    assert repr(nn.BatchNorm1d(3)) == (
        "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    )
    with pytest.raises(ShapeError, match=r"takes \(N, 3\) or \(N, 3, L\) input, got \(2, 4\)"):
        bn(Tensor.zeros(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel.*model.eval"):
        bn(Tensor.zeros(1, 3))
    no_stats = nn.BatchNorm1d(3, track_running_stats=False).eval()
    assert no_stats.running_mean is None and list(no_stats.buffers()) == []
    np.testing.assert_allclose(no_stats(Tensor(X2)).numpy().mean(axis=0), 0, atol=1e-6)


def test_embedding_matches_pytorch_with_padding_idx():
    emb = f64(nn.Embedding(4, 2, padding_idx=1))
    emb.weight.data[:] = np.array([[0.1, 0.2], [0.0, 0.0], [0.5, -0.5], [1.0, 2.0]])
    out = emb(Tensor([[0, 1, 3], [3, 3, 1]]))
    backward_with(out, np.arange(12.0).reshape(2, 3, 2))
    assert_close(out.numpy(), EMB_OUT, 1e-15)
    assert_close(emb.weight.grad.numpy(), EMB_GRAD, 1e-15)
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
    assert repr(nn.Embedding(5, 2)) == "Embedding(5, 2)"
    tg.manual_seed(0)
    table = nn.Embedding(1000, 4, padding_idx=-1).weight.numpy()
    assert np.all(table[-1] == 0) and abs(table[:-1].std() - 1) < 0.05  # N(0, 1) as PyTorch
    with pytest.raises(ValueError, match=r"\[0, 3\] for 4 embeddings, got values from 0 to 7"):
        emb(Tensor([0, 7]))
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(Tensor([0.0, 1.0]))


@with_fixtures
@given(a=arrays(st.sampled_from([(2, 3), (3, 2, 2), (4, 1)]), floats(-3, 3)))
def test_normalization_gradients(xp_backend, a):
    weight = Tensor(np.linspace(0.5, 1.5, a.shape[-1]), dtype="float64", requires_grad=True)
    bias = Tensor(np.linspace(-1, 1, a.shape[-1]), dtype="float64", requires_grad=True)
    x = Tensor(a, dtype="float64", requires_grad=True)
    assert tg.gradcheck(lambda v, w, b: F.layer_norm(v, a.shape[-1], w, b), [x, weight, bias])
    channel = Tensor(np.linspace(0.5, 1.5, a.shape[1]), dtype="float64", requires_grad=True)
    shift = Tensor(np.linspace(-1, 1, a.shape[1]), dtype="float64", requires_grad=True)
    stats = [Tensor(np.zeros(a.shape[1]), dtype="float64"), Tensor(np.ones(a.shape[1]))]
    if a.size // a.shape[1] > 1:  # batch statistics need two values per channel

        def train_bn(v, w, b):
            return F.batch_norm(v, *stats, w, b, training=True, momentum=0.1)

        assert tg.gradcheck(train_bn, [x, channel, shift])
    evaluate = lambda v, w, b: F.batch_norm(v, *stats, w, b, training=False)  # noqa: E731
    assert tg.gradcheck(evaluate, [x, channel, shift])


@with_fixtures
@given(indices=arrays(st.sampled_from([(3,), (2, 2)]), st.integers(0, 3)))
def test_embedding_gradient(xp_backend, indices):
    idx = Tensor(indices.astype(np.int64))
    table = Tensor(np.linspace(-1, 1, 8).reshape(4, 2), dtype="float64", requires_grad=True)
    assert tg.gradcheck(lambda w: F.embedding(idx, w), [table])
    # the padding row is read but, as in PyTorch, never learns: its gradient stays 0
    F.embedding(idx, table, padding_idx=2).sum().backward()
    assert np.all(table.grad.numpy()[2] == 0)
