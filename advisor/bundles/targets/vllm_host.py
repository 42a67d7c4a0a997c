"""vLLM on a host: the ``vllm serve`` script and a systemd unit."""

from __future__ import annotations

from advisor.bundles.archive import BundleFile
from advisor.bundles.inputs import BundleInput
from advisor.bundles.targets.base import (
    VLLM_ENGINE_INIT_S,
    Target,
    shell_script,
    shell_words,
    startup_budget_s,
)
from advisor.bundles.targets.vllm_args import API_KEY_ENV, serve_args
from probes.kinds import Backend

SERVE_SCRIPT = "vllm/serve.sh"
SYSTEMD_UNIT = "vllm/vllm.service"
VENV_DIR = "/opt/vllm/venv"  # where the README's install step puts vLLM


def render(inp: BundleInput) -> list[BundleFile]:
    return [_serve_script(inp), _systemd_unit(inp)]


def _serve_script(inp: BundleInput) -> BundleFile:
    args = serve_args(inp, api_key_arg=None)
    command = " \\\n  ".join(["exec vllm serve", *_pairs(args)])
    body = (
        'env_file="$(dirname "$0")/../.env"\n'
        'if [[ -f "$env_file" ]]; then\n'
        "  set -a\n"
        "  # shellcheck disable=SC1090\n"
        '  source "$env_file"\n'
        "  set +a\n"
        "fi\n"
        f': "${{{API_KEY_ENV}:?set {API_KEY_ENV} (see .env.example); clients send it as a Bearer token}}"\n'
        f'{command} \\\n  --api-key "${API_KEY_ENV}"\n'
    )
    return shell_script(
        SERVE_SCRIPT,
        body,
        description="`vllm serve` with the tuned flags; the API key comes from the environment",
        summary=f"vLLM for {inp.hf_repo}, tuned by the LLM Serving Advisor.\n"
        "Needs: pip install vllm (Linux, NVIDIA or AMD GPU); .env with VLLM_API_KEY (and HF_TOKEN\n"
        "for gated models).",
    )


def _pairs(args: list[str]) -> list[str]:
    """Shell-quoted ``--flag value`` pairs, one per line (the model first)."""
    out: list[str] = [shell_words([args[0]])]
    index = 1
    while index < len(args):
        word = args[index]
        if index + 1 < len(args) and not args[index + 1].startswith("--"):
            out.append(shell_words([word, args[index + 1]]))
            index += 2
        else:
            out.append(shell_words([word]))
            index += 1
    return out


def _systemd_unit(inp: BundleInput) -> BundleFile:
    # systemd expands ${VAR} from EnvironmentFile= as one word; names are validated, so nothing
    # else in the line needs escaping (no '%', '$', quotes or spaces can reach it).
    args = serve_args(inp, api_key_arg="${" + API_KEY_ENV + "}")
    exec_start = " ".join([f"{VENV_DIR}/bin/vllm", "serve", *args])
    budget = startup_budget_s(inp, engine_init_s=VLLM_ENGINE_INIT_S)
    text = (
        f"# vLLM for {inp.hf_repo}. Install: sudo cp vllm/vllm.service /etc/systemd/system/{inp.name}-vllm.service\n"
        f"# and put VLLM_API_KEY=... (and HF_TOKEN=...) into /etc/vllm/{inp.name}.env (mode 0600);\n"
        "# the unit runs as the system user vllm (sudo useradd --system vllm).\n"
        "[Unit]\n"
        f"Description=vLLM OpenAI-compatible server ({inp.hf_repo})\n"
        "After=network-online.target\n"
        "Wants=network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        "User=vllm\n"
        "Group=vllm\n"
        f"EnvironmentFile=/etc/vllm/{inp.name}.env\n"
        'Environment="HF_HOME=/var/lib/vllm/huggingface"\n'
        # An empty key would start vLLM without authentication: refuse to start instead. ("$$"
        # keeps systemd from expanding the variable itself, so the shell checks it.)
        f'ExecStartPre=/bin/sh -c \'test -n "$${{{API_KEY_ENV}}}" || {{ echo "{API_KEY_ENV} is empty" >&2; exit 1; }}\'\n'
        f"ExecStart={exec_start}\n"
        "Restart=on-failure\n"
        "RestartSec=10\n"
        f"TimeoutStartSec={budget}\n"
        "LimitNOFILE=65536\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )
    return BundleFile(SYSTEMD_UNIT, text, description="systemd unit running `vllm serve`")


TARGET = Target(
    name="vllm-host",
    backends=frozenset({Backend.VLLM}),
    render=render,
    description="vllm serve script and systemd unit",
)
