"""vLLM on a host: the ``vllm serve`` script and a systemd unit."""

from __future__ import annotations

from advisor.bundles.archive import BundleFile
from advisor.bundles.inputs import BundleInput
from advisor.bundles.targets.base import (
    READ_ENV_FILE,
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
    args = serve_args(inp)
    command = " \\\n  ".join(["exec vllm serve", *_pairs(args)])
    body = (
        READ_ENV_FILE
        + f': "${{{API_KEY_ENV}:?set {API_KEY_ENV} (see .env.example); clients send it as a Bearer token}}"\n'
        # vLLM reads the key from its environment: it never appears on the command line.
        f"export {API_KEY_ENV}\n"
        f"{command}\n"
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
    args = serve_args(inp)
    exec_start = " ".join([f"{VENV_DIR}/bin/vllm", "serve", *args])
    budget = startup_budget_s(inp, engine_init_s=VLLM_ENGINE_INIT_S)
    text = (
        f"# vLLM for {inp.hf_repo}, run by systemd as the system user vllm. Set up once:\n"
        "#   sudo useradd --system --home-dir /var/lib/vllm --create-home vllm\n"
        f"#   sudo python3 -m venv {VENV_DIR} && sudo {VENV_DIR}/bin/pip install vllm\n"
        "#   sudo install -d -o vllm -g vllm -m 0750 /var/lib/vllm/huggingface\n"
        f"#   sudo install -d -m 0755 /etc/vllm && sudo install -m 0600 /dev/null /etc/vllm/{inp.name}.env\n"
        f"# then put VLLM_API_KEY=... (and HF_TOKEN=... for gated models) into /etc/vllm/{inp.name}.env,\n"
        f"#   sudo cp vllm/vllm.service /etc/systemd/system/{inp.name}-vllm.service\n"
        f"#   sudo systemctl daemon-reload && sudo systemctl enable --now {inp.name}-vllm\n"
        "# vLLM reads VLLM_API_KEY from that environment file; it is never on the command line.\n"
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
