"""``/api/v1/catalog/models/`` and ``/api/v1/catalog/gpus/``: the capacity model's catalogs, public."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny

from advisor.capacity.catalog import list_gpus, list_models


class _SpecSerializer(serializers.Serializer):
    """Reads a frozen catalog dataclass through its ``as_dict()`` (JSON-safe enums and tuples)."""

    def to_representation(self, instance):
        return super().to_representation(instance.as_dict())


class ModelOutputSerializer(_SpecSerializer):
    id = serializers.CharField(help_text="Catalog id, accepted wherever a model is named.")
    name = serializers.CharField()
    family = serializers.CharField()
    hf_repo = serializers.CharField(help_text="Hugging Face repository id (what vLLM serves).")
    ollama_tag = serializers.CharField(allow_null=True, help_text="Ollama library tag, if any.")
    params_total = serializers.FloatField()
    params_active = serializers.FloatField(help_text="Parameters used per token (MoE: fewer).")
    num_layers = serializers.IntegerField()
    num_attention_heads = serializers.IntegerField()
    num_kv_heads = serializers.IntegerField()
    head_dim = serializers.IntegerField()
    max_context = serializers.IntegerField()
    native_quantization = serializers.CharField()
    ollama_quantization = serializers.CharField()
    aliases = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField(help_text="Where the numbers come from.")


class GpuOutputSerializer(_SpecSerializer):
    id = serializers.CharField(help_text="Catalog id, accepted wherever a GPU is named.")
    name = serializers.CharField()
    vendor = serializers.CharField()
    memory_bytes = serializers.IntegerField()
    bandwidth_gbps = serializers.FloatField()
    bf16_tflops = serializers.FloatField()
    hourly_usd = serializers.FloatField(help_text="Typical on-demand price per GPU-hour.")
    datacenter = serializers.BooleanField()
    unified_memory = serializers.BooleanField()
    driver_names = serializers.ListField(child=serializers.CharField())
    aliases = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()
    price_source = serializers.CharField()


class ModelListApi(ListAPIView):
    """Every model the capacity model knows, in catalog order."""

    permission_classes = [AllowAny]
    serializer_class = ModelOutputSerializer

    def get_queryset(self):
        return list_models()


class GpuListApi(ListAPIView):
    """Every GPU the capacity model knows, in catalog order."""

    permission_classes = [AllowAny]
    serializer_class = GpuOutputSerializer

    def get_queryset(self):
        return list_gpus()
