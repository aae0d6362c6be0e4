#!/usr/bin/python3
"""Replays a training recipe: the chain of runs that made a shipped model, each stage resuming from the
previous stage's checkpoint, without a human in between (`npm run model:train`).

    /usr/bin/python3 inference/model/train-recipe.py                                  # v1 -> shipped v2, hours
    /usr/bin/python3 inference/model/train-recipe.py --scale 0.005 --threads 1 --out /tmp/smoke/parley-tiny

The recipe (default recipe-v2.json) lists the stages in order: the script (train.py or boot_induction.py),
its arguments, and the stage it resumes from. Each stage runs in <work>/<id>/ (its log, loss CSV, golden
and tokenizer fixtures, exported model folder) and leaves its weights in <work>/<id>.pt, written only when
the stage's process has finished (it is written to <id>.pt.part first). A stage whose <id>.pt exists is
skipped, so a killed run continues where it stopped. At the end the last stage's export is copied to --out
and the recipe's final_config is merged into its config.json; the last stage's golden.jsonl,
tokenizer-fixtures.jsonl and train-loss.csv go next to --out (as train.py writes them next to its default --out).

--scale F multiplies every step count (--steps, --budget-steps, --stop-after, --warmup, boot_induction's
steps; at least 1 each) for a smoke test. With F != 1 a --budget-steps run trains its budget count directly
(--budget-steps takes effect at step 24, which a scaled run may never reach). A work directory remembers the
recipe and the scale it was made with and refuses another.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
# train.py flags that count steps (scaled by --scale)
STEP_FLAGS = {"--steps", "--budget-steps", "--stop-after", "--warmup", "--checkpoint-every"}


def scaled(n: int, f: float) -> int:
    return n if f == 1 else max(1, int(n * f + 0.5))


def fmt_s(s: float) -> str:
    s = int(s)
    return f"{s // 3600}h{s // 60 % 60:02d}m{s % 60:02d}s" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def stage_command(st: dict, work: str, f: float, threads: int, extra: list[str]) -> tuple[list[str], int]:
    """The stage's argv and the number of training steps it will run."""
    sid = st["id"]

    def subst(a: str) -> str:
        for kind, fn in (("ckpt", lambda x: os.path.join(work, x + ".pt")),
                         ("model", lambda x: os.path.join(work, x, "model"))):
            pre = "{" + kind + ":"
            if a.startswith(pre) and a.endswith("}"):
                return fn(a[len(pre):-1])
        return a.replace("{threads}", str(threads)).replace("{checkpoint}", os.path.join(work, sid + ".pt.part"))

    args = [subst(a) for a in st["args"]]
    script = os.path.join(HERE, st["script"])
    if st["script"] == "train.py":
        # parse "--flag value" pairs (every recipe flag of train.py takes a value)
        pairs = [(args[i], args[i + 1]) for i in range(0, len(args), 2)]
        vals = dict(pairs)
        if f != 1 and "--budget-steps" in vals:
            vals["--steps"] = vals.pop("--budget-steps")
        out = []
        for k in dict.fromkeys(k for k, _ in pairs):
            if k in vals:
                out += [k, str(scaled(int(vals[k]), f)) if k in STEP_FLAGS else vals[k]]
        d = os.path.join(work, sid)
        out += ["--threads", str(threads), "--save-checkpoint", os.path.join(work, sid + ".pt.part"),
                "--out", os.path.join(d, "model"), "--loss-log", os.path.join(d, "train-loss.csv"),
                "--golden-out", os.path.join(d, "golden.jsonl"),
                "--tokenizer-fixtures-out", os.path.join(d, "tokenizer-fixtures.jsonl")] + extra
        v = dict(zip(out[::2], out[1::2]))
        n = int(v["--steps"])
        if "--budget-steps" in v:
            n = int(v["--budget-steps"])
        if "--stop-after" in v:
            n = min(n, int(v["--stop-after"]))
        return [PY, script] + out, n
    for i in st.get("step_args", []):
        args[i] = str(scaled(int(args[i]), f))
    n = int(args[st["step_args"][0]]) if st.get("step_args") else 0
    return [PY, script] + args, n


