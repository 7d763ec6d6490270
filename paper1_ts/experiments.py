"""Paper 1's result tables (1, 4, 5, 6) as data, registered as "paper1/table1" ...

A table is a list of runs; a run evaluates one *system* (a trained model scored by
its SVM back-end) or the score-sum ensemble of two systems (Sec. 2.2). A system is
described by a `ModelJob`: the model family ("raw" = Table 2 CNN, "spec" = Table 3
CNN-GRU), how many 10 s segments its training input joins (1 for every student and
baseline; 2 for the 20 s teacher of Eq. (4)) and, for a student, its teacher-student
setting `TSSpec`. Equal jobs are equal dataclasses, so a model needed by several
tables (Table 1's baselines = Table 6's "W/O TS" systems = the 10 s teachers of
Table 4; Table 5's output row = Table 4's T=5/20 s cell; Table 6's spectrogram "W/ TS"
= Table 5's hidden row) is trained once by the job store (replication/store.py).

Run names are the keys of data/published/paper1.yaml. Nothing here builds a model or
reads a file; `tables.py` turns these specs into training jobs and run records.
"""

from __future__ import annotations

from dataclasses import dataclass

FAMILIES = ("raw", "spec")                # Table 2 raw-waveform CNN, Table 3 spectrogram CNN-GRU
POINTS = ("output", "hidden", "both")     # Table 5 rows (point of knowledge distillation)
PRINTED_FAMILY = {"raw": "Raw waveform", "spec": "Spectrogram"}


@dataclass(frozen=True)
class TSSpec:
    """A teacher-student setting (Sec. 3, Tables 4-6)."""
    temperature: float          # T of Eq. (2)-(3), Table 4 rows
    teacher_segments: int       # segments in the teacher's input: 1 = 10 s, 2 = 20 s (Table 4 columns, Eq. 4)
    point: str                  # "output" (Eq. 4) | "hidden" (Eq. 5) | "both" (Table 5)

    def __post_init__(self) -> None:
        if self.point not in POINTS:
            raise ValueError(f"TSSpec.point '{self.point}' unknown (choose from {', '.join(POINTS)})")
        if self.teacher_segments < 1:
            raise ValueError(f"TSSpec.teacher_segments must be >= 1, got {self.teacher_segments}")
        if self.temperature <= 0:
            raise ValueError(f"TSSpec.temperature must be > 0, got {self.temperature}")


@dataclass(frozen=True)
class ModelJob:
    """One trained model: family, training-input length and (for a student) its TS setting."""
    family: str                 # "raw" | "spec"
    input_segments: int = 1     # segments joined in time in the training input (2 = 20 s teacher)
    ts: TSSpec | None = None    # None: one-hot training (baseline or teacher)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"ModelJob.family '{self.family}' unknown (choose from {', '.join(FAMILIES)})")
        if self.input_segments < 1:
            raise ValueError(f"ModelJob.input_segments must be >= 1, got {self.input_segments}")
        if self.ts is not None and self.input_segments != 1:
            raise ValueError("a TS student sees the 10 s segment only (Eq. 4: x_base is 10 s)")

    @property
    def teacher(self) -> "ModelJob | None":
        """The one-hot model whose outputs train this student (None for a one-hot model).

        A 10 s teacher (teacher_segments = 1) is the baseline itself: same family, same input,
        one-hot labels (register p1-teacher-training).
        """
        if self.ts is None:
            return None
        return ModelJob(self.family, input_segments=self.ts.teacher_segments)

    def chain(self) -> tuple["ModelJob", ...]:
        """This job preceded by the jobs it needs (teacher first)."""
        return (self.teacher, self) if self.teacher is not None else (self,)

    @property
    def label(self) -> str:
        if self.ts is None:
            length = "10 s" if self.input_segments == 1 else f"{self.input_segments} x 10 s"
            return f"{self.family} one-hot on {length}"
        return (f"{self.family} TS student ({self.ts.point}, T={self.ts.temperature:g}, "
                f"teacher {self.ts.teacher_segments} x 10 s)")


@dataclass(frozen=True)
class RunSpec:
    """One published cell: a single system, or the score-sum ensemble of systems (Sec. 2.2)."""
    name: str                           # run name, key of data/published/paper1.yaml
    systems: tuple[ModelJob, ...]       # 1 model, or >= 2 for the ensemble
    row: str                            # row label as printed
    column: str                         # column label as printed

    def __post_init__(self) -> None:
        if not self.systems:
            raise ValueError(f"run {self.name}: no system")

    @property
    def is_ensemble(self) -> bool:
        return len(self.systems) > 1


@dataclass(frozen=True)
class TableSpec:
    """A result table of paper 1 as data."""
    name: str                           # registry name, "paper1/table4"
    number: str                         # printed table number
    caption: str                        # short description (own words)
    runs: tuple[RunSpec, ...]
    published_only: tuple[str, ...] = ()   # printed cells the kit does not rerun (Table 1)
    decisions: tuple[str, ...] = ()        # register ids the table's runs depend on

    def __post_init__(self) -> None:
        names = [r.name for r in self.runs]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate run names {names}")

    def run(self, name: str) -> RunSpec:
        for r in self.runs:
            if r.name == name:
                return r
        raise KeyError(f"{self.name} has no run '{name}'; runs: {', '.join(r.name for r in self.runs)}")

    def jobs(self) -> tuple[ModelJob, ...]:
        """Distinct models the table needs, teachers before their students."""
        seen: dict[ModelJob, None] = {}
        for r in self.runs:
            for system in r.systems:
                for job in system.chain():
                    seen.setdefault(job, None)
        return tuple(seen)


