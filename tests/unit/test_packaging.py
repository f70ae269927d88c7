import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_installed_wheel_finds_assets_and_schemas_without_the_checkout(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("yukuai_pipeline-*.whl"))
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert (site / "yukuai_pipeline/_data/assets/campaigns/500242/attachment_2023.csv").is_file()
    assert (site / "yukuai_pipeline/_data/schemas/inputs/registrations.yaml").is_file()
    probe = (
        "from yukuai_pipeline import settings\n"
        "from yukuai_pipeline.contracts import load_contract\n"
        "print(settings.assets_dir()); print(settings.campaign().deadline)\n"
        "print(load_contract('township_progress').table)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site)},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert out[0] == str(site / "yukuai_pipeline" / "_data" / "assets" / "campaigns" / "500242")
    assert out[1:] == ["2023-10-31", "township_progress"]