def last_progress(log: str) -> str:
    try:
        with open(log, "rb") as fh:
            fh.seek(max(0, os.path.getsize(log) - 400))
            tail = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [x.strip() for x in tail.replace("\r", "\n").split("\n") if x.strip()]
    return lines[-1][:90] if lines else ""


def die_with_parent():
    """The stage's process ends when the driver dies (even by SIGKILL), so a rerun never races a leftover."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", default=os.path.join(HERE, "recipe-v2.json"))
    ap.add_argument("--out", default=os.path.join(HERE, "parley-tiny"), help="the final model folder")
    ap.add_argument("--work", help="stage checkpoints, exports and logs (default: <out>.recipe-work, or "
                                   "<out>.recipe-work-scale<F>[-corpus<N>] with --scale / --corpus-size)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every step count (smoke tests: 0.005)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of every stage")
    ap.add_argument("--torch-eval-every", type=int, default=0,
                    help="passed to train.py (its end-of-stage torch golden estimate on every n-th item; default 10)")
    ap.add_argument("--corpus-size", type=int, default=0,
                    help="passed to train.py: fewer conversations per stage (default 60,000); for smoke tests on a "
                         "loaded machine, where a stage's corpus set-up takes minutes (it changes the tokenizer stage 1 learns)")
    ap.add_argument("--dry-run", action="store_true", help="print the stages' commands and exit")
    args = ap.parse_args()
    if args.scale <= 0:
        ap.error("--scale must be > 0")

    with open(args.recipe, "rb") as fh:
        raw = fh.read()
    recipe = json.loads(raw)
    stages = recipe["stages"]
    out = os.path.abspath(args.out)
    work = os.path.abspath(args.work or (out.rstrip("/") + ".recipe-work" +
                                         ("" if args.scale == 1 else f"-scale{args.scale:g}") +
                                         (f"-corpus{args.corpus_size}" if args.corpus_size else "")))
    extra = ["--torch-eval-every", str(args.torch_eval_every)] if args.torch_eval_every else []
    if args.corpus_size:
        extra += ["--corpus-size", str(args.corpus_size)]
    cmds = [stage_command(st, work, args.scale, args.threads, extra) for st in stages]
    N = len(stages)
    if args.dry_run:
        for k, (st, (cmd, n)) in enumerate(zip(stages, cmds), 1):
            print(f"# stage {k}/{N} {st['id']}: {n} steps, resumes from {st['resume'] or '-'}")
            print(" ".join(cmd))
        return

    os.makedirs(work, exist_ok=True)
    ident = {"recipe": os.path.basename(args.recipe), "recipe_sha256": hashlib.sha256(raw).hexdigest(),
             "scale": args.scale, "corpus_size": args.corpus_size or None}
    state_path = os.path.join(work, "recipe-state.json")
    if os.path.exists(state_path):
        with open(state_path) as fh:
            prev = json.load(fh)
        if {k: prev.get(k) for k in ident} != ident:
            sys.exit(f"[recipe] {work} was made with {prev}, not {ident}: pass another --work")
    else:
        with open(state_path, "w") as fh:
            json.dump(ident, fh, indent=2)

    tty = sys.stdout.isatty()
    print(f"[recipe] {recipe.get('name', args.recipe)}: {N} stages, scale {args.scale:g}, threads {args.threads}, "
          f"work {work}, out {out}", flush=True)
    t_all = time.time()
    child = None

    def on_signal(signum, _frame):
        if child and child.poll() is None:
            child.terminate()
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
        print(f"\n[recipe] stopped by signal {signum}; rerun the same command to continue", flush=True)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    times = {}
    for k, (st, (cmd, n)) in enumerate(zip(stages, cmds), 1):
        sid = st["id"]
        ckpt = os.path.join(work, sid + ".pt")
        head = f"stage {k}/{N} {sid} ({st['script']}, {n} step{'' if n == 1 else 's'})"
        if os.path.exists(ckpt):
            print(f"{head}: skipped, {os.path.relpath(ckpt, work)} exists", flush=True)
            continue
        if st.get("resume") and not os.path.exists(os.path.join(work, st["resume"] + ".pt")):
            sys.exit(f"[recipe] {sid} resumes from {st['resume']}, whose checkpoint is missing")
        d = os.path.join(work, sid)
        os.makedirs(d, exist_ok=True)
        log = os.path.join(d, "log.txt")
        t0 = time.time()
        with open(log, "w") as lf:
            lf.write("$ " + " ".join(cmd) + "\n")
            lf.flush()
            child = subprocess.Popen(cmd, cwd=REPO, stdout=lf, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
            if not tty:
                print(f"{head}: ", end="", flush=True)
            last_print = 0.0
            while child.poll() is None:
                time.sleep(1)
                if tty and time.time() - last_print >= 1:
                    last_print = time.time()
                    line = f"{head}: {fmt_s(time.time() - t0)} | {last_progress(log)}"
                    sys.stdout.write("\r\033[K" + line[: shutil.get_terminal_size().columns - 1])
                    sys.stdout.flush()
        rc = child.returncode
        child = None
        el = time.time() - t0
        if tty:
            sys.stdout.write("\r\033[K" + head + ": ")
        if rc != 0:
            print(f"FAILED (exit {rc}) after {fmt_s(el)}; log {log}:", flush=True)
            with open(log, errors="replace") as fh:
                sys.stdout.write("".join(fh.readlines()[-15:]))
            sys.exit(1)
        os.replace(ckpt + ".part", ckpt)
        times[sid] = round(el, 1)
        print(f"done in {fmt_s(el)} (total {fmt_s(time.time() - t_all)})", flush=True)
        with open(os.path.join(d, "stage-time.json"), "w") as fh:
            json.dump({"seconds": round(el, 1), "steps": n, "command": cmd}, fh)

    # the final model folder: the last stage's export, plus the recipe's final config entries
    src = os.path.join(work, stages[-1]["id"], "model")
    tmp = out.rstrip("/") + ".recipe-tmp"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    shutil.copytree(src, tmp)
    cfg_path = os.path.join(tmp, "config.json")
    with open(cfg_path) as fh:
        cfg = json.load(fh)
    for key, val in recipe.get("final_config", {}).items():
        if isinstance(val, dict):
            cfg.setdefault(key, {}).update(val)
        else:
            cfg[key] = val
    cfg.setdefault("parley", {})["recipe"] = {"file": os.path.basename(args.recipe), "scale": args.scale}
    if args.corpus_size:
        cfg["parley"]["recipe"]["corpus_size"] = args.corpus_size
    with open(cfg_path, "w") as fh:
        json.dump(cfg, fh, indent=2)
        fh.write("\n")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(tmp):  # replace what the folder holds file by file (a shipped folder may hold more)
        dst = os.path.join(out, name)
        if os.path.isdir(dst) and not os.path.islink(dst):
            shutil.rmtree(dst)
        shutil.move(os.path.join(tmp, name), dst)
    shutil.rmtree(tmp)
    # next to the model folder, as train.py writes them next to its default --out: the golden set, the
    # tokenizer fixtures (tests/unit/model-tokenizer.test.ts pairs <model>/../tokenizer-fixtures.jsonl
    # with the model's tokenizer) and the last stage's loss log
    last = os.path.join(work, stages[-1]["id"])
    for name in ("golden.jsonl", "tokenizer-fixtures.jsonl", "train-loss.csv"):
        if os.path.exists(os.path.join(last, name)):
            shutil.copyfile(os.path.join(last, name), os.path.join(os.path.dirname(out), name))
    print(f"[recipe] {out} written from {stages[-1]['id']} in {fmt_s(time.time() - t_all)} "
          f"({len(times)} stages run, {N - len(times)} skipped)", flush=True)


if __name__ == "__main__":
    main()
