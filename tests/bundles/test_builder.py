"""The bundle carries the estimate's numbers into each target and explains them in the README."""

from __future__ import annotations

import yaml

from advisor.bundles import build_bundle
from advisor.bundles.targets import TARGETS
from advisor.bundles.targets.base import startup_budget_s
from advisor.releases import VLLM_ROCM_IMAGE
from tests.bundles.factories import answers, bundle_for, recommendation, scenario


def _k8s(bundle, path):
    docs = list(yaml.safe_load_all(bundle.file(path).content))
    return {doc["kind"]: doc for doc in docs}


def _container(deployment):
    return deployment["spec"]["template"]["spec"]["containers"][0]


def test_it_renders_only_the_recommended_servers_files():
    vllm = bundle_for("vllm-h100")
    assert any(p.startswith("vllm/") for p in vllm.paths)
    assert not any(p.startswith("ollama/") for p in vllm.paths)
    ollama = bundle_for("ollama-4090")
    assert not any(p.startswith("vllm/") for p in ollama.paths)
    assert {"ollama/Modelfile", "ollama/systemd/override.conf"} <= set(ollama.paths)


def test_it_sizes_vllm_to_four_gpus_with_lora_and_fp8():
    bundle = bundle_for("vllm-4xa100-lora-fp8")
    kinds = _k8s(bundle, "vllm/kubernetes.yaml")
    container = _container(kinds["Deployment"])
    args = container["args"]
    assert args[args.index("--tensor-parallel-size") + 1] == "4"
    assert args[args.index("--max-num-seqs") + 1] == "512"
    assert args[args.index("--quantization") + 1] == "fp8"
    assert args[args.index("--max-loras") + 1] == "10"
    assert "--enable-lora" in args and "--enable-prefix-caching" in args
    assert container["resources"]["limits"] == {"nvidia.com/gpu": 4}
    volumes = kinds["Deployment"]["spec"]["template"]["spec"]["volumes"]
    shm = next(v for v in volumes if v["name"] == "shm")
    assert shm["emptyDir"] == {"medium": "Memory", "sizeLimit": "8Gi"}
    compose = yaml.safe_load(bundle.file("vllm/compose.nvidia.yaml").content)
    device = compose["services"]["vllm"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["count"] == 4


def test_it_wires_vllm_kubernetes_for_health_secrets_cache_and_metrics():
    kinds = _k8s(bundle_for("vllm-h100"), "vllm/kubernetes.yaml")
    assert set(kinds) == {"Deployment", "Service", "PersistentVolumeClaim"}
    container = _container(kinds["Deployment"])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert refs["VLLM_API_KEY"]["key"] == "api-key" and refs["HF_TOKEN"]["optional"] is True
    assert "--api-key" not in container["args"]  # vLLM reads VLLM_API_KEY from the env above
    annotations = kinds["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == "/metrics"
    claim = kinds["Deployment"]["spec"]["template"]["spec"]["volumes"][0]
    assert (
        claim["persistentVolumeClaim"]["claimName"]
        == kinds["PersistentVolumeClaim"]["metadata"]["name"]
    )


def test_it_gives_a_bigger_model_a_longer_startup_budget():
    small = _container(_k8s(bundle_for("vllm-h100"), "vllm/kubernetes.yaml")["Deployment"])
    big = _container(_k8s(bundle_for("vllm-4xa100-lora-fp8"), "vllm/kubernetes.yaml")["Deployment"])
    small_s = small["startupProbe"]["failureThreshold"] * small["startupProbe"]["periodSeconds"]
    big_s = big["startupProbe"]["failureThreshold"] * big["startupProbe"]["periodSeconds"]
    assert big_s > small_s >= 120


def test_it_uses_rocm_images_devices_and_amd_gpu_limits_on_amd():
    bundle = bundle_for("vllm-mi300x")
    container = _container(_k8s(bundle, "vllm/kubernetes.yaml")["Deployment"])
    assert container["resources"]["limits"] == {"amd.com/gpu": 1}
    assert container["image"] == VLLM_ROCM_IMAGE
    rocm = yaml.safe_load(bundle.file("vllm/compose.rocm.yaml").content)["services"]["vllm"]
    assert rocm["devices"] == ["/dev/kfd", "/dev/dri"]
    assert "compose.rocm.yaml" in bundle.file("README.md").content


def test_it_sets_ollama_context_parallelism_and_kv_type_from_the_estimate():
    bundle = bundle_for("ollama-4090")
    env = yaml.safe_load(bundle.file("ollama/compose.nvidia.yaml").content)["services"]["ollama"][
        "environment"
    ]
    tuned = scenario("ollama-4090")[1]["plan"]["ollama"]
    assert env["OLLAMA_CONTEXT_LENGTH"] == str(tuned["num_ctx"])
    assert env["OLLAMA_NUM_PARALLEL"] == str(tuned["num_parallel"])
    assert env["OLLAMA_KV_CACHE_TYPE"] == "q8_0" and env["OLLAMA_FLASH_ATTENTION"] == "1"
    assert env["OLLAMA_HOST"] == "0.0.0.0:11434"


def test_it_keeps_a_laptop_ollama_on_loopback_and_a_cpu_box_without_gpus():
    mac = bundle_for("ollama-mac").file("ollama/macos/setenv.sh").content
    assert "launchctl setenv OLLAMA_HOST 127.0.0.1:11434" in mac
    cpu = bundle_for("ollama-cpu")
    container = _container(_k8s(cpu, "ollama/kubernetes.yaml")["Deployment"])
    assert "resources" not in container
    env = {e["name"]: e["value"] for e in container["env"]}
    tuned = scenario("ollama-cpu")[1]["plan"]["ollama"]
    assert env["OLLAMA_FLASH_ATTENTION"] == "0"
    assert env["OLLAMA_CONTEXT_LENGTH"] == str(tuned["num_ctx"])
    assert "compose.cpu.yaml" in cpu.file("README.md").content


def test_it_pulls_the_model_before_ollama_serves_on_kubernetes():
    deployment = _k8s(bundle_for("ollama-4090"), "ollama/kubernetes.yaml")["Deployment"]
    init = deployment["spec"]["template"]["spec"]["initContainers"][0]
    assert {"name": "OLLAMA_MODEL", "value": "llama3.1:8b"} in init["env"]
    assert 'ollama pull "$OLLAMA_MODEL"' in init["command"][-1]
    assert init["volumeMounts"] == _container(deployment)["volumeMounts"]


def test_it_explains_every_choice_with_the_recommendations_reasons_and_figures():
    bundle = bundle_for("vllm-h100")
    est = scenario("vllm-h100")[1]
    readme = bundle.file("README.md").content
    assert "200 peak concurrent users is far above" in readme  # decisive reason
    assert "[ops.skills]" in readme and "Against" in readme  # opposing reason
    assert "Predicted p95 at 200 users" in readme  # warning
    assert "peak concurrent users below 4" in readme  # switch trigger
    assert f"{est['plan']['vllm']['kv_cache_tokens']:,} tokens" in readme  # KV cache figure
    assert "\n| 1 | " in readme and "\n| 200 | " in readme  # predicted performance rows
    for flag in ("--max-num-seqs", "--max-model-len", "--gpu-memory-utilization"):
        assert f"`{flag}`" in readme
    for path in bundle.paths:
        assert f"`{path}`" in readme


def test_it_puts_the_load_test_cli_and_slos_in_the_load_test_script():
    script = bundle_for("vllm-h100").file("scripts/loadtest.sh").content
    assert 'manage.py loadtest --base-url "$BASE_URL" --api openai' in script
    assert "--concurrency 1,32,64" in script  # capped at 64 for a short run
    assert "--slo-ttft-ms 500" in script


def test_it_renders_the_alternative_server_on_request():
    rec, est, ans = scenario("vllm-h100")
    bundle = build_bundle(rec, est, ans, backend="ollama")
    assert bundle.backend == "ollama" and "ollama/Modelfile" in bundle.paths


def test_it_registers_one_target_per_flavour():
    assert {"vllm-host", "vllm-compose", "vllm-kubernetes", "ollama-host"} <= set(TARGETS)
    assert all(target.backends for target in TARGETS.values())


def test_it_has_a_minimum_startup_budget_for_unknown_weights():
    from advisor.bundles import bundle_input_from

    inp = bundle_input_from(recommendation("vllm"), None, answers(model="x/y"))
    assert startup_budget_s(inp, engine_init_s=0) == 120


def test_it_gives_a_mac_only_what_runs_on_a_mac_and_says_why():
    bundle = bundle_for("ollama-mac")
    paths = {f.path for f in bundle.files}
    assert {"ollama/macos/setenv.sh", "ollama/macos/com.ollama.serve.plist"} <= paths
    assert not any("compose" in p or "kubernetes" in p or "systemd" in p for p in paths), paths
    assert "ollama/setup-linux.sh" not in paths
    readme = bundle.file("README.md").content
    assert "cannot reach Metal" in readme and "docker compose" not in readme
    # A Linux box keeps every flavour.
    linux = {f.path for f in bundle_for("ollama-4090").files}
    assert {
        "ollama/compose.nvidia.yaml",
        "ollama/kubernetes.yaml",
        "ollama/setup-linux.sh",
    } <= linux


def test_it_keeps_a_pipe_in_a_gpu_name_inside_its_table_cell():
    rec, est, ans = scenario("vllm-h100")
    est.pop("gpu", None)
    readme = build_bundle(rec, est, dict(ans, gpu="Odd | GPU")).file("README.md").content
    row = next(line for line in readme.splitlines() if line.startswith("| `--tensor-parallel"))
    assert row.count(" | ") == 2 and "Odd \\| GPU" in row


def test_it_warns_when_vllm_is_rendered_for_hardware_it_cannot_use():
    rec, est, ans = scenario("ollama-mac")
    est.pop("gpu", None)
    readme = build_bundle(rec, est, ans, backend="vllm").file("README.md").content
    assert "vLLM needs a Linux host with an NVIDIA or AMD GPU" in readme
