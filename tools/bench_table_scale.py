"""The scale section of docs/benchmarks.md (imported by tools/bench-table.py).

bench --part scale, run through jobs/bench/run_scale.py at N ranks, writes scale-<N>.json whose
every key ends in _<N>. This module defines those keys, tells scale files from the others, and
writes the section: one row per rank count (rank 0's CPU per result against the 2-rank figure,
start-up against a bare MPI_Init/MPI_Finalize program, the start-up phases), how each phase grew
against the ranks, and the rank-0 model's figures (docs/benchmarks.md, "Where one rank 0 stops
keeping up") computed from the measured CPU per result, in a section of their own.
"""
import re

# prefix, unit, what it measures: the key is <prefix>_<N>.
SCALE_FIGURES = [
    ("rank0_cpu_per_result_us", "us", "rank 0's CPU time (every thread) per result over a "
     "chunksize-1 map of no-ops with every engine busy; median of 3 maps of 10^5 items"),
    ("rank0_wall_per_result_us", "us", "the wall time per result of the same maps"),
    ("farm_rank0_cpu_per_task_us", "us", "the plain-MPI side: rank 0's CPU time per task of the "
     "blocking farm (MPI_Send, window hwm, MPI_Recv from any worker) after mpiply::run, every "
     "rank a worker; median of 3 runs of as many tasks as the maps' items"),
    ("farm_wall_per_task_us", "us", "the wall time per task of the same farm runs"),
    ("scale_items", "items", "items in each of those maps"),
    ("startup_s", "s", "launch (mpirun) to the first no-op result at the client "
     "(jobs/bench/run_scale.py)"),
    ("mpi_init_finalize_s", "s", "launch to exit of a program that only calls MPI_Init and "
     "MPI_Finalize, at the same N, just before"),
    ("startup_mpi_init_s", "s", "MPI_Init on rank 0"),
    ("startup_run_s", "s", "mpiply::run on rank 0 up to client_main: settings, the phases below, "
     "the task database, the progress thread"),
    ("startup_registry_s", "s", "registry agreement: names, signatures, builds, hosts and "
     "inventories broadcast, gathered and judged"),
    ("startup_clock_align_s", "s", "clock alignment: rank 0 exchanges 8 round trips with one "
     "engine per kernel other than its own, in turn; the others take their kernel's offset; on "
     "one host nothing is exchanged, not even a collective"),
    ("startup_clock_engines_measured", "engines", "how many engines that clock alignment "
     "exchanged round trips with (0 on one host)"),
    ("startup_engine_comm_s", "s", "creation of the engine communicator (MPI_Comm_split)"),
    ("startup_first_apply_s", "s", "client_main's first apply, submit to result"),
]
SCALE_KEY = re.compile(r"^(" + "|".join(p for p, _, _ in SCALE_FIGURES) + r")_(\d+)$")
MARKERS = ("<!-- bench-table:scale:begin -->", "<!-- bench-table:scale:end -->")
MODEL_MARKERS = ("<!-- bench-table:model:begin -->", "<!-- bench-table:model:end -->")
PHASES = [("startup_registry_s", "registry agreement"),
          ("startup_engine_comm_s", "engine communicator"),
          ("startup_clock_align_s", "clock alignment")]
ENGINES_KEPT_BUSY = (1000, 10000)


def is_scale_key(key):
    return SCALE_KEY.match(key) is not None


def is_scale_file(data):
    return bool(data) and all(is_scale_key(k) for k in data)


def missing_keys(data):
    """Every scale figure at each rank count the files have, less those they hold."""
    ranks = {SCALE_KEY.match(k).group(2) for k in data if is_scale_key(k)}
    return sorted(f"{p}_{n}" for n in ranks for p, _, _ in SCALE_FIGURES
                  if f"{p}_{n}" not in data)


def definitions_rows():
    return [f"| `{p}_<N>` | {unit} | one run at N ranks |  |  | {what} |"
            for p, unit, what in SCALE_FIGURES]


def _fmt(v, digits=3):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}g}"


def _seconds(us):
    return f"{us / 1e3:.3g} ms" if us < 1e6 else f"{us / 1e6:.3g} s"