# --- the settings the tables share --------------------------------------------------------
BASE_RAW = ModelJob("raw")
BASE_SPEC = ModelJob("spec")
# Table 5 is run with the best Table 4 setting, T = 5 and a 20 s teacher (its output row
# equals Table 4's T=5 / 20 seconds cell, 73.23); register p1-table5-setting.
TABLE5_T = 5.0
TABLE5_SEGMENTS = 2
# Table 6 "W/ TS" = both proposed techniques: 20 s teacher and distillation at the last
# hidden layer (its spectrogram cell equals Table 5's last-hidden row, 74.26); the raw model
# uses the same setting; register p1-table6-setting.
TS_BEST = TSSpec(TABLE5_T, TABLE5_SEGMENTS, "hidden")
TEMPERATURES = (1.0, 5.0, 10.0)          # Table 4 rows
TEACHER_SEGMENTS = (1, 2)                # Table 4 columns: 10 s, 20 s
COLUMN_OF_SEGMENTS = {1: "10 seconds", 2: "20 seconds"}


def _table1() -> TableSpec:
    col = "Improved baseline"
    return TableSpec(
        "paper1/table1", "1", "baselines (improved column) and their score-sum ensemble",
        (RunSpec("raw_improved", (BASE_RAW,), "Raw waveform", col),
         RunSpec("spec_improved", (BASE_SPEC,), "Spectrogram", col),
         RunSpec("ensemble_improved", (BASE_RAW, BASE_SPEC), "Ensemble", col)),
        published_only=("raw_jung", "spec_jung", "ivector_jung", "ensemble_jung"),
        decisions=("p1-svm-backend", "p1-epochs-checkpoint", "p1-two-step-epochs",
                   "p1-table1-published-only"))


def _table4() -> TableSpec:
    runs = []
    for segments in TEACHER_SEGMENTS:
        for t in TEMPERATURES:
            ts = TSSpec(t, segments, "output")
            runs.append(RunSpec(f"T{t:g}_teacher{10 * segments}s", (ModelJob("spec", ts=ts),),
                                f"{t:g}", COLUMN_OF_SEGMENTS[segments]))
    return TableSpec(
        "paper1/table4", "4", "spectrogram student, output-layer TS, by T and teacher input length",
        tuple(runs),
        decisions=("p1-temperature-form", "p1-teacher-training", "p1-student-two-step",
                   "p1-svm-backend", "p1-epochs-checkpoint"))


def _table5() -> TableSpec:
    col = "accuracy (%)"
    rows = (("output", "output", "output layer"),
            ("output_and_hidden", "both", "output & last hidden layer"),
            ("hidden", "hidden", "last hidden layer"))
    return TableSpec(
        "paper1/table5", "5", "spectrogram student, 20 s teacher, by point of distillation",
        tuple(RunSpec(name, (ModelJob("spec", ts=TSSpec(TABLE5_T, TABLE5_SEGMENTS, point)),), row, col)
              for name, point, row in rows),
        decisions=("p1-table5-setting", "p1-ts-loss-composition", "p1-teacher-training",
                   "p1-student-two-step", "p1-svm-backend", "p1-epochs-checkpoint"))


def _table6() -> TableSpec:
    wo, w = "W/O TS", "W/ TS"
    raw_ts, spec_ts = ModelJob("raw", ts=TS_BEST), ModelJob("spec", ts=TS_BEST)
    return TableSpec(
        "paper1/table6", "6", "both systems and their ensemble without / with TS",
        (RunSpec("raw_wo_ts", (BASE_RAW,), "Raw waveform", wo),
         RunSpec("raw_w_ts", (raw_ts,), "Raw waveform", w),
         RunSpec("spec_wo_ts", (BASE_SPEC,), "Spectrogram", wo),
         RunSpec("spec_w_ts", (spec_ts,), "Spectrogram", w),
         RunSpec("ensemble_wo_ts", (BASE_RAW, BASE_SPEC), "Ensemble", wo),
         RunSpec("ensemble_w_ts", (raw_ts, spec_ts), "Ensemble", w)),
        decisions=("p1-table6-setting", "p1-teacher-training", "p1-student-two-step",
                   "p1-svm-backend", "p1-epochs-checkpoint"))


TABLES: dict[str, TableSpec] = {t.number: t for t in (_table1(), _table4(), _table5(), _table6())}
RESULT_TABLES = tuple(TABLES)            # printed numbers of the result tables: "1", "4", "5", "6"


ARCHITECTURE_NOTE = "; tables 2 and 3 are architectures (shape checks, no results)"


def table_by_number(number: str | int) -> TableSpec:
    """The TableSpec printed as `number` ("1", "4", "5" or "6"; "IV" or "table4" work too).

    Raises:
      replication.registry.UnknownNameError (a KeyError): naming the result tables
        (replication.registry.table_number, the lookup both papers share).
    """
    from replication.registry import table_number
    return TABLES[table_number(number, RESULT_TABLES, "paper 1", ARCHITECTURE_NOTE)]


def table_by_name(name: str) -> TableSpec:
    """The TableSpec registered as `name` ("paper1/table4")."""
    for t in TABLES.values():
        if t.name == name:
            return t
    raise KeyError(f"no paper 1 table '{name}'; known: {', '.join(t.name for t in TABLES.values())}")


def register_tables() -> None:
    """Registers every result table in replication.registry ("paper1/table1" ... "paper1/table6");
    the factory returns the TableSpec. Safe to call twice."""
    from replication import registry

    for spec in TABLES.values():
        if spec.name not in registry.TABLES:
            registry.register_table(spec.name, lambda spec=spec: spec)


register_tables()
