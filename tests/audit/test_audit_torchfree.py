"""The audit and the report run from an ONNX file with torch and ncps blocked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any


def test_audit_runs_without_torch(replayed: Any, tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('torch', 'ncps', 'rclpy', 'torchvision'):
                    raise ImportError('blocked: ' + name)
        sys.meta_path.insert(0, Block())
        import numpy as np
        from ncp_driver.audit import load_replay
        from ncp_driver.audit.analyses import (
            lipschitz_analysis, pca_analysis, saliency_analysis, time_constant_analysis)
        from ncp_driver.report import write_report
        replay = load_replay({str(replayed.directory)!r})
        frames = np.zeros((2, 78, 200, 3), np.uint8)
        frames[:, 40:, 80:120] = 200
        figures = {{}}
        for result in (
            pca_analysis(replay),
            time_constant_analysis(replay),
            lipschitz_analysis(replay, max_frames=3),
            saliency_analysis(replay.require_model(), frames, levels=(0.1,)),
        ):
            figures.update(result.captions())
        write_report(replay.directory, {str(tmp_path / "r.html")!r}, figures=figures)
        assert not any(m.split('.')[0] in ('torch', 'ncps') for m in sys.modules)
        print('ok', len(figures))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["ok", "7"]  # PCA 2, tau 2, Lipschitz 1, saliency 2
    assert (tmp_path / "r.html").stat().st_size > 10_000