def section(data, header, sources):
    """The scale section's Markdown from the merged scale keys."""
    ranks = sorted({int(SCALE_KEY.match(k).group(2)) for k in data if is_scale_key(k)})
    get = lambda prefix, n: data.get(f"{prefix}_{n}")
    out = [header, "", f"Sources: {', '.join(sources)}.", ""]
    out += ["| ranks | rank-0 CPU per result (us) | x 2-rank | farm's rank-0 CPU per task (us) | "
            "farm x 2-rank | wall per result (us) | farm's wall per task (us) | "
            "start-up (s) | bare MPI_Init/Finalize (s) | ratio | MPI_Init (s) | "
            "mpiply::run (s) | registry (s) | engine comm (s) | clock align (s) | "
            "engines measured | first apply (s) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    base = get("rank0_cpu_per_result_us", 2)
    farm_base = get("farm_rank0_cpu_per_task_us", 2)
    for n in ranks:
        cpu, st, bare = (get("rank0_cpu_per_result_us", n), get("startup_s", n),
                         get("mpi_init_finalize_s", n))
        farm = get("farm_rank0_cpu_per_task_us", n)
        cells = [str(n), _fmt(cpu), _fmt(cpu / base) if cpu and base else "-",
                 _fmt(farm), _fmt(farm / farm_base) if farm and farm_base else "-",
                 _fmt(get("rank0_wall_per_result_us", n)), _fmt(get("farm_wall_per_task_us", n)),
                 _fmt(st), _fmt(bare),
                 _fmt(st / bare) if st and bare else "-"]
        cells += [_fmt(get(p, n)) for p in ("startup_mpi_init_s", "startup_run_s",
                                            "startup_registry_s", "startup_engine_comm_s",
                                            "startup_clock_align_s",
                                            "startup_clock_engines_measured",
                                            "startup_first_apply_s")]
        out.append("| " + " | ".join(cells) + " |")
    notes = []
    if base is None:
        notes.append("no scale-2.json: the `x 2-rank` column needs the 2-rank run")
    # Growth step by step: from 2 ranks (a core each here) to many (sharing two cores) the
    # machine changes, so only neighbouring rank counts say how a phase grows.
    for lo, hi in zip(ranks, ranks[1:]):
        growth = [f"{name} x{get(key, hi) / get(key, lo):.3g}" for key, name in PHASES
                  if get(key, lo) and get(key, hi)]
        if growth:
            notes.append(f"{lo} -> {hi} ranks (x{hi / lo:.3g}): " + ", ".join(growth))
    if len(ranks) >= 2:
        notes.append("a phase that grows no worse than linearly grows by at most the ranks' "
                     "factor at each step")
    # The targets at the largest rank count, each beside what plain MPI does there.
    top = ranks[-1] if ranks else None
    if top is not None and top != 2:
        cpu, farm = get("rank0_cpu_per_result_us", top), get("farm_rank0_cpu_per_task_us", top)
        st, bare = get("startup_s", top), get("mpi_init_finalize_s", top)
        parts = []
        if cpu and base:
            parts.append(f"rank-0 CPU per result x{cpu / base:.3g} the 2-rank figure (target "
                         f"<= 1.5: {'met' if cpu / base <= 1.5 else 'not met'})"
                         + (f", where the plain-MPI farm's grew x{farm / farm_base:.3g}"
                            if farm and farm_base else ""))
        if st and bare:
            parts.append(f"start-up x{st / bare:.3g} the bare MPI_Init/MPI_Finalize program "
                         f"(target <= 1.2: {'met' if st / bare <= 1.2 else 'not met'})")
        if parts:
            notes.append(f"at {top} ranks: " + "; ".join(parts))
    out += [""] + [f"- {n}" for n in notes]
    return "\n".join(out).rstrip() + "\n"


def model(data):
    """The rank-0 model's figures: R and the shortest task that keeps 1,000 and 10,000 engines
    busy, from rank 0's CPU per result as measured at each rank count."""
    cpu = {int(m.group(2)): v for k, v in data.items()
           if (m := SCALE_KEY.match(k)) and m.group(1) == "rank0_cpu_per_result_us" and v}
    if not cpu:
        return "No rank-0 CPU figure in the scale files.\n"
    ranks = sorted(cpu)
    top = ranks[-1]
    c = cpu[top]
    out = [f"From the {top}-rank run (the most engines measured), c = {_fmt(c)} us of rank-0 CPU "
           f"per result, so R = 1 / c = {1e6 / c:,.0f} results/s, and "
           + " and ".join(f"{e:,} engines stay busy only with tasks of at least "
                          f"{_seconds(e * c)}" for e in ENGINES_KEPT_BUSY) + ".", "",
           "| engines | " + " | ".join(f"L_min from c at {n} ranks ({_fmt(cpu[n])} us)"
                                        for n in ranks) + " |",
           "|---|" + "---|" * len(ranks)]
    for e in ENGINES_KEPT_BUSY:
        out.append(f"| {e:,} | " + " | ".join(_seconds(e * cpu[n]) for n in ranks) + " |")
    return "\n".join(out) + "\n"
