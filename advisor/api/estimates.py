"""``POST /api/v1/estimates/``: the capacity model (the same fields as ``manage.py estimate``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor.api.serializers import StrictInputSerializer
from advisor.capacity import request as limits
from advisor.capacity.custom import model_from_hf_config
from advisor.capacity.estimate import EstimateRequest, estimate
from advisor.capacity.server_logs import measured_fields
from advisor.errors import AdvisorError


class EstimateOutputSerializer(serializers.Serializer):
    """``Estimate.as_dict()``: see docs/capacity.md for every number and its source."""

    request = serializers.JSONField(help_text="The request as understood (names resolved).")
    model = serializers.JSONField()
    gpu = serializers.JSONField(allow_null=True, help_text="null for CPU only.")
    weights_bytes = serializers.IntegerField(help_text="vLLM's weights.")
    ollama_weights_bytes = serializers.IntegerField()
    kv_bytes_per_token = serializers.IntegerField()
    kv_layout = serializers.JSONField()
    vllm = serializers.JSONField(help_text="fits, tensor_parallel_size, kv_cache_tokens, ...")
    ollama = serializers.JSONField(help_text="fits_in_vram, num_ctx, num_parallel, gpu_layers...")
    performance = serializers.ListField(child=serializers.JSONField())
    calibration = serializers.ListField(child=serializers.JSONField())
    cost = serializers.JSONField()
    notes = serializers.ListField(child=serializers.CharField())
    plan = serializers.JSONField(
        help_text="The serving plan: vllm, ollama_installed (Ollama's defaults) and ollama (as we "
        "would set it); what a recommendation's page, API and bundle read."
    )


class EstimateApi(APIView):
    class InputSerializer(StrictInputSerializer):
        model = serializers.CharField(
            max_length=200,
            required=False,
            help_text="Catalog id, Hugging Face repo id or Ollama tag (with `config`: its name).",
        )
        config = serializers.DictField(
            required=False,
            help_text="A Hugging Face config.json (as an object) for a model the catalog does "
            "not know, like `manage.py estimate --config`.",
        )
        gpu = serializers.CharField(
            max_length=200, required=False, help_text="Catalog id or driver-reported name."
        )
        gpu_count = serializers.IntegerField(
            min_value=0, max_value=limits.MAX_GPUS, required=False, help_text="0: CPU only."
        )
        quantization = serializers.CharField(max_length=50, required=False)
        max_model_len = serializers.IntegerField(
            min_value=16, max_value=limits.MAX_TOKENS, required=False
        )
        kv_cache_dtype = serializers.CharField(max_length=20, required=False)
        gpu_memory_utilization = serializers.FloatField(
            min_value=0.01, max_value=1.0, required=False
        )
        kv_cache_budget_gib = serializers.FloatField(min_value=0, max_value=100_000, required=False)
        concurrency = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=limits.MAX_CONCURRENCY),
            min_length=1,
            max_length=limits.MAX_LEVELS,
            required=False,
        )
        avg_prompt_tokens = serializers.IntegerField(
            min_value=1, max_value=limits.MAX_TOKENS, required=False
        )
        avg_output_tokens = serializers.IntegerField(
            min_value=1, max_value=limits.MAX_TOKENS, required=False
        )
        gpu_hourly_cost_usd = serializers.FloatField(min_value=0, max_value=10_000, required=False)
        num_parallel = serializers.IntegerField(
            min_value=1, max_value=limits.MAX_CONCURRENCY, required=False
        )
        tensor_parallel_size = serializers.IntegerField(
            min_value=1, max_value=limits.MAX_GPUS, required=False, help_text="vLLM's flag."
        )
        data_parallel_size = serializers.IntegerField(
            min_value=1, max_value=limits.MAX_GPUS, required=False, help_text="vLLM's flag."
        )
        max_num_seqs = serializers.IntegerField(min_value=1, max_value=65536, required=False)
        max_num_batched_tokens = serializers.IntegerField(
            min_value=1, max_value=limits.MAX_TOKENS, required=False
        )
        vllm_version = serializers.CharField(
            max_length=40, required=False, help_text="vLLM release to model (default 0.33.0)."
        )
        num_gpu_blocks = serializers.IntegerField(
            min_value=1,
            max_value=100_000_000,
            required=False,
            help_text="Measured: vllm:cache_config_info num_gpu_blocks from the server's /metrics.",
        )
        ollama_measured_size_gib = serializers.FloatField(
            min_value=0.001, max_value=100_000, required=False, help_text="Measured: /api/ps size."
        )
        vllm_log = serializers.CharField(
            max_length=2_000_000,
            required=False,
            trim_whitespace=False,
            help_text="A pasted vLLM start-up log: its KV budget replaces the modelled one.",
        )
        vllm_metrics = serializers.CharField(
            max_length=2_000_000,
            required=False,
            trim_whitespace=False,
            help_text="A pasted /metrics page: vllm:cache_config_info's block count.",
        )
        ollama_ps = serializers.CharField(
            max_length=200_000, required=False, help_text="A pasted /api/ps response."
        )
        measured_decode_tps = serializers.DictField(
            child=serializers.FloatField(min_value=0.001, max_value=1e6),
            required=False,
            help_text='Measured single-stream tokens/s per server, e.g. {"vllm": 95}.',
        )

    @extend_schema(
        request=InputSerializer,
        responses={200: EstimateOutputSerializer},
        examples=[
            OpenApiExample(
                "Llama 3.1 8B on one H100",
                value={"model": "llama-3.1-8b", "gpu": "h100", "gpu_count": 1},
                request_only=True,
            )
        ],
        summary="Estimate capacity, speed and cost",
    )
    def post(self, request):
        """Size vLLM and Ollama for a model on some GPUs: memory fit, KV cache, concurrency,
        predicted throughput and latency per level, and $/1M tokens. Nothing is stored."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        readings = {key: values.pop(key, None) for key in ("vllm_log", "vllm_metrics", "ollama_ps")}
        values = {**measured_fields(**readings), **values}
        config = values.pop("config", None)
        if config is not None:
            values["model"] = model_from_hf_config(config, model_id=values.get("model") or None)
        elif not values.get("model"):
            raise AdvisorError("Name a model, or send its config.json as `config`.", field="model")
        result = estimate(EstimateRequest.parse(values))
        return Response(result.as_dict())
