"""Sweeps that outgrow one machine: each group of points is a job of its own, sent
by submitit (`--launcher slurm`, or `local`: subprocesses of this machine, the
same code path, used by the tests). A job runs `common.sweep.run_points_of` on
the sweep folder: finished points are skipped and unfinished ones resumed, so
resubmitting (the same command with --resume) continues where jobs stopped.
Within a job, points and seeds use the job's devices as any run does.

submitit hands the job its function and arguments as a pickle it writes itself
(in <sweep>/.submitit/); nothing else is unpickled.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

from common.config import UsageError

KINDS = ("slurm", "local")


@dataclass(frozen=True)
class Launcher:
    """How to send a sweep's points: `kind` (slurm or local), points per job, the
    Slurm partition (None: the cluster's default) and each job's time limit."""

    kind: str
    points_per_job: int = 1
    partition: str | None = None
    timeout_min: int = 60

    def __post_init__(self):
        if self.kind not in KINDS:
            raise UsageError(f"--launcher {self.kind}: choose from {', '.join(KINDS)}")
        if self.points_per_job < 1 or self.timeout_min < 1:
            raise UsageError("--points-per-job and --timeout-min must be at least 1")
        try:  # checked before any folder is made
            import submitit  # noqa: F401
        except ImportError:
            raise UsageError("--launcher needs submitit: pip install -e '.[cluster]'") from None
        if self.kind == "slurm" and shutil.which("sbatch") is None:
            raise UsageError("--launcher slurm: no sbatch on this machine (run it on the cluster's login node, "
                             "or use --launcher local)")

    def run(self, folder: Path, indices: list[int], session_options: dict, together: bool = True) -> None:
        """Submit a job per group of `indices` and wait for them (within a job, points that
        differ only in member fields train together unless `together` is False); a failed
        job is one UsageError naming its log."""
        if not indices:
            return
        executor = self._executor(folder)
        groups = [indices[i:i + self.points_per_job] for i in range(0, len(indices), self.points_per_job)]
        from common.sweep import run_points_of

        jobs = [executor.submit(run_points_of, folder, group, session_options, together) for group in groups]
        print(f"submitted {len(jobs)} {self.kind} job(s) for {len(indices)} point(s): "
              f"{', '.join(str(job.job_id) for job in jobs)}; logs in {folder / '.submitit'}", flush=True)
        failed = []
        for job, group in zip(jobs, groups):
            try:
                job.result()
            except Exception as error:  # submitit's FailedJobError / UncompletedJobError: the job's own failure
                failed.append(f"job {job.job_id} (points {', '.join(str(i + 1) for i in group)}): "
                              f"{str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__}")
        if failed:
            raise UsageError(f"{len(failed)} sweep job(s) failed: {'; '.join(failed)} (logs in "
                             f"{folder / '.submitit'}); rerun with --resume to continue")

    def _executor(self, folder: Path):
        import submitit

        executor = submitit.AutoExecutor(folder=folder / ".submitit" / "%j", cluster=self.kind)
        parameters = {"timeout_min": self.timeout_min, "name": f"theory-lab-{folder.name}"}
        if self.partition is not None:
            parameters["slurm_partition"] = self.partition
        executor.update_parameters(**parameters)
        return executor
