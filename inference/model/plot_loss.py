#!/usr/bin/python3
"""Loss curve of the last training run: train-loss.csv -> loss-curve.svg (hand-written SVG: matplotlib
is not installed with Debian's python on the build machine). Log-scale y axis; raw loss in grey, its
exponential moving average in blue.

    /usr/bin/python3 inference/model/plot_loss.py [train-loss.csv] [loss-curve.svg]
"""
from __future__ import annotations

import csv
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "train-loss.csv")
    dst = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "loss-curve.svg")
    with open(src) as f:
        rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
    W, H, L, R, T, B = 640, 360, 60, 20, 30, 45
    steps = [r["step"] for r in rows]
    lo = min(min(r["loss"] for r in rows), min(r["loss_ema"] for r in rows))
    hi = max(max(r["loss"] for r in rows), max(r["loss_ema"] for r in rows))
    y0, y1 = math.floor(math.log10(max(lo, 1e-4))), math.ceil(math.log10(hi))
    x_max = max(steps)

    def px(step: float) -> float:
        return L + (W - L - R) * step / x_max

    def py(v: float) -> float:
        return T + (H - T - B) * (y1 - math.log10(max(v, 1e-4))) / (y1 - y0)

    def path(key: str) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{px(r['step']):.1f},{py(r[key]):.1f}" for i, r in enumerate(rows))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    for e in range(y0, y1 + 1):
        y = py(10 ** e)
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">1e{e}</text>')
    for i in range(6):
        s = x_max * i / 5
        out.append(f'<text x="{px(s):.1f}" y="{H - B + 16}" text-anchor="middle">{int(s)}</text>')
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{H - B}" y2="{H - B}" stroke="#333"/>')
    out.append(f'<line x1="{L}" x2="{L}" y1="{T}" y2="{H - B}" stroke="#333"/>')
    out.append(f'<path d="{path("loss")}" fill="none" stroke="#bbb" stroke-width="1"/>')
    out.append(f'<path d="{path("loss_ema")}" fill="none" stroke="#1f6fd1" stroke-width="2"/>')
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 8}" text-anchor="middle">step</text>')
    out.append(f'<text x="{L}" y="{T - 10}">parley-tiny v2: loss on assistant tokens (grey: per batch, blue: EMA 0.98), '
               f'{int(x_max)} steps, {rows[-1]["seconds"]:.0f} s</text>')
    out.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {dst}")


if __name__ == "__main__":
    main()
