"""The held-out drives of the passive test and their folds.

Given drives (``--drives``: files or folders of the paper's HDF5 layout) are used as they are;
otherwise drives are generated with ncp-synth's library (its defaults but the camera, which is
the simulator's: by default both are ncp-synth's 1208 x 1920 at render scale 0.4; stored as the
model's 200 x 78 crops, as ``ncp-synth --format h5 --preprocessed`` writes them) from seeds no
training used. Folds are groups of whole drives (grouped k-fold by drive): drive i goes to fold i mod K.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ncp_driver.compare.errors import CompareError, CompareSettingsError
from ncp_driver.compare.settings import CompareSettings
from ncp_driver.drives import DriveDataError, find_drive_files, open_drive
from ncp_driver.errors import MissingInputError
from ncp_driver.schemas import CompareDrive

__all__ = ["HeldOutDrive", "assign_folds", "given_drives", "make_drives"]

HeldOutDrive = tuple[CompareDrive, Path]  # the document's entry, the file to read


def assign_folds(count: int, folds: int) -> list[int]:
    """Fold of each of ``count`` drives: round-robin, so folds differ in size by one at most."""
    if count < folds:
        raise CompareSettingsError(
            f"{count} drive(s) cannot make {folds} folds: give at least {folds} drives or "
            "lower --folds"
        )
    return [i % folds for i in range(count)]


def make_drives(
    settings: CompareSettings, work: Path, done: Callable[[int], None] | None = None
) -> list[HeldOutDrive]:
    """Generate the drives of ``settings.drive_seeds`` into ``work`` (ncp-synth's library)."""
    from ncp_driver.synth import DriveConfig, SynthError, simulate_drive, write_training_h5

    seeds = settings.drive_seeds
    folds = assign_folds(len(seeds), settings.folds)
    out = []
    for seed, fold in zip(seeds, folds, strict=True):
        path = work / f"drive-{seed}.h5"
        try:
            config = DriveConfig(
                seed=seed,
                duration_s=settings.drive_s,
                height=settings.sim.height,
                width=settings.sim.width,
                render_scale=settings.sim.render_scale,
            )
            drive = simulate_drive(config)
        except SynthError as exc:
            raise CompareSettingsError(f"--drive-s {settings.drive_s:g}: {exc}") from exc
        write_training_h5(drive, path, preprocessed=True)
        out.append((CompareDrive(path.name, None, seed, drive.frame_count, fold), path))
        if done is not None:
            done(1)
    return out


def given_drives(paths: Sequence[Path], folds: int) -> list[HeldOutDrive]:
    """The drive files named by ``paths`` (files or folders), validated, with their folds."""
    try:
        files = find_drive_files(paths)
    except MissingInputError as exc:
        raise CompareSettingsError(f"--drives: {exc}") from exc
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise CompareSettingsError(
            "--drives names two files of the same name: rename one (the page names drives by "
            "file name)"
        )
    out = []
    for path, fold in zip(files, assign_folds(len(files), folds), strict=True):
        try:
            info = open_drive(path)
        except DriveDataError as exc:
            raise CompareError(f"--drives: {exc}") from exc
        out.append((CompareDrive(path.name, str(path), None, info.length, fold), path))
    return out
