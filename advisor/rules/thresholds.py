"""Every number the rules judge by, each with where it comes from.

The article the product is built from is "vLLM vs Ollama: Which LLM Serving Tool Wins in 2026?"
(dexiio, 2026-06-16), cited below as ARTICLE. Rule weights are our own calibration (documented in
docs/rules.md): they only order evidence, the thresholds are the facts.
"""

from __future__ import annotations

ARTICLE = "dexiio, 'vLLM vs Ollama: Which LLM Serving Tool Wins in 2026?' (2026-06-16)"

# ---- Concurrency -------------------------------------------------------------------------------
# ARTICLE: "Below a handful of simultaneous users, Ollama is fine and far easier. Above that, vLLM is
# the only sensible choice." Ollama serves one request at a time by default (OLLAMA_NUM_PARALLEL=1
# since mid-2025, ollama envconfig/config.go), so at five users four of them queue.
HANDFUL_USERS = 4
# ARTICLE: "vLLM delivers roughly 16 to 20 times Ollama's throughput" under concurrent load; from 16
# in flight the batching advantage is an order of magnitude (Red Hat, 2025-08-08: 793 vs 41 tok/s).
MANY_USERS = 16
# ARTICLE: "on an H100 serving an 8B model ... Ollama hit its limit around 40" concurrent requests.
OLLAMA_CONCURRENCY_LIMIT = 40
# ARTICLE: "In single-stream use, Ollama comes within ... ten to fifteen percent" of vLLM.
SINGLE_STREAM_GAP = 0.15

# ---- Measured (and predicted) latency under load ----------------------------------------------
# ARTICLE: "Watch your p95 ... as concurrent users climb"; a p95 above twice its single-user value
# means requests are queueing behind each other (the example switch trigger of docs/rules.md).
DEGRADED_P95_RATIO = 2.0
# The load tester stops a sweep when p95 E2E passes 10x single-user ("latency collapse"); the ARTICLE's
# example ("a couple of seconds ... stretches toward a minute") is 20-30x.
COLLAPSE_P95_RATIO = 10.0
# Any failed request under load is an outage for a user; 1% leaves room for a flaky client.
MAX_FAILURE_RATE = 0.01

# ---- Cost --------------------------------------------------------------------------------------
# ARTICLE: "Ollama is cheaper to start and vLLM is cheaper to scale". We call a $/1M-token gap
# meaningful at 1.5x: below that, prices and utilisation assumptions swamp it.
COST_RATIO = 1.5

# ---- Features ----------------------------------------------------------------------------------
# Ollama applies one ADAPTER per Modelfile (one model per fine-tune, each loaded separately);
# vLLM's --enable-lora serves many adapters on one base model (--max-loras, hot-swap at runtime).
MULTI_LORA_ADAPTERS = 2

# ---- Confidence --------------------------------------------------------------------------------
# A hard constraint (Mac, CPU only, tensor parallelism) leaves no real choice.
CONSTRAINT_CONFIDENCE = 0.97
# Confidence from the margin of evidence m = W - L: 1 - 0.5 x exp(-m / SCALE). One strong reason
# (weight 3) with nothing against it gives 0.82 ("high"); a margin under 1.3 is a close call. The
# margin, not the ratio, so a clear case with a few soft opposing reasons stays clear.
CONFIDENCE_SCALE = 3.0
# Evidence alone never reaches a hard constraint's certainty.
MAX_EVIDENCE_CONFIDENCE = 0.95
CONFIDENCE_HIGH = 0.8  # label "high" at or above
CONFIDENCE_MEDIUM = 0.65  # label "medium" at or above; below: "close call"

# ---- Reference hardware for "what a Linux GPU server would give" ---------------------------------
# A single data-centre GPU most clouds rent by the hour (catalog id in advisor/capacity/data/gpus.yaml).
REFERENCE_GPU = "h100-sxm-80gb"

# Standard load levels for the prediction; the user's peak is added. Rules for vLLM look at every
# level up to the peak, rules for Ollama need all of them: more users can only move toward vLLM.
PREDICTION_LEVELS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
