"""Sweeps: grid parsing, run folders, resumption, failure isolation, and the same numbers on a
spawned process pool and on a real local Ray instance."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import reference_models
from collapsekit.errors import CollapsekitError
from collapsekit.metrics import keys
from collapsekit.runs import RunDir, load_runs
from collapsekit.sweep import (
    FAILED,
    INVALID,
    RESUME,
    SKIP,
    TRAIN,
    SweepGrid,
    expand_grid,
    folder_action,
    import_ray,
    load_grid,
    lock_path,
    parallelism,
    parse_seeds,
    plan_sweep,
    run_name,
    run_sweep,
    run_task,
    run_tasks,
    split_specs,
    usable_cores,
)
from reference_models import GANTrainer, register_model
from reference_models.registry import list_models

TINY = dict(
    steps=6, eval_every=3, eval_samples=200, batch_size=64, z_dim=16, hidden=32, device="cpu"
)
BAD_DATA = "ring8:std=-1"  # an invalid dataset parameter: its runs fail, the others go on
BAD_ERROR = "CollapsekitError: dataset 'ring8:std=-1': std must be positive, got -1.0"
MODELS = ["vanilla", "unrolled"]
LOOK_AHEAD = {"unroll_steps": 1}  # reaches the unrolled GAN only
GOOD = SweepGrid(MODELS, ["ring8"], [0, 1], settings=TINY, options=LOOK_AHEAD)
WITH_BAD = SweepGrid(MODELS, ["ring8", BAD_DATA], [0, 1], settings=TINY, options=LOOK_AHEAD)
GOOD_NAMES = [f"{model}-ring8-seed{seed}" for model in MODELS for seed in (0, 1)]
BAD_NAMES = [f"{model}-ring8_std=-1-seed{seed}" for model in MODELS for seed in (0, 1)]


class LookAheadForTests(GANTrainer):
    """A trainer with one option, to see options reach only the models that take them."""

    description = "test trainer with an option"
    option_defaults = {"look_ahead": 1}


if "look-ahead-test" not in list_models():
    register_model("look-ahead-test", LookAheadForTests)


def summary_of(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def measured(metrics: dict) -> dict:
    """Metrics without the wall-clock time, which differs between any two runs."""
    return {k: v for k, v in metrics.items() if k != keys.ELAPSED_SECONDS}


def history_of(folder: Path):
    return RunDir(folder).read_history().drop(columns=[keys.ELAPSED_SECONDS])


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """The grid with a failing dataset, run once on a 2-worker spawned process pool."""
    out = tmp_path_factory.mktemp("local")
    heard = []
    outcomes = run_sweep(WITH_BAD, out, workers=2, threads_per_run=1, on_outcome=heard.append)
    return out, outcomes, heard


@pytest.fixture(scope="module")
def ray_sweep(tmp_path_factory):
    """The same grid on a real local Ray instance with 2 CPUs."""
    ray = import_ray()  # installed by `make test` (the test extra): this test must run, not skip
    out = tmp_path_factory.mktemp("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        outcomes = run_sweep(WITH_BAD, out, backend="ray", threads_per_run=1)
    finally:
        ray.shutdown()
    return out, outcomes


# -- parsing -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seeds"),
    [
        ("0-4", [0, 1, 2, 3, 4]),
        ("0,2,5", [0, 2, 5]),
        ("0-2,7", [0, 1, 2, 7]),
        ("3", [3]),
        (" 1 - 2 ,1", [1, 2]),
    ],
)
def test_seeds_from_ranges_and_lists(text, seeds):
    assert parse_seeds(text) == seeds


def test_seeds_from_toml_values():
    assert parse_seeds(4) == [4]
    assert parse_seeds([2, 0, 2]) == [2, 0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("4-1", "write it low to high, e.g. 1-4"),
        ("a", "'a' is not a number or a range"),
        ("", "no seeds given"),
        ([1, -2], "got -2"),
        (1.5, "seeds must look like 0-4"),
    ],
)
def test_bad_seeds_say_how_to_write_them(value, message):
    with pytest.raises(CollapsekitError, match=message):
        parse_seeds(value)


def test_dataset_parameters_stay_with_their_dataset():
    assert split_specs("ring8:radius=1,std=0.01,grid25") == ["ring8:radius=1,std=0.01", "grid25"]
    assert split_specs("vanilla, unrolled,") == ["vanilla", "unrolled"]


def test_run_names_are_deterministic_and_safe():
    assert run_name("vanilla", "ring8", 0) == "vanilla-ring8-seed0"
    assert (
        run_name("unrolled", "ring8:radius=1,std=0.01", 12)
        == "unrolled-ring8_radius=1_std=0.01-seed12"
    )
    assert run_name("vanilla", "a/b c", 1) == "vanilla-a_b_c-seed1"


def test_grid_file(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(
        'models = ["vanilla", "look-ahead-test"]\ndata = "ring8:std=0.01,grid25"\nseeds = "0-2"\n'
        "steps = 500\neval_every = 100\n\n[options]\nlook_ahead = 3\n\n[options.vanilla]\n"
    )
    grid = load_grid(path)
    assert grid.models == ["vanilla", "look-ahead-test"]
    assert grid.data == ["ring8:std=0.01", "grid25"]
    assert grid.seeds == [0, 1, 2] and len(grid) == 12
    assert grid.settings == {"steps": 500, "eval_every": 100}
    assert grid.options == {"look_ahead": 3} and grid.model_options == {"vanilla": {}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models = [", "is not valid TOML"),
        ('models = ["vanilla"]\n', "lacks data, seeds"),
        ('models = [1]\ndata = ["ring8"]\nseeds = 0\n', "models must be a list of names"),
        (
            'models = ["vanilla"]\ndata = ["ring8"]\nseeds = 0\noptions = 3\n',
            "options must be a table",
        ),
    ],
)
def test_bad_grid_files_are_named(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(CollapsekitError, match=message):
        load_grid(path)
    with pytest.raises(CollapsekitError, match="cannot read grid file"):
        load_grid(tmp_path / "missing.toml")


# -- expansion and planning ---------------------------------------------------------------------
def test_options_reach_only_the_models_that_take_them():
    grid = SweepGrid(
        ["vanilla", "look-ahead-test"], ["ring8", "grid25"], [0, 1], {"steps": 9}, {"look_ahead": 4}
    )
    configs = expand_grid(grid)
    assert len(configs) == 8
    assert [(c["model"], c["data"], c["seed"]) for c in configs[:3]] == [
        ("vanilla", "ring8", 0),
        ("vanilla", "ring8", 1),
        ("vanilla", "grid25", 0),
    ]
    assert {c["model"]: c["options"] for c in configs} == {
        "vanilla": {},
        "look-ahead-test": {"look_ahead": 4},
    }
    assert all(c["steps"] == 9 for c in configs)


def test_per_model_options_and_bad_settings():
    grid = SweepGrid(
        ["vanilla", "look-ahead-test"],
        ["ring8"],
        [0],
        model_options={"look-ahead-test": {"look_ahead": 2}},
    )
    assert expand_grid(grid)[1]["options"] == {"look_ahead": 2}
    with pytest.raises(CollapsekitError, match="no model in this sweep takes option 'look_ahead'"):
        expand_grid(SweepGrid(["vanilla"], ["ring8"], [0], options={"look_ahead": 2}))
    with pytest.raises(
        CollapsekitError, match="options given for unrolled, which the sweep does not run"
    ):
        expand_grid(
            SweepGrid(["vanilla"], ["ring8"], [0], model_options={"unrolled": {"unroll_steps": 1}})
        )
    with pytest.raises(CollapsekitError, match="unknown trainer setting.* stepz; valid: protocol, steps"):
        expand_grid(SweepGrid(["vanilla"], ["ring8"], [0], settings={"stepz": 3}))


def test_invalid_runs_are_planned_as_failures_with_their_error(tmp_path):
    grid = SweepGrid(["vanilla", "nonexistent"], ["ring8", BAD_DATA], [0], settings=TINY)
    tasks = plan_sweep(grid, tmp_path)
    assert [t.action for t in tasks] == [TRAIN, INVALID, INVALID, INVALID]
    assert "std must be positive, got -1.0" in tasks[1].error
    assert "unknown model 'nonexistent'; choose one of:" in tasks[2].error
    # a bad setting that every run shares stops the whole sweep at once
    with pytest.raises(CollapsekitError, match="steps must be a positive integer, got 'many'"):
        plan_sweep(SweepGrid(["vanilla"], ["ring8"], [0], settings={**TINY, "steps": "many"}), tmp_path)


def test_parallelism_never_asks_for_more_threads_than_cores():
    cores = usable_cores()
    assert parallelism("local", None, None, 100) == (cores, 1)
    # one thread per run even on spare cores: the bundled nets gain nothing from more
    assert parallelism("local", 1, None, 8) == (1, 1)
    assert parallelism("local", None, None, 1) == (1, 1)
    assert parallelism("local", 2, 3, 8) == (2, 3)
    assert parallelism("ray", None, None, 8) == (8, 1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"backend": "slurm"}, "unknown backend 'slurm'"),
        ({"address": "head:6379"}, "--address is for the ray"),
        ({"workers": 0}, "workers must be a positive integer, got 0"),
    ],
)
def test_bad_backend_settings(tmp_path, options, message):
    with pytest.raises(CollapsekitError, match=message):
        run_sweep(GOOD, tmp_path, **options)


def test_missing_ray_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees when it is not installed
    with pytest.raises(
        CollapsekitError, match=r"install it with: pip install 'collapsekit\[ray\]'"
    ):
        import_ray()
    with pytest.raises(CollapsekitError, match=r"pip install 'collapsekit\[ray\]'"):
        run_sweep(GOOD, tmp_path, backend="ray")


# -- running on the local pool ------------------------------------------------------------------
def test_local_pool_trains_every_run_and_reports_failures(local_sweep):
    out, outcomes, heard = local_sweep
    assert [o.name for o in outcomes] == GOOD_NAMES[:2] + BAD_NAMES[:2] + GOOD_NAMES[
        2:
    ] + BAD_NAMES[2:]
    assert sorted(o.name for o in heard) == sorted(GOOD_NAMES + BAD_NAMES)  # each heard of once
    by_name = {o.name: o for o in outcomes}
    for name in GOOD_NAMES:
        outcome = by_name[name]
        assert (outcome.action, outcome.status, outcome.step, outcome.error) == (
            TRAIN,
            "finished",
            6,
            None,
        )
        summary = summary_of(out / name)
        assert summary["status"] == "finished" and summary["metrics"] == outcome.metrics
        assert RunDir(out / name).read_history()["step"].tolist() == [0, 3, 6]
        config = RunDir(out / name).read_config()
        assert (config["model"], config["seed"]) == (name.split("-")[0], int(name[-1]))
        assert config["options"] == ({"unroll_steps": 1} if name.startswith("unrolled") else {})
    for name in BAD_NAMES:
        assert (by_name[name].status, by_name[name].error) == (FAILED, BAD_ERROR)
        assert not (out / name).exists()
    d_fake = {by_name[name].metrics[keys.D_FAKE] for name in GOOD_NAMES}
    assert len(d_fake) == 4  # another model or seed: another generator


def test_rerun_skips_finished_runs_without_touching_them(local_sweep):
    out, _, _ = local_sweep
    before = {name: (out / name / "summary.json").stat().st_mtime_ns for name in GOOD_NAMES}
    outcomes = run_sweep(GOOD, out, workers=2)
    assert [(o.name, o.action, o.status) for o in outcomes] == [
        (n, SKIP, "finished") for n in GOOD_NAMES
    ]
    assert [o.metrics for o in outcomes] == [summary_of(out / n)["metrics"] for n in GOOD_NAMES]
    assert {name: (out / name / "summary.json").stat().st_mtime_ns for name in GOOD_NAMES} == before


def test_other_settings_in_a_finished_folder_need_force(local_sweep):
    out, _, _ = local_sweep
    longer = SweepGrid(["vanilla"], ["ring8"], [0], settings={**TINY, "steps": 12})
    with pytest.raises(
        CollapsekitError,
        match=r"seed0 holds a run with other settings \(steps 6 -> 12\); rerun it with --force",
    ):
        plan_sweep(longer, out)
    assert [t.action for t in plan_sweep(longer, out, force=True)] == [TRAIN]


def test_options_are_compared_as_the_runs_used_them(local_sweep):
    out, _, _ = local_sweep
    folder = out / "unrolled-ring8-seed0"
    config = RunDir(folder).read_config()
    assert config["options"] == {"unroll_steps": 1}  # every option the run used is stored
    other = SweepGrid(["unrolled"], ["ring8"], [0], settings=TINY, options={"unroll_steps": 2})
    with pytest.raises(CollapsekitError, match=r"seed0 holds a run with other settings \(options "):
        plan_sweep(other, out)
    # A run that stored its defaults matches a grid that gives none: unroll_steps=5 here.
    stored = (folder / "config.json").read_text()
    try:
        (folder / "config.json").write_text(json.dumps({**config, "options": {"unroll_steps": 5}}))
        defaults = SweepGrid(["unrolled"], ["ring8"], [0], settings=TINY)
        assert [t.action for t in plan_sweep(defaults, out)] == [SKIP]
        with pytest.raises(CollapsekitError, match="other settings"):
            plan_sweep(GOOD, out)  # unroll_steps=1 asked for, 5 used
    finally:
        (folder / "config.json").write_text(stored)  # the folder is shared with later tests


def test_a_default_run_stores_the_options_of_its_kind_of_data(tmp_path):
    (outcome,) = run_sweep(SweepGrid(["minibatch"], ["ring8"], [0], settings=TINY), tmp_path)
    assert outcome.status == "finished"
    stored = RunDir(tmp_path / "minibatch-ring8-seed0").read_config()["options"]
    assert stored == {"kernels": 5, "kernel_dim": 5}  # B = 5 on 2-D data


class KillsItsWorker:
    """Unpickled in a worker, it ends that process at once, as an out-of-memory kill would."""

    def __reduce__(self):
        return (os._exit, (3,))


def test_a_dead_worker_costs_only_its_own_run(tmp_path):
    crash, good = plan_sweep(SweepGrid(["vanilla"], ["ring8"], [0, 1], settings=TINY), tmp_path)
    crash.config["options"] = KillsItsWorker()
    outcomes = run_tasks([crash, good], workers=1, threads_per_run=1)
    assert (outcomes[0].status, outcomes[0].error.split(":")[0]) == (FAILED, "BrokenProcessPool")
    assert (outcomes[1].action, outcomes[1].status, outcomes[1].step) == (TRAIN, "finished", 6)


# -- one run in this process: the worker's decisions ----------------------------------------------
def test_half_finished_run_resumes_to_the_uninterrupted_result(local_sweep, tmp_path):
    out, outcomes, _ = local_sweep
    half = SweepGrid(["vanilla"], ["ring8"], [0], settings={**TINY, "steps": 3})
    run_task(plan_sweep(half, tmp_path)[0])  # a run that stopped at its step-3 checkpoint ...
    folder = tmp_path / GOOD_NAMES[0]
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "steps": 6}))  # ... of a 6-step run
    (folder / "summary.json").unlink()
    (task,) = plan_sweep(SweepGrid(["vanilla"], ["ring8"], [0], settings=TINY), tmp_path)
    assert task.action == RESUME
    outcome = run_task(task)
    assert (outcome.action, outcome.status, outcome.step) == (RESUME, "finished", 6)
    assert measured(outcome.metrics) == measured(outcomes[0].metrics)  # as if it had never stopped
    assert RunDir(folder).read_history()["step"].tolist() == [0, 3, 6]


def test_run_killed_before_its_first_checkpoint_starts_again(tmp_path):
    (task,) = plan_sweep(SweepGrid(["vanilla"], ["ring8"], [0], settings=TINY), tmp_path)
    RunDir.create(task.run_dir, {"model": "vanilla", **TINY})  # config written, then killed
    assert folder_action(Path(task.run_dir)) == TRAIN
    outcome = run_task(task)
    assert (outcome.action, outcome.status, outcome.step) == (TRAIN, "finished", 6)


def test_force_trains_a_finished_run_again(tmp_path):
    (task,) = plan_sweep(SweepGrid(["vanilla"], ["ring8"], [1], settings=TINY), tmp_path)
    first = run_task(task)
    (again,) = plan_sweep(SweepGrid(["vanilla"], ["ring8"], [1], settings=TINY), tmp_path)
    assert again.action == SKIP and run_task(again).action == SKIP
    (forced,) = plan_sweep(
        SweepGrid(["vanilla"], ["ring8"], [1], settings=TINY), tmp_path, force=True
    )
    (tmp_path / task.name / "marker").write_text("from the old run")
    outcome = run_task(forced)
    assert (outcome.action, outcome.status) == (TRAIN, "finished")
    assert measured(outcome.metrics) == measured(first.metrics)
    assert not (tmp_path / task.name / "marker").exists()  # a fresh folder


def test_a_run_that_raises_comes_back_as_a_failed_outcome(tmp_path, monkeypatch):
    (task,) = plan_sweep(GOOD, tmp_path)[:1]
    task.config["data"] = BAD_DATA  # past the planner's check: fails inside the worker
    outcome = run_task(task)
    assert (outcome.status, outcome.traceback) == (FAILED, None)
    assert outcome.error == BAD_ERROR

    def broken_train(config, run_dir, progress):
        raise RuntimeError("a bug in a trainer")

    monkeypatch.setattr(reference_models, "train", broken_train)
    task.config["data"] = "ring8"
    outcome = run_task(task)  # not bad input but a bug: the traceback comes back too
    assert (outcome.status, outcome.error) == (FAILED, "RuntimeError: a bug in a trainer")
    assert (
        "Traceback (most recent call last)" in outcome.traceback
        and "broken_train" in outcome.traceback
    )


def test_invalid_runs_are_reported_without_a_worker(tmp_path):
    heard = []
    outcomes = run_tasks(
        plan_sweep(SweepGrid(["vanilla"], [BAD_DATA], [0, 1], settings=TINY), tmp_path),
        on_outcome=heard.append,
    )
    assert [(o.status, o.error) for o in outcomes] == [(FAILED, heard[0].error)] * 2
    assert list(tmp_path.iterdir()) == []


# -- Ray ---------------------------------------------------------------------------------------
def test_ray_gives_the_same_folders_and_numbers_as_the_local_pool(local_sweep, ray_sweep):
    local_out, local_outcomes, _ = local_sweep
    ray_out, ray_outcomes = ray_sweep
    assert sorted(p.name for p in ray_out.iterdir()) == sorted(GOOD_NAMES)
    assert sorted(p.name for p in local_out.iterdir()) == sorted(GOOD_NAMES)
    summary = [(o.name, o.action, o.status, o.step, o.error) for o in local_outcomes]
    assert [(o.name, o.action, o.status, o.step, o.error) for o in ray_outcomes] == summary
    for local, remote in zip(local_outcomes, ray_outcomes, strict=True):
        assert measured(remote.metrics) == measured(local.metrics)
        if local.status == "finished":
            assert measured(summary_of(ray_out / local.name)["metrics"]) == measured(local.metrics)
            assert history_of(ray_out / local.name).equals(history_of(local_out / local.name))


# -- stopping a sweep from outside: its workers stop with it -------------------------------------
posix_only = pytest.mark.skipif(os.name != "posix", reason="signals to process groups are POSIX")


def _start_long_sweep(out: Path):
    """A CLI sweep of 3 long runs on 2 workers, in its own session, started as a background job
    of a script (SIGINT ignored, so only SIGTERM or the sweep's death can stop the workers)."""
    command = [sys.executable, "-m", "collapsekit", "sweep", "--models", "vanilla", "--data", "ring8"]
    command += ["--seeds", "0-2", "--steps", "1000000", "--eval-every", "100", "--eval-samples", "200"]
    command += ["--batch-size", "64", "--workers", "2", "--threads", "1", "--device", "cpu"]
    command += ["--out", str(out), "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    ignore_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)  # noqa: E731
    process = subprocess.Popen(
        command, env=env, start_new_session=True, preexec_fn=ignore_sigint,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    runs = [out / f"vanilla-ring8-seed{seed}" for seed in (0, 1)]
    deadline = time.monotonic() + 180
    while not all(_evaluations(run) >= 2 for run in runs):  # both mid-training, past step 100
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"the sweep did not reach its first checkpoints:\n{process.communicate()[0]}")
        time.sleep(0.2)
    return process, runs


def _evaluations(run: Path) -> int:
    try:
        return len(RunDir(run).read_history())
    except Exception:  # not there yet
        return 0


def _live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are not zombies (dead, waiting to be reaped)."""
    if not Path("/proc/self/stat").exists():  # no /proc: ask the kernel about the group
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while we looked
        if int(fields[2]) == pgid and fields[0] != b"Z":  # state, ppid, pgrp
            members.append(int(stat.parent.name))
    return members


def _group_gone(pgid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _live_members(pgid):
            return True
        time.sleep(0.2)
    return False


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@posix_only
def test_sigterm_to_one_worker_interrupts_its_run_only(tmp_path):
    long, short = plan_sweep(SweepGrid(["vanilla"], ["ring8"], [0, 1], settings=TINY), tmp_path)
    long.config.update(steps=1_000_000, eval_every=3)
    stop = threading.Event()

    def terminate_the_worker_mid_run():
        while not stop.is_set():
            if _evaluations(Path(long.run_dir)) >= 2:
                for worker in multiprocessing.active_children():
                    os.kill(worker.pid, signal.SIGTERM)  # `kill WORKER_PID`
                return
            time.sleep(0.05)

    killer = threading.Thread(target=terminate_the_worker_mid_run, daemon=True)
    killer.start()
    try:
        outcomes = run_tasks([long, short], workers=1, threads_per_run=1)
    finally:
        stop.set()
    assert (outcomes[0].status, outcomes[0].step >= 3) == ("interrupted", True)
    assert summary_of(Path(long.run_dir))["status"] == "interrupted"
    # the same worker goes on with the next run, its SIGTERM handling armed again
    assert (outcomes[1].status, outcomes[1].step) == ("finished", 6)
    assert folder_action(Path(long.run_dir)) == RESUME


@posix_only
def test_sigkill_to_one_worker_fails_its_run_only_and_the_other_resumes(tmp_path):
    grid = SweepGrid(["vanilla"], ["ring8"], [0, 1], settings={**TINY, "steps": 600, "eval_every": 20})
    tasks = plan_sweep(grid, tmp_path)
    stop = threading.Event()

    def kill_one_worker_mid_run():
        while not stop.is_set():
            if all(_evaluations(Path(task.run_dir)) >= 2 for task in tasks):
                # the first worker: Python's pool notices the death of a worker it started
                # later only at its next event (here: the other run's end)
                first = min(multiprocessing.active_children(), key=lambda worker: worker.pid)
                os.kill(first.pid, signal.SIGKILL)  # `kill -9 WORKER`
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker_mid_run, daemon=True)
    killer.start()
    try:
        outcomes = run_tasks(tasks, workers=2, threads_per_run=1)
    finally:
        stop.set()
    failed = [o for o in outcomes if o.status == FAILED]
    others = [o for o in outcomes if o.status != FAILED]
    assert [o.error for o in failed] == ["BrokenProcessPool: its worker process died"]
    # the other run was stopped with the pool, kept its checkpoint and resumed in a new one
    # (or, when the pool noticed the death late, simply finished first)
    assert [(o.status, o.step) for o in others] == [("finished", 600)]
    assert others[0].action in (RESUME, TRAIN)
    assert RunDir(others[0].run_dir).read_history()["step"].tolist() == list(range(0, 601, 20))


@posix_only
def test_sigterm_to_the_sweep_alone_stops_its_workers_and_marks_their_runs(tmp_path):
    process, runs = _start_long_sweep(tmp_path)
    process.send_signal(signal.SIGTERM)  # to the sweep process only, as `kill PID` does
    try:
        output = process.communicate(timeout=120)[0]
    finally:  # never leave a sweep of two endless runs behind
        _kill_group(process.pid)
    assert process.returncode == 130, output
    assert "Interrupted; run the same command again to resume" in output
    assert _group_gone(process.pid, 30), "a worker, the fork server or the tracker outlived the sweep"
    for run in runs:
        summary = summary_of(run)
        assert (summary["status"], summary["step"] >= 100) == ("interrupted", True)
    assert not (tmp_path / "vanilla-ring8-seed2").exists()  # never started


@posix_only
def test_workers_of_a_killed_sweep_interrupt_their_runs_and_end(tmp_path):
    process, runs = _start_long_sweep(tmp_path)
    process.kill()  # SIGKILL: the sweep can tell nobody
    process.wait(timeout=30)  # (its output pipe stays open while any worker lives)
    assert _group_gone(process.pid, 60), "a worker trained on after its sweep was killed"
    process.communicate(timeout=30)
    _kill_group(process.pid)
    for run in runs:
        summary = summary_of(run)
        assert summary["status"] == "interrupted"
        assert summary["step"] >= 100
    # and the same command resumes them
    assert folder_action(runs[0]) == RESUME


@posix_only
def test_a_run_another_process_is_training_is_reported_not_trained_twice(tmp_path):
    import fcntl

    (task,) = plan_sweep(SweepGrid(["vanilla"], ["ring8"], [0], settings=TINY), tmp_path)
    holder = open(lock_path(Path(task.run_dir)), "a+b")  # another sweep's worker, training it
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        outcome = run_task(task)
    finally:
        holder.close()  # as when that worker ends, however it ends
    assert outcome.status == FAILED
    assert "another process is training" in outcome.error and str(task.run_dir) in outcome.error
    assert not Path(task.run_dir).exists()  # nothing written beside the other process
    again = run_task(task)  # the lock went with its holder
    assert (again.status, again.step) == ("finished", 6)
    assert load_runs(tmp_path)["run_id"].tolist() == ["vanilla-ring8-seed0"]
    assert not lock_path(Path(task.run_dir)).exists()  # its holder removes it when done
