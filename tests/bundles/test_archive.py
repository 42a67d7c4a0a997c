"""The zip is deterministic, has fixed metadata and executable scripts, and carries no secrets."""

from __future__ import annotations

import io
import zipfile

from advisor.bundles import Bundle, BundleFile, build_bundle
from advisor.bundles.archive import MODE_EXECUTABLE, ZIP_TIMESTAMP
from tests.bundles.factories import SCENARIOS, bundle_for, scenario


def test_it_builds_byte_identical_zips_for_equal_input():
    for name in SCENARIOS:
        assert bundle_for(name).to_zip() == bundle_for(name).to_zip(), name


def test_it_builds_the_same_zip_whatever_the_order_of_the_files():
    files = [BundleFile("b.txt", "b"), BundleFile("a.sh", "echo", MODE_EXECUTABLE)]
    one = Bundle("root", "vllm", files)
    two = Bundle("root", "vllm", list(reversed(files)))
    assert one.to_zip() == two.to_zip()


def test_it_changes_the_zip_when_the_recommendation_changes():
    rec, est, ans = scenario("vllm-h100")
    other = dict(ans, peak_concurrent_users=7)
    assert build_bundle(rec, est, ans).sha256() != build_bundle(rec, est, other).sha256()


def test_it_stores_sorted_entries_with_fixed_dates_and_permissions():
    bundle = bundle_for("vllm-h100")
    with zipfile.ZipFile(io.BytesIO(bundle.to_zip())) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names == sorted(names)
        assert all(name.startswith(bundle.root + "/") for name in names)
        for info in infos:
            assert info.date_time == ZIP_TIMESTAMP
            mode = (info.external_attr >> 16) & 0o777
            expected = 0o755 if info.filename.endswith(".sh") else 0o644
            assert mode == expected, info.filename
        contents = {name: archive.read(name).decode() for name in names}
    for item in bundle.files:
        assert contents[f"{bundle.root}/{item.path}"] == item.content


def test_it_marks_every_script_executable_and_nothing_else():
    for name in SCENARIOS:
        for item in bundle_for(name).files:
            assert item.executable == item.path.endswith(".sh"), item.path


def test_it_never_copies_secrets_from_the_environment(monkeypatch):
    monkeypatch.setenv("VLLM_API_KEY", "sk-live-very-secret-0001")
    monkeypatch.setenv("HF_TOKEN", "hf_realtoken_0002")
    for name in SCENARIOS:
        data = bundle_for(name).to_zip()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            text = "".join(archive.read(n).decode() for n in archive.namelist())
        assert "sk-live-very-secret-0001" not in text
        assert "hf_realtoken_0002" not in text


def test_it_leaves_tokens_as_placeholders():
    bundle = bundle_for("vllm-h100")
    env = bundle.file(".env.example").content
    assert "VLLM_API_KEY=change-me" in env and "HF_TOKEN=\n" in env
    k8s = bundle.file("vllm/kubernetes.yaml").content
    assert "secretKeyRef" in k8s and "VLLM_API_KEY" in k8s and "--api-key" not in k8s


def test_it_serialises_for_the_preview():
    data = bundle_for("ollama-4090").as_dict()
    assert data["filename"].endswith(".zip")
    assert {"path", "content", "mode", "executable"} <= set(data["files"][0])
