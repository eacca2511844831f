"""An independent formulation of Cockshott's n-year plan, written from ``nyearplan.java``.

It keeps every variable his program writes for ``lp_solve`` — per year ``t``: the target
fulfilment ``T_t``, total labour ``LY_t``; per product ``p``: ``out``, ``lab``, ``acc``
(accumulation of ``p``), ``pc`` (productive consumption of ``p``), ``c`` (final
consumption); per pair (product ``p``, input or stock ``s``): ``K``, ``fl``, ``dep``,
``acc`` — with his constraints, read straight from the raw CSV cells (flows, not
coefficients), and solves it with ``scipy.optimize.linprog``. It shares no code with
``commonplan.planning``: it is the oracle the tests compare against.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog


def _table(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    rows = [r for r in csv.reader(path.open(newline="")) if any(c.strip() for c in r)]
    head = rows[0]

    def num(c: str) -> float:
        c = c.strip()
        return float(c) if c and c[0].isdigit() else 0.0

    data = np.array(
        [[num(c) for c in (r[1 : len(head)] + [""] * len(head))[: len(head) - 1]] for r in rows[1:]]
    )
    return head[1:], [r[0].strip() for r in rows[1:]], data


def cockshott_literal(folder: Path, method: str = "highs-ds") -> tuple[float, np.ndarray]:
    """Optimal objective ``Σ T_t`` and the ``T_t`` of one optimum."""
    products, frows, F = _table(folder / "flows.csv")
    n = len(products)
    _, _, C = _table(folder / "cap.csv")
    _, _, D = _table(folder / "dep.csv")
    thead, trows, TG = _table(folder / "labtarg.csv")
    out0, lab0 = F[frows.index("output")], F[frows.index("labour")]
    flow, cap, dep = F[:n, :n], C[:n, :n], D[:n, :n]  # [input/stock s, product p]
    years = [k for k, r in enumerate(trows) if r.startswith("year")]
    Y = len(years)
    nn = n * n
    # variable layout per year
    names = ["T", "LY", "out", "lab", "acc", "pc", "c", "K", "fl", "dep", "accp"]
    sizes = [1, 1, n, n, n, n, n, nn, nn, nn, nn]
    per_year = sum(sizes)
    offset = dict(zip(names, np.cumsum([0, *sizes[:-1]]), strict=True))
    nv = per_year * Y

    def v(name: str, year: int, index=0):
        return year * per_year + offset[name] + np.asarray(index)

    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0

    def add(entries, lower, upper):
        nonlocal r
        k = len(lower)
        for row_offsets, col, val in entries:
            rows.append(r + row_offsets)
            cols.append(col)
            vals.append(np.broadcast_to(val, np.shape(col)).astype(float))
        lo.append(lower)
        hi.append(upper)
        r += k

    bounds_hi = np.full(nv, np.inf)
    P = np.arange(n)
    pp, ss = np.meshgrid(P, P, indexing="ij")  # pair (product p, stock/input s) at p*n + s
    pp, ss = pp.ravel(), ss.ravel()
    pair = pp * n + ss
    for y in range(Y):
        targ = TG[years[y], :n]
        L = TG[years[y], thead.index("labour")]
        # T <= c_i / targ_i  ->  T - c_i/targ_i <= 0
        t_idx = np.flatnonzero(targ > 0)
        k = t_idx.size
        add(
            [
                (np.arange(k), np.full(k, v("T", y)), 1.0),
                (np.arange(k), v("c", y, t_idx), -1.0 / targ[t_idx]),
            ],
            np.full(k, -np.inf),
            np.zeros(k),
        )
        # LY >= sum lab ; LY <= L
        add(
            [
                (np.zeros(1, int), np.array([v("LY", y)]), 1.0),
                (np.zeros(n, int), v("lab", y, P), -1.0),
            ],
            np.zeros(1),
            np.full(1, np.inf),
        )
        bounds_hi[v("LY", y)] = L
        # out_p <= out0_p/cap[s,p] K_ps  (cap != 0)
        m = cap[ss, pp] != 0
        k = int(m.sum())
        add(
            [
                (np.arange(k), v("out", y, pp[m]), 1.0),
                (np.arange(k), v("K", y, pair[m]), -out0[pp[m]] / cap[ss[m], pp[m]]),
            ],
            np.full(k, -np.inf),
            np.zeros(k),
        )
        # out_p <= out0_p/flow[s,p] fl_ps
        m = flow[ss, pp] != 0
        k = int(m.sum())
        add(
            [
                (np.arange(k), v("out", y, pp[m]), 1.0),
                (np.arange(k), v("fl", y, pair[m]), -out0[pp[m]] / flow[ss[m], pp[m]]),
            ],
            np.full(k, -np.inf),
            np.zeros(k),
        )
        # dep_ps = dep[s,p] K_ps
        add(
            [
                (np.arange(nn), v("dep", y, pair), 1.0),
                (np.arange(nn), v("K", y, pair), -dep[ss, pp]),
            ],
            np.zeros(nn),
            np.zeros(nn),
        )
        if y > 0:  # K_ps,y <= K_ps,y-1 + accp_ps,y-1 - dep_ps,y-1
            add(
                [
                    (np.arange(nn), v("K", y, pair), 1.0),
                    (np.arange(nn), v("K", y - 1, pair), -1.0),
                    (np.arange(nn), v("accp", y - 1, pair), -1.0),
                    (np.arange(nn), v("dep", y - 1, pair), 1.0),
                ],
                np.full(nn, -np.inf),
                np.zeros(nn),
            )
        else:
            bounds_hi[v("K", y, pair)] = cap[ss, pp]
        # out_p <= out0_p/lab0_p lab_p   (skipped when out0 = 0; lab0 = 0 means no labour needed)
        m = (out0 != 0) & (lab0 != 0)
        k = int(m.sum())
        add(
            [
                (np.arange(k), v("out", y, P[m]), 1.0),
                (np.arange(k), v("lab", y, P[m]), -out0[m] / lab0[m]),
            ],
            np.full(k, -np.inf),
            np.zeros(k),
        )
        # acc_p >= sum_i accp_{i,p} ; pc_p >= sum_i fl_{i,p}
        for total, part in (("acc", "accp"), ("pc", "fl")):
            add(
                [(np.arange(n), v(total, y, P), 1.0), (ss, v(part, y, pair), -1.0)],
                np.zeros(n),
                np.full(n, np.inf),
            )
        # c_p <= out_p - acc_p - pc_p
        add(
            [
                (P, v("c", y, P), 1.0),
                (P, v("out", y, P), -1.0),
                (P, v("acc", y, P), 1.0),
                (P, v("pc", y, P), 1.0),
            ],
            np.full(n, -np.inf),
            np.zeros(n),
        )
    A = sp.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, nv)
    )
    lo_, hi_ = np.concatenate(lo), np.concatenate(hi)
    cost = np.zeros(nv)
    cost[[v("T", y) for y in range(Y)]] = -1.0
    ub_rows = np.isfinite(hi_) & ~np.isfinite(lo_)
    lb_rows = np.isfinite(lo_) & ~np.isfinite(hi_)
    eq_rows = np.isfinite(lo_) & np.isfinite(hi_)
    A_ub = sp.vstack([A[ub_rows], -A[lb_rows]])
    b_ub = np.concatenate([hi_[ub_rows], -lo_[lb_rows]])
    result = linprog(
        cost,
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A[eq_rows],
        b_eq=lo_[eq_rows],
        bounds=np.column_stack([np.zeros(nv), bounds_hi]),
        method=method,
    )
    assert result.status == 0, result.message
    return -result.fun, result.x[[v("T", y) for y in range(Y)]]
