"""Side by side: packsim and the tools a user would otherwise pick, on the same inputs, in one run.

Run through `benches/cross-tool/run.sh`, which installs the tools (requirements.txt) in a virtualenv
and builds packsim in release mode. Every input is generated here from a fixed seed and written to
files that both sides read. Where two tools implement the same algorithm the script checks that
they agree (satyr's heuristics against packsim's satyr-* policies item by item, binpacking's
worst-fit decreasing bin for bin, SimPy's first-fit replay against packsim's global model), so a
ratio is never a comparison of different work.

Timings: Python sides are timed in-process around the call (the interpreter's start is not
counted); packsim is timed as a whole process (start, parsing, output), best of three, so the
ratios favour the Python tools.
"""

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import time
from datetime import date

import importlib.metadata
import importlib.util

import binpacking
import simpy
from ortools.sat.python import cp_model


def load_satyr_binpack():
    """satyr 0.2.1's package __init__ is Python 2 only; its binpack module runs on both, so it is
    loaded from its file without the package."""
    dist = importlib.metadata.distribution("satyr")
    path = dist.locate_file("satyr/binpack.py")
    spec = importlib.util.spec_from_file_location("satyr_binpack", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sb = load_satyr_binpack()
VERSIONS = {name: importlib.metadata.version(name) for name in ["satyr", "binpacking", "simpy", "ortools"]}

ROWS = []  # (task, tool, size, seconds, result, note)


def timed(fn, repeat=1):
    best, out = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best, out


def run_packsim(packsim, args, repeat=3):
    def call():
        return subprocess.run([packsim, *args], check=True, capture_output=True, text=True).stdout

    return timed(call, repeat)


def record(task, tool, size, seconds, result, note=""):
    ROWS.append((task, tool, size, seconds, result, note))
    print(f"  {tool:<28} {size:<28} {seconds:>10.4f} s  {result}  {note}", flush=True)


# ---------------------------------------------------------------------------------------------
# 1. satyr's weighted heuristics (PyPI satyr) against packsim's satyr-compatible policies.


class Vec:
    """A (cpus, mem, disk) request or remainder, with the operators satyr's binpack uses."""

    __slots__ = ("cpus", "mem", "disk", "i")

    def __init__(self, cpus, mem, disk, i=None):
        self.cpus, self.mem, self.disk, self.i = cpus, mem, disk, i

    def __le__(self, other):
        return self.cpus <= other.cpus and self.mem <= other.mem and self.disk <= other.disk

    def __sub__(self, other):
        if isinstance(other, int) and other == 0:  # an empty bin's sum()
            return self
        return Vec(self.cpus - other.cpus, self.mem - other.mem, self.disk - other.disk)

    def __add__(self, other):
        return Vec(self.cpus + other.cpus, self.mem + other.mem, self.disk + other.disk)

    def __radd__(self, other):  # sum() starts from 0
        return self if other == 0 else self + other


def satyr_section(packsim, work, n_items, n_bins):
    rng = random.Random(42)
    # Integer amounts: exact in floats, so satyr's float sums and packsim's fixed point agree.
    items = [Vec(rng.randint(1, 4), rng.randint(1, 32) * 128, rng.randint(0, 20), i) for i in range(n_items)]
    bins = [Vec(rng.randint(4, 32), rng.randint(16, 256) * 128, rng.randint(50, 400), b) for b in range(n_bins)]
    items_csv, bins_csv = os.path.join(work, "satyr-items.csv"), os.path.join(work, "satyr-bins.csv")
    with open(items_csv, "w") as f:
        f.write("id,cpus,mem,disk\n")
        for v in items:
            f.write(f"t{v.i},{v.cpus},{v.mem},{v.disk}\n")
    with open(bins_csv, "w") as f:
        f.write("id,cpus,mem,disk\n")
        for v in bins:
            f.write(f"o{v.i},{v.cpus},{v.mem},{v.disk}\n")
    size = f"{n_items} items, {n_bins} offers"
    for name in ["ff", "ffd", "mr", "bf", "bfd"]:
        fn = getattr(sb, name)
        kwargs = {} if name == "ff" else {"cpus": 1, "mem": 1}
        seconds, (packed, skip) = timed(lambda: fn(items, bins, **kwargs))
        theirs = {}
        for (target, content) in packed:
            for item in content:
                theirs[item.i] = target.i
        placed = len(theirs)
        record("satyr heuristics", f"satyr {name}", size, seconds, f"{placed} placed")
        p_seconds, out = run_packsim(packsim, ["pack", "-p", f"satyr-{name}", "-b", bins_csv, "-i", items_csv, "-f", "csv"])
        ours = {}
        for row in csv.DictReader(out.splitlines()):
            if row["bin"]:
                ours[int(row["item"].lstrip("t"))] = int(row["bin"].lstrip("o"))
        same = "identical placements" if ours == theirs else f"DIFFERENT ({sum(ours.get(k) != v for k, v in theirs.items())} items)"
        record("satyr heuristics", f"packsim satyr-{name}", size, p_seconds, f"{len(ours)} placed", same)


# ---------------------------------------------------------------------------------------------
# 2. Python binpacking (to_constant_volume: worst-fit decreasing over opened bins).


def write_bpplib(path, weights, capacity):
    with open(path, "w") as f:
        f.write(f"{len(weights)}\n{capacity}\n")
        f.writelines(f"{w}\n" for w in weights)


def gap_bins(packsim, path, policy, work):
    out = os.path.join(work, f"gap-{policy}")
    seconds, _ = run_packsim(packsim, ["gap", "--suite", path, "-p", policy, "-o", out, "-j", "1"], repeat=1)
    with open(os.path.join(out, "instances.csv")) as f:
        row = next(csv.DictReader(f))
    return seconds, int(row["bins"]), float(row["time_us"]) / 1e6


def binpacking_section(packsim, work, sizes):
    for n in sizes:
        rng = random.Random(n)
        capacity = 1000
        weights = [rng.randint(1, 700) for _ in range(n)]
        path = os.path.join(work, f"uniform-{n}.txt")
        write_bpplib(path, weights, capacity)
        size = f"{n} items, capacity {capacity}"
        seconds, bins = timed(lambda: binpacking.to_constant_volume(weights, capacity))
        record("1-D worst-fit decreasing", "binpacking to_constant_volume", size, seconds, f"{len(bins)} bins")
        p_seconds, p_bins, in_process = gap_bins(packsim, path, "wfd-sum", work)
        same = "same bins" if p_bins == len(bins) else "DIFFERENT bin count"
        record("1-D worst-fit decreasing", "packsim gap wfd-sum", size, p_seconds, f"{p_bins} bins",
               f"{same}; {in_process * 1e3:.2f} ms in-process")
        p_seconds, p_bins, in_process = gap_bins(packsim, path, "ffd-sum", work)
        record("1-D worst-fit decreasing", "packsim gap ffd-sum", size, p_seconds, f"{p_bins} bins",
               f"{in_process * 1e3:.2f} ms in-process (first fit: fewer bins)")


# ---------------------------------------------------------------------------------------------
# 3. SimPy: the same first-fit cluster replay as a SimPy model and as `packsim replay`.


def simpy_section(packsim, work, n_tasks, n_machines):
    rng = random.Random(7)
    cpu_cap, mem_cap = 32_000, 131_072
    tasks, t = [], 0
    for i in range(n_tasks):
        t += 2 * rng.randint(1, 5)  # arrivals on even seconds
        duration = 2 * rng.randint(50, 2000) + 1  # departures on odd seconds: no ties with arrivals
        tasks.append((i, t, t + duration, 500 * rng.randint(1, 16), 1024 * rng.randint(1, 32)))
    path = os.path.join(work, "replay-pods.csv")
    with open(path, "w") as f:
        f.write("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n")
        for (i, a, d, cpu, mem) in tasks:
            f.write(f"pod-{i},{cpu},{mem},0,0,,LS,Running,{a},{d},{a}\n")

    def simulate():
        env = simpy.Environment()
        free_cpu, free_mem = [cpu_cap] * n_machines, [mem_cap] * n_machines
        count = [0] * n_machines
        stats = {"peak": 0, "used": 0, "queued": 0}

        def task(cpu, mem, duration):
            for m in range(n_machines):  # first fit
                if free_cpu[m] >= cpu and free_mem[m] >= mem:
                    break
            else:
                stats["queued"] += 1  # the workload is sized so this never happens
                return
            free_cpu[m] -= cpu
            free_mem[m] -= mem
            count[m] += 1
            if count[m] == 1:
                stats["used"] += 1
                stats["peak"] = max(stats["peak"], stats["used"])
            yield env.timeout(duration)
            free_cpu[m] += cpu
            free_mem[m] += mem
            count[m] -= 1
            if count[m] == 0:
                stats["used"] -= 1

        def source():
            for (_, a, d, cpu, mem) in tasks:
                yield env.timeout(a - env.now)
                env.process(task(cpu, mem, d - a))

        env.process(source())
        env.run()
        return stats

    size = f"{n_tasks} tasks, {n_machines} machines"
    seconds, stats = timed(simulate)
    assert stats["queued"] == 0, "the SimPy model queued a task; the comparison needs none"
    record("first-fit cluster replay", "SimPy 4 (Python model)", size, seconds, f"peak {stats['peak']} machines")
    out = os.path.join(work, "replay-out")
    p_seconds, _ = run_packsim(packsim, ["replay", "-w", path, "-c", f"{n_machines}:cpus=32,mem=131072",
                                         "-p", "first-fit", "-m", "global", "-o", out])
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    peak = summary["peak_machines_used"]
    same = "same peak" if peak == stats["peak"] else "DIFFERENT peak"
    record("first-fit cluster replay", "packsim replay (global)", size, p_seconds, f"peak {peak} machines", same)


# ---------------------------------------------------------------------------------------------
# 4. OR-Tools CP-SAT as the exact oracle on small BPPLIB instances.


def cpsat_bins(weights, capacity, upper, seconds):
    """The usual assignment model, strengthened as the literature does: items sorted by decreasing
    weight and item i only in bins 0..i (symmetry), used bins first, and the L1 bound on the count
    (so a solution at L1 is proved optimal at once)."""
    model = cp_model.CpModel()
    weights = sorted(weights, reverse=True)
    n, bins = len(weights), upper
    x = [[model.new_bool_var(f"x{i}_{b}") if b <= i else None for b in range(bins)] for i in range(n)]
    y = [model.new_bool_var(f"y{b}") for b in range(bins)]
    for i in range(n):
        model.add_exactly_one(v for v in x[i] if v is not None)
    for b in range(bins):
        model.add(sum(weights[i] * x[i][b] for i in range(n) if x[i][b] is not None) <= capacity * y[b])
        if b + 1 < bins:
            model.add(y[b] >= y[b + 1])
    model.add(sum(y) >= -(-sum(weights) // capacity))
    model.minimize(sum(y))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    status = solver.solve(model)
    return int(solver.objective_value), status == cp_model.OPTIMAL, int(solver.best_objective_bound)


def cpsat_section(packsim, shared, work, count, limit):
    bounds = {}
    with open(os.path.join(shared, "datasets", "bpplib_1d", "bpplib_bounds.csv")) as f:
        for row in csv.DictReader(f):
            bounds[row["instance"]] = row
    folder = os.path.join(shared, "datasets", "bpplib_1d", "instances", "Falkenauer_U")
    names = sorted(n for n in os.listdir(folder) if n.startswith(("Falkenauer_u120_", "Falkenauer_u250_")))[:count]
    sel = os.path.join(work, "oracle")
    os.makedirs(sel, exist_ok=True)
    for name in names:
        if not os.path.exists(os.path.join(sel, name)):
            os.link(os.path.join(folder, name), os.path.join(sel, name))
    policies = "ffd-sum,bfd-sum,wfd-sum,first-fit,best-fit"
    out = os.path.join(work, "gap-oracle")
    p_seconds, _ = run_packsim(packsim, ["gap", "--suite", sel, "-p", policies, "-o", out, "-j", "1"], repeat=1)
    ours = {}
    micros = 0.0
    with open(os.path.join(out, "instances.csv")) as f:
        for row in csv.DictReader(f):
            key = row["instance"]
            ours[key] = min(ours.get(key, 10**9), int(row["bins"]))
            micros += float(row["time_us"])
    cp_total, cp_optimal, cp_at_opt, ours_at_opt = 0.0, 0, 0, 0
    for name in names:
        with open(os.path.join(folder, name)) as f:
            numbers = [int(line) for line in f if line.strip()]
        n, capacity, weights = numbers[0], numbers[1], numbers[2 : 2 + numbers[0]]
        key = name[:-4]
        opt = int(bounds[key]["opt"] or bounds[key]["opt_by_construction"])
        upper = ours.get(key, n)
        seconds, (value, optimal, bound) = timed(lambda: cpsat_bins(weights, capacity, upper, limit))
        cp_total += seconds
        cp_optimal += optimal
        cp_at_opt += value == opt
        ours_at_opt += ours.get(key) == opt
    size = f"{len(names)} Falkenauer U instances (120 items)"
    record("exact oracle, small BPPLIB", f"OR-Tools CP-SAT ({limit:g} s limit, 2 workers)", size, cp_total,
           f"{cp_at_opt}/{len(names)} at optimum", f"{cp_optimal} proved optimal")
    record("exact oracle, small BPPLIB", "packsim gap (best of 5 rules)", size, p_seconds,
           f"{ours_at_opt}/{len(names)} at optimum", f"{micros / 1e3:.1f} ms in-process for 5 rules")


def write_report(path, args):
    by_task = {}
    for row in ROWS:
        by_task.setdefault((row[0], row[2]), []).append(row)
    lines = [
        "# packsim beside the tools users would otherwise pick",
        "",
        f"Run on {date.today().isoformat()} by `{' '.join(args)}` on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; "
        + ", ".join(f"{k} {v}" for k, v in VERSIONS.items())
        + ".",
        "",
        "| work | inputs | tool | time | result | ratio (tool / packsim) | note |",
        "|---|---|---|---:|---|---:|---|",
    ]
    for (task, size), rows in by_task.items():
        for i, row in enumerate(rows):
            # A Python tool is compared with the packsim row right after it.
            ratio = ""
            if not row[1].startswith("packsim"):
                nxt = next((r for r in rows[i + 1 :] if r[1].startswith("packsim")), None)
                if nxt:
                    ratio = f"{row[3] / nxt[3]:.1f}×"
            lines.append(f"| {task} | {size} | {row[1]} | {row[3]:.4f} s | {row[4]} | {ratio} | {row[5]} |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(path.replace(".md", ".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["work", "tool", "inputs", "seconds", "result", "note"])
        w.writerows(ROWS)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packsim", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    a = ap.parse_args()
    work = os.path.join(a.out, "work")
    os.makedirs(work, exist_ok=True)
    q = a.quick
    print("satyr heuristics")
    satyr_section(a.packsim, work, 300 if q else 2000, 60 if q else 400)
    print("binpacking")
    binpacking_section(a.packsim, work, [1000] if q else [1000, 10000])
    print("SimPy")
    simpy_section(a.packsim, work, 2000 if q else 100_000, 200 if q else 400)
    print("CP-SAT")
    cpsat_section(a.packsim, a.shared, work, 2 if q else 20, 2.0 if q else 10.0)
    report = os.path.join(a.out, "report.md")
    write_report(report, ["bash", "benches/cross-tool/run.sh", *(["--quick"] if q else [])])
    print(f"\nwrote {report}")


if __name__ == "__main__":
    main()
