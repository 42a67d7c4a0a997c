"""Ollama on a host: Linux (install + systemd override), macOS (launchd / brew), and a Modelfile."""

from __future__ import annotations

import plistlib

from advisor.bundles.archive import BundleFile
from advisor.bundles.inputs import BundleInput
from advisor.bundles.targets.base import Target, on_mac, shell_script, shell_words
from advisor.bundles.targets.ollama_env import ollama_env
from advisor.bundles.upstream import check_modelfile
from probes.kinds import Backend

OVERRIDE = "ollama/systemd/override.conf"
SETUP_LINUX = "ollama/setup-linux.sh"
SETENV_MACOS = "ollama/macos/setenv.sh"
PLIST_MACOS = "ollama/macos/com.ollama.serve.plist"
MODELFILE = "ollama/Modelfile"
LAUNCHD_LABEL = "com.ollama.serve"
BREW_OLLAMA = "/opt/homebrew/bin/ollama"  # Homebrew's prefix on Apple Silicon
INSTALL_SCRIPT_URL = "https://ollama.com/install.sh"  # Ollama's documented Linux installer


def render(inp: BundleInput) -> list[BundleFile]:
    if on_mac(inp):
        return [_setenv_macos(inp), _plist(inp), _modelfile(inp)]
    return [
        _override(inp),
        _setup_linux(inp),
        _setenv_macos(inp),
        _plist(inp),
        _modelfile(inp),
    ]


def _override(inp: BundleInput) -> BundleFile:
    lines = [
        "# systemd drop-in for the ollama.service that Ollama's Linux installer creates.",
        "[Service]",
    ]
    # Values are digits, durations, type names or host:port, so double quotes suffice.
    lines += [f'Environment="{var.name}={var.value}"' for var in ollama_env(inp)]
    return BundleFile(
        OVERRIDE,
        "\n".join(lines) + "\n",
        description="systemd override with the OLLAMA_* environment (Linux)",
    )


def _setup_linux(inp: BundleInput) -> BundleFile:
    body = (
        'here="$(cd "$(dirname "$0")" && pwd)"\n'
        "if ! command -v ollama >/dev/null 2>&1; then\n"
        f"  curl -fsSL {INSTALL_SCRIPT_URL} | sh\n"
        "fi\n"
        "sudo mkdir -p /etc/systemd/system/ollama.service.d\n"
        'sudo install -m 0644 "$here/systemd/override.conf" /etc/systemd/system/ollama.service.d/override.conf\n'
        "sudo systemctl daemon-reload\n"
        "sudo systemctl restart ollama\n"
        "until ollama list >/dev/null 2>&1; do sleep 1; done\n"
        f"ollama pull {shell_words([inp.ollama_tag])}\n"
    )
    return shell_script(
        SETUP_LINUX,
        body,
        description="installs Ollama on Linux, applies the override, pulls the model",
        summary=f"Ollama for {inp.ollama_tag} on Linux, set up by the LLM Serving Advisor bundle.",
    )


def _setenv_macos(inp: BundleInput) -> BundleFile:
    lines = [f"launchctl setenv {shell_words([var.name, var.value])}" for var in ollama_env(inp)]
    body = "\n".join(lines) + "\n" + 'echo "Quit and reopen the Ollama app to apply."\n'
    return shell_script(
        SETENV_MACOS,
        body,
        description="sets the OLLAMA_* environment for the macOS Ollama app (launchctl setenv)",
        summary="For the Ollama macOS app: it reads launchd's environment at start "
        "(Ollama FAQ, 'Setting environment variables on Mac').",
    )


def _plist(inp: BundleInput) -> BundleFile:
    plist = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": [BREW_OLLAMA, "serve"],
        "EnvironmentVariables": {var.name: var.value for var in ollama_env(inp)},
        "RunAtLoad": True,
        "KeepAlive": True,
        "StandardOutPath": "/tmp/ollama.out.log",
        "StandardErrorPath": "/tmp/ollama.err.log",
    }
    content = plistlib.dumps(plist, sort_keys=True).decode("utf-8")
    return BundleFile(
        PLIST_MACOS,
        content,
        description="launchd agent running `ollama serve` (Homebrew install, headless Mac)",
    )


def _modelfile(inp: BundleInput) -> BundleFile:
    text = (
        f"# {inp.ollama_tag} with the context sized by the LLM Serving Advisor.\n"
        f"# ollama create {inp.name} -f Modelfile   (then request the model as {inp.name})\n"
        f"FROM {inp.ollama_tag}\n"
        f"PARAMETER num_ctx {inp.ollama.num_ctx}\n"
    )
    check_modelfile(text)
    return BundleFile(MODELFILE, text, description="Modelfile pinning num_ctx into a named model")


TARGET = Target(
    name="ollama-host",
    backends=frozenset({Backend.OLLAMA}),
    render=render,
    description="Linux systemd override, macOS launchd/app environment, Modelfile",
    runs_on_mac=True,
)
