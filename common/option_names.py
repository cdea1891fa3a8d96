"""How a caller spells the run-folder options in error messages: the command
line says `--out DIR` and `--resume`, the Python API `out=DIR` and
`resume=True`. The checks in common.runs are shared; only their words differ."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OptionNames:
    """The phrases a refusal uses; `out` and `resume_out` hold "{}" for the folder."""

    out: str  # the run folder option, e.g. "--out {}"
    resume_out: str  # resuming the run in a folder, e.g. "--resume --out {}"
    add_resume: str  # how to ask for a resume, e.g. "add --resume"
    drop_resume: str  # how to not resume, e.g. "drop --resume"
    another_out: str  # how to pick another folder, e.g. "choose another --out"
    data_dir: str  # the data folder option, e.g. "--data-dir"
    asker: str  # who asks for a config, e.g. "this command"

    def out_at(self, folder: Path) -> str:
        return self.out.format(folder)

    def resume_at(self, folder: Path) -> str:
        return self.resume_out.format(folder)


CLI = OptionNames(out="--out {}", resume_out="--resume --out {}", add_resume="add --resume",
                  drop_resume="drop --resume", another_out="choose another --out", data_dir="--data-dir",
                  asker="this command")
API = OptionNames(out="out={}", resume_out="resume=True with out={}", add_resume="pass resume=True",
                  drop_resume="pass resume=False", another_out="pass another out", data_dir="data_dir",
                  asker="this call")
