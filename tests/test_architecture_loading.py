"""Every architecture of the matrix (tests/architectures.py) loads strictly by `name_or_path`, its tokenizer
handles special tokens as each family needs them, and `xstilts plan` knows its size."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from architectures import ARCHITECTURES
from xstilts.errors import XstiltsError
from xstilts.models.encoder import load_encoder, load_encoder_tokenizer

NAMES = list(ARCHITECTURES)
# Glot500's 401k-piece tokenizer takes seconds to build and to load (transformers parses its JSON in Python):
# its checks are in the slow tier (which CI runs), the other architectures' in the default suite.
GLOT500_SLOW = [pytest.param(n, marks=pytest.mark.slow) if n == "glot500" else n for n in NAMES]
BASE_CLASSES = {
    "xlm-roberta": "XLMRobertaModel", "xlm-roberta-xl": "XLMRobertaXLModel", "bert": "BertModel",
    "deberta-v2": "DebertaV2Model", "rembert": "RemBertModel", "modernbert": "ModernBertModel",
    "mt5": "MT5EncoderModel", "glot500": "XLMRobertaModel", "multilingual-e5": "XLMRobertaModel",
    "multilingual-e5-small": "BertModel",
}


@pytest.mark.parametrize("name", GLOT500_SLOW)
def test_every_encoder_weight_comes_from_the_checkpoint(name, architecture_folder):
    folder = architecture_folder(name)
    encoder = load_encoder(str(folder))
    assert type(encoder).__name__ == BASE_CLASSES[name]
    saved = load_file(folder / "model.safetensors")
    prefix = f"{encoder.base_model_prefix}."
    for key, value in encoder.state_dict().items():
        # mT5's encoder shares `shared` with encoder.embed_tokens, saved once
        stored = saved.get(prefix + key, saved.get(key, saved.get("shared.weight") if "embed_tokens" in key else None))
        assert stored is not None, key
        assert torch.equal(stored, value), key


def _copy(folder, tmp_path):
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    return copy, load_file(copy / "model.safetensors")


def _save(copy, weights):
    save_file(weights, copy / "model.safetensors", metadata={"format": "pt"})


STRICT = ["modernbert", "mt5", "deberta-v2", "xlm-roberta-xl", "rembert"]


@pytest.mark.parametrize("name", STRICT)
def test_a_missing_encoder_weight_is_an_error_naming_it(name, architecture_folder, tmp_path):
    copy, weights = _copy(architecture_folder(name), tmp_path)
    dropped = sorted(k for k in weights if "layer" in k and k.endswith("weight"))[-1]  # a layer of the encoder
    del weights[dropped]
    _save(copy, weights)
    with pytest.raises(XstiltsError, match="missing from the checkpoint") as caught:
        load_encoder(str(copy))
    assert dropped.split(".", 1)[1] in str(caught.value)


# A weight no class of the architecture has, next to its real heads (and for mT5 inside its decoder).
FOREIGN = {"modernbert": "head.extra.weight", "mt5": "decoder.block.0.extra.weight",
           "deberta-v2": "cls.predictions.extra", "xlm-roberta-xl": "lm_head.extra.weight", "rembert": "adapter.weight"}


@pytest.mark.parametrize("name", STRICT)
def test_a_foreign_weight_is_an_error_naming_it(name, architecture_folder, tmp_path):
    copy, weights = _copy(architecture_folder(name), tmp_path)
    weights[FOREIGN[name]] = torch.zeros(3)
    _save(copy, weights)
    with pytest.raises(XstiltsError, match="that the encoder does not have") as caught:
        load_encoder(str(copy))
    message = str(caught.value)
    assert FOREIGN[name] in message
    assert message.count(",") == 0  # the one foreign key only: the real heads are tolerated


def test_the_heads_tolerated_are_the_architectures_own(architecture_folder):
    """ModernBERT's MLM head (head.*, decoder.bias) is tolerated from a ModernBERT checkpoint, not because
    of a global list: XLM-R's head under ModernBERT's names is foreign."""
    from transformers import AutoConfig

    from xstilts.models.encoder import unexpected_beyond_heads

    modern = AutoConfig.from_pretrained(architecture_folder("modernbert"))
    xlmr = AutoConfig.from_pretrained(architecture_folder("xlm-roberta"))
    assert unexpected_beyond_heads(modern, ["head.dense.weight", "head.norm.weight", "decoder.bias"]) == []
    assert unexpected_beyond_heads(xlmr, ["head.dense.weight", "decoder.bias"]) == ["head.dense.weight",
                                                                                     "decoder.bias"]
    assert unexpected_beyond_heads(modern, ["lm_head.dense.weight"]) == ["lm_head.dense.weight"]


# ------------------------------------------------------------------------------------------------ tokenizers

KINDS = {"xlm-roberta": "<s>", "xlm-roberta-xl": "<s>", "glot500": "<s>", "multilingual-e5": "<s>", "bert": "[CLS]",
         "deberta-v2": "[CLS]", "rembert": "[CLS]", "modernbert": "[CLS]", "mt5": None, "multilingual-e5-small": "<s>"}


@pytest.mark.parametrize("name", GLOT500_SLOW)
def test_special_tokens_as_the_families_use_them(name, architecture_folder):
    tokenizer = load_encoder_tokenizer(str(architecture_folder(name)))
    folder = architecture_folder(name)
    from transformers import AutoConfig

    assert len(tokenizer) == AutoConfig.from_pretrained(folder).vocab_size  # Glot500's 401,145 included
    single = tokenizer("kalo miren tusa")
    pair = tokenizer("kalo miren", "tusa pove")
    ids = single["input_ids"]
    # classification and multiple choice read position 0: the CLS token where the tokenizer has one; mT5 has
    # none, so position 0 is the first subword (a learnt head on it still works: attention is bidirectional)
    cls = KINDS[name]
    assert (tokenizer.convert_ids_to_tokens(ids[0]) == cls) if cls else ids[0] not in tokenizer.all_special_ids
    # every text ends with the separator (</s> or [SEP]); a pair has both texts, separated
    sep = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    assert ids[-1] == sep and pair["input_ids"][-1] == sep
    sequence_ids = pair.sequence_ids()
    first = [i for i, s in enumerate(sequence_ids) if s == 0]
    second = [i for i, s in enumerate(sequence_ids) if s == 1]
    assert first and second and max(first) + 1 < min(second)  # a separator between them
    assert all(sequence_ids[i] is None for i, t in enumerate(pair["input_ids"]) if t in tokenizer.all_special_ids)
    # MLM: a mask token that is special (never chosen for masking itself), except mT5's tokenizer
    assert (tokenizer.mask_token_id is not None) == ARCHITECTURES[name].mlm
    if ARCHITECTURES[name].mlm:
        assert tokenizer.mask_token_id in tokenizer.all_special_ids


@pytest.mark.parametrize("name", GLOT500_SLOW)
def test_offsets_find_the_answer_and_word_ids_every_word(name, architecture_folder):
    from xstilts.families import get_family
    from xstilts.tasks import get_task

    tokenizer = load_encoder_tokenizer(str(architecture_folder(name)))
    context = "kalo miren tusa pove drani kalo"
    example = {"id": "q", "question": "miren tusa?", "context": context,
               "answers": [{"text": "tusa pove", "start": context.index("tusa")}]}
    qa = get_family("span_qa")
    (feature,) = qa.featurize(get_task("mock-qa"), [example], tokenizer, max_length=64)
    start, end = feature["start_position"], feature["end_position"]
    assert start > 0 and context[feature["offsets"][start][0]:feature["offsets"][end][1]] == "tusa pove"

    words = ["kalo", "miren", "tusapovedrani", "ka"]
    tagging = get_family("tagging")
    task = get_task("mock-pos")
    (feature,) = tagging.featurize(task, [{"id": "t", "tokens": words, "tags": ["NOUN"] * 4}], tokenizer, 64)
    assert sum(label != -100 for label in feature["labels"]) == len(words)  # one label per word, its first subword
    # each word's subwords as in running text (a byte-level BPE word keeps the space before it)
    text = tokenizer(" ".join(words), add_special_tokens=False)["input_ids"]
    inside = [i for i, label in enumerate(feature["labels"]) if label != -100]
    assert feature["input_ids"][inside[0]:inside[0] + len(text)] == text


# ------------------------------------------------------------------------------------------------ xstilts plan


def _estimated(folder) -> int:
    from xstilts.config.schema import ModelConfig
    from xstilts.studies.estimate import model_size

    # the encoder's size (an mT5 folder is otherwise the whole encoder-decoder: tests/test_seq2seq.py)
    size = model_size(ModelConfig(name_or_path=str(folder), kind="encoder"))
    assert size.known, size.how
    return size.parameters


@pytest.mark.parametrize("name", GLOT500_SLOW)
def test_plan_counts_the_parameters_of_every_architecture(name, architecture_folder):
    encoder = load_encoder(str(architecture_folder(name)))
    assert _estimated(architecture_folder(name)) == sum(p.numel() for p in encoder.parameters())


def _meta_count(config, tmp_path) -> tuple[int, int]:
    """(the formula's count from config.json, the parameters of the base encoder transformers builds from it
    on the meta device: no memory, so published sizes are cheap)."""
    import transformers

    from xstilts.models.encoder import _encoder_only_class

    config.save_pretrained(tmp_path)
    model_class = transformers.MODEL_MAPPING[type(config)]
    model_class = _encoder_only_class(model_class) or model_class
    with torch.device("meta"):
        try:
            model = model_class(config, add_pooling_layer=False)
        except TypeError:
            model = model_class(config)
    return _estimated(tmp_path), sum(p.numel() for p in model.parameters())


VARIANTS = {
    "deberta-v2, own position keys, conv, narrow embeddings": lambda t: t.DebertaV2Config(
        vocab_size=90, hidden_size=24, num_hidden_layers=2, num_attention_heads=2, intermediate_size=40,
        embedding_size=16, relative_attention=True, position_buckets=8, pos_att_type="p2c|c2p",
        share_att_key=False, conv_kernel_size=3, norm_rel_ebd="layer_norm", type_vocab_size=2),
    "deberta-v2, absolute positions only": lambda t: t.DebertaV2Config(
        vocab_size=90, hidden_size=24, num_hidden_layers=2, num_attention_heads=2, intermediate_size=40),
    "modernbert with biases": lambda t: t.ModernBertConfig(
        vocab_size=90, hidden_size=24, num_hidden_layers=3, num_attention_heads=2, intermediate_size=40,
        norm_bias=True, attention_bias=True, mlp_bias=True, pad_token_id=0, bos_token_id=1, eos_token_id=2,
        cls_token_id=1, sep_token_id=2),
    "t5, relu feed-forward": lambda t: t.T5Config(vocab_size=90, d_model=24, d_kv=8, d_ff=40, num_layers=2,
                                                  num_heads=3),
    "umt5": lambda t: t.UMT5Config(vocab_size=90, d_model=24, d_kv=8, d_ff=40, num_layers=2, num_heads=3),
    # published shapes (their config.json values)
    "xlm-roberta-large": lambda t: t.XLMRobertaConfig(
        vocab_size=250002, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
        max_position_embeddings=514, type_vocab_size=1),
    "xlm-roberta-xxl": lambda t: t.XLMRobertaXLConfig(
        vocab_size=250880, hidden_size=4096, num_hidden_layers=48, num_attention_heads=32, intermediate_size=16384,
        max_position_embeddings=514, type_vocab_size=1),
    "mdeberta-v3-base": lambda t: t.DebertaV2Config(
        vocab_size=251000, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
        relative_attention=True, position_buckets=256, norm_rel_ebd="layer_norm", share_att_key=True,
        pos_att_type="p2c|c2p", max_relative_positions=-1, position_biased_input=False, type_vocab_size=0),
    "rembert": lambda t: t.RemBertConfig(
        vocab_size=250300, hidden_size=1152, num_hidden_layers=32, num_attention_heads=18, intermediate_size=4608,
        input_embedding_size=256, output_embedding_size=1664),
    "mmbert-base": lambda t: t.ModernBertConfig(
        vocab_size=256000, hidden_size=768, num_hidden_layers=22, num_attention_heads=12, intermediate_size=1152),
    "mt5-base": lambda t: t.MT5Config(vocab_size=250112, d_model=768, d_kv=64, d_ff=2048, num_layers=12,
                                      num_heads=12),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_plan_counts_variants_and_published_shapes(variant, tmp_path):
    import transformers

    estimated, built = _meta_count(VARIANTS[variant](transformers), tmp_path)
    assert estimated == built


@pytest.mark.parametrize("hub_name", ["FacebookAI/xlm-roberta-xxl", "microsoft/mdeberta-v3-base", "google/rembert",
                                      "google/mt5-base", "cis-lmu/glot500-base", "intfloat/multilingual-e5-large"])
def test_plan_knows_published_hub_encoders_before_the_download(hub_name, tmp_path):
    """A hub name's published dimensions give the size of the encoder transformers builds from them."""
    from transformers import AutoConfig

    from xstilts.config.schema import ModelConfig
    from xstilts.studies.estimate import KNOWN_HUB_CONFIGS, model_size

    published = dict(KNOWN_HUB_CONFIGS[hub_name.split("/")[1]])
    size = model_size(ModelConfig(name_or_path=hub_name, kind="encoder"))
    assert size.known and "published" in size.how
    estimated, built = _meta_count(AutoConfig.for_model(published.pop("model_type"), **published), tmp_path)
    assert size.parameters == estimated == built


@pytest.mark.parametrize("name", ["modernbert", "mt5"])
def test_encoders_without_segments_ignore_token_type_ids(name, architecture_folder):
    """A tokenizer may make token_type_ids for an encoder that takes none (ModernBERT, T5's encoder): the
    families' encoder call leaves them out instead of failing."""
    from xstilts.families.common import encode

    encoder = load_encoder(str(architecture_folder(name)))
    ids = torch.tensor([[5, 6, 7, 8]])
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    plain = encode(encoder, batch).last_hidden_state
    typed = encode(encoder, {**batch, "token_type_ids": torch.tensor([[0, 0, 1, 1]])}).last_hidden_state
    assert torch.equal(plain, typed)
