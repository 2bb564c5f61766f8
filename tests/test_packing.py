"""Padding-free packing: the layout, the packed forward pass equal to the padded one per architecture, the
MLM loss unchanged, the runtime.packing policy and its fallback."""

from __future__ import annotations

import json
import logging

import pytest
import torch
import transformers as tf
import yaml

from xstilts.config.load import parse_study
from xstilts.errors import ConfigError
from xstilts.families.common import IGNORE_INDEX, attention_mask_for, pad_sequences
from xstilts.families.mlm import FAMILY as MLM
from xstilts.models.packing import (
    AUTO_MIN_SAVING,
    BatchPacker,
    pack_batch,
    packed_inputs_accepted,
    packing_support,
    plan_rows,
    unpack,
)

VOCAB = 100
# Longer than ModernBERT's sliding half-window below (4), so its sliding layers are exercised.
LENGTHS = [5, 17, 3, 12, 9, 17, 2]
COMMON = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
              max_position_embeddings=70)


def tiny(architecture: str, implementation: str = "sdpa") -> torch.nn.Module:
    """A tiny random encoder of ``architecture`` from its HF config class, in eval mode."""
    builders = {
        "xlm-roberta": lambda: (tf.XLMRobertaConfig(**COMMON, pad_token_id=1), tf.XLMRobertaModel),
        "xlm-roberta-xl": lambda: (tf.XLMRobertaXLConfig(**COMMON, pad_token_id=1), tf.XLMRobertaXLModel),
        "bert": lambda: (tf.BertConfig(**COMMON, pad_token_id=0), tf.BertModel),
        "rembert": lambda: (tf.RemBertConfig(**COMMON, pad_token_id=0, input_embedding_size=16,
                                             output_embedding_size=16), tf.RemBertModel),
        # mDeBERTa-v3's shape: relative attention with log buckets, no absolute positions in the input.
        "deberta-v2": lambda: (tf.DebertaV2Config(**COMMON, pad_token_id=0, relative_attention=True,
                                                  position_buckets=16, max_relative_positions=64,
                                                  pos_att_type=["p2c", "c2p"], position_biased_input=False,
                                                  norm_rel_ebd="layer_norm", share_att_key=True),
                               tf.DebertaV2Model),
        "modernbert": lambda: (tf.ModernBertConfig(**{**COMMON, "num_hidden_layers": 3}, pad_token_id=0,
                                                   local_attention=8, global_attn_every_n_layers=3),
                               tf.ModernBertModel),
        "mt5": lambda: (tf.MT5Config(vocab_size=VOCAB, d_model=32, d_kv=16, d_ff=64, num_layers=2, num_heads=2,
                                     pad_token_id=0), tf.MT5EncoderModel),
    }
    config, model_class = builders[architecture]()
    config._attn_implementation = implementation
    torch.manual_seed(0)
    return model_class(config).eval()


def padded(pad_token_id: int, lengths=LENGTHS, seed: int = 1) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    rows = [torch.randint(3, VOCAB, (n,), generator=generator).tolist() for n in lengths]
    ids = pad_sequences(rows, pad_token_id)
    return {"input_ids": ids, "attention_mask": attention_mask_for(ids, pad_token_id, lengths)}


# ---------------------------------------------------------------- layout


def test_first_fit_decreasing_by_hand():
    layout = plan_rows([5, 3, 4, 2], capacity=6)
    # Longest first: 5 -> row 0; 4 -> row 1; 3 -> row 2 (row 0 has 1 free, row 1 has 2); 2 -> row 1 at 4.
    assert layout.rows.tolist() == [0, 2, 1, 1]
    assert layout.starts.tolist() == [0, 0, 0, 4]
    assert (layout.num_rows, layout.width) == (3, 6)
    assert plan_rows([3, 3, 3]).num_rows == 3  # rows as wide as the longest: equal lengths cannot share
    with pytest.raises(ValueError, match="does not fit"):
        plan_rows([7], capacity=6)


def test_pack_batch_by_hand_xlmr_positions_mask_and_labels():
    support = packing_support(tiny("xlm-roberta"))
    assert support.ok and support.first_position == 2  # pad_token_id 1 + 1
    ids = torch.tensor([[10, 11, 12], [20, 1, 1], [30, 31, 1]])
    batch = {"input_ids": ids, "attention_mask": attention_mask_for(ids, 1, [3, 1, 2]),
             "labels": torch.tensor([[-100, 11, -100], [20, -100, -100], [-100, -100, -100]])}
    packed, layout = pack_batch(batch, support, pad_token_id=1, token_keys={"labels": IGNORE_INDEX})
    # Width 3: [10 11 12] alone; then 30 31 (length 2) and 20 (length 1) share the second row.
    assert packed["input_ids"].tolist() == [[10, 11, 12], [30, 31, 20]]
    assert packed["position_ids"].tolist() == [[2, 3, 4], [2, 3, 2]]
    assert packed["labels"].tolist() == [[-100, 11, -100], [-100, -100, 20]]
    mask = packed["attention_mask"]
    assert mask.shape == (2, 1, 3, 3) and mask.dtype == torch.bool
    assert mask[1, 0].tolist() == [[True, True, False], [True, True, False], [False, False, True]]
    back = unpack(packed["input_ids"], layout, padded_width=3, fill=1)
    assert back.tolist() == ids.tolist()


def test_free_slots_form_their_own_block_so_no_query_sees_nothing():
    support = packing_support(tiny("bert"))
    packed, _ = pack_batch(padded(0, [4, 2, 1]), support, pad_token_id=0)
    # Rows of 4: [4], [2 + 1 + one free slot]; the free slot attends to itself (never an all-False row).
    assert packed["attention_mask"].any(dim=-1).all()
    assert packed["position_ids"].tolist() == [[0, 1, 2, 3], [0, 1, 0, 0]]


def test_only_per_token_keys_can_be_packed():
    support = packing_support(tiny("bert"))
    batch = {**padded(0), "labels": torch.zeros(len(LENGTHS), dtype=torch.long)}
    with pytest.raises(ValueError, match="only per-token"):
        pack_batch(batch, support, pad_token_id=0)


# ---------------------------------------------------------------- parity per architecture

ARCHITECTURES = [
    ("xlm-roberta", "sdpa"), ("xlm-roberta", "eager"), ("xlm-roberta-xl", "sdpa"), ("bert", "sdpa"),
    ("bert", "eager"), ("rembert", "eager"), ("deberta-v2", "eager"), ("modernbert", "sdpa"),
    ("modernbert", "eager"), ("mt5", "sdpa"),
]


@pytest.mark.parametrize(("architecture", "implementation"), ARCHITECTURES)
def test_packed_forward_equals_padded_forward(architecture, implementation):
    model = tiny(architecture, implementation)
    support = packing_support(model)
    assert support.ok, support.reason
    batch = padded(model.config.pad_token_id)
    with torch.no_grad():
        reference = model(**batch).last_hidden_state
        packed, layout = pack_batch(batch, support, model.config.pad_token_id)
        assert layout.num_rows < len(LENGTHS)  # it did pack
        with packed_inputs_accepted(model):
            out = model(**packed).last_hidden_state
    real = batch["attention_mask"].bool()
    assert (unpack(out, layout, batch["input_ids"].shape[1])[real] - reference[real]).abs().max() <= 1e-5


def test_modernbert_sliding_layers_keep_their_window():
    support = packing_support(tiny("modernbert"))
    assert support.sliding_window == 4 and "sliding_attention" in support.layer_types
    packed, _ = pack_batch(padded(0, [9]), support, pad_token_id=0)
    sliding = packed["attention_mask"]["sliding_attention"][0, 0]
    assert sliding[0].tolist() == [True] * 5 + [False] * 4  # |i - j| <= 4
    assert packed["attention_mask"]["full_attention"][0, 0].all()


def test_unsupported_encoders_say_why():
    deberta = tiny("deberta-v2", "eager")
    deberta.config.conv_kernel_size = 3
    assert "conv" in packing_support(deberta).reason
    flex = tiny("bert", "sdpa")
    flex.config._attn_implementation = "flex_attention"
    assert "flex_attention" in packing_support(flex).reason
    distil = tf.DistilBertModel(tf.DistilBertConfig(vocab_size=VOCAB, dim=32, n_layers=1, n_heads=2, hidden_dim=64))
    assert not packing_support(distil).ok and "distilbert" in packing_support(distil).reason


# ---------------------------------------------------------------- MLM


def mlm_features(lengths, mask_token_id=4):
    generator = torch.Generator().manual_seed(3)
    features = []
    for i, n in enumerate(lengths):
        body = torch.randint(5, VOCAB, (n - 2,), generator=generator).tolist()
        features.append({"input_ids": [0, *body, 2], "special_tokens_mask": [1] + [0] * (n - 2) + [1],
                         "example_index": i, "length": n, "mask_token_id": mask_token_id, "vocab_size": VOCAB,
                         "special_ids": [0, 1, 2, 3, mask_token_id]})
    return features


@pytest.mark.parametrize("architecture", ["xlm-roberta", "bert", "modernbert"])
def test_packed_mlm_loss_and_gradients_equal_padded(architecture):
    model = tiny(architecture)
    pad = model.config.pad_token_id
    head = MLM.build_head(None, model.config)
    # The same generator seed gives the same masks: collate masks the padded batch before packing.
    batch = MLM.collate(mlm_features(LENGTHS), pad, generator=torch.Generator().manual_seed(7))
    packer = BatchPacker(True, model, pad)

    def loss_and_grads(b):
        model.zero_grad()
        head.zero_grad()
        loss = MLM.loss(MLM.forward(model, head, b), b)
        loss.backward()
        return loss.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None]

    padded_loss, padded_grads = loss_and_grads(batch)
    packed = packer(batch, MLM.packed_token_keys, "mlm")
    assert packed["input_ids"].shape[0] < len(LENGTHS) and packer.packed_batches == 1
    assert int((packed["labels"] != IGNORE_INDEX).sum()) == int((batch["labels"] != IGNORE_INDEX).sum())
    packed_loss, packed_grads = loss_and_grads(packed)
    assert abs(packed_loss - padded_loss) <= 1e-5
    assert max((a - b).abs().max() for a, b in zip(packed_grads, padded_grads, strict=True)) <= 1e-5


def test_packed_tagging_loss_equals_padded():
    from xstilts.families.tagging import FAMILY as TAGGING

    model = tiny("bert")
    head = TAGGING.build_head(type("T", (), {"labels": ("A", "B", "C")})(), model.config).eval()
    generator = torch.Generator().manual_seed(5)
    features = [{"input_ids": torch.randint(3, VOCAB, (n,), generator=generator).tolist(),
                 "labels": [IGNORE_INDEX] + torch.randint(0, 3, (n - 1,), generator=generator).tolist()}
                for n in LENGTHS]
    batch = TAGGING.collate(features, 0)
    packed = BatchPacker(True, model, 0)(batch, TAGGING.packed_token_keys, "tagging")
    assert packed["input_ids"].shape[0] < len(LENGTHS)
    with torch.no_grad():
        losses = [TAGGING.loss(TAGGING.forward(model, head, b), b) for b in (batch, packed)]
    assert abs(losses[0] - losses[1]) <= 1e-5


def test_auto_packs_only_batches_with_enough_padding():
    model = tiny("xlm-roberta")
    packer = BatchPacker("auto", model, 1)
    even = MLM.collate(mlm_features([12, 12, 11, 12]), 1)  # rows as wide as the longest: nothing to save
    assert packer(even, MLM.packed_token_keys, "mlm") is even
    mixed = MLM.collate(mlm_features([20, 5, 6, 4, 19]), 1)  # 54 tokens in 100 slots -> 3 rows of 20
    assert 1 - 60 / 100 >= AUTO_MIN_SAVING
    assert packer(mixed, MLM.packed_token_keys, "mlm")["input_ids"].shape == (3, 20)
    assert BatchPacker(False, model, 1)(mixed, MLM.packed_token_keys, "mlm") is mixed


def test_fallback_to_padding_logs_one_line(caplog):
    model = tiny("deberta-v2", "eager")
    model.config.conv_kernel_size = 3
    batch = MLM.collate(mlm_features([20, 5, 6]), 0)
    with caplog.at_level(logging.WARNING, logger="xstilts.models.packing"):
        packer = BatchPacker(True, model, 0)
        assert packer(batch, MLM.packed_token_keys, "mlm") is batch
        assert packer(batch, MLM.packed_token_keys, "mlm") is batch
    (record,) = caplog.records
    assert "conv_kernel_size" in record.getMessage() and "padded batches" in record.getMessage()
    assert "\n" not in record.getMessage()


def test_a_family_that_cannot_pack_trains_padded_and_says_so_once(caplog):
    packer = BatchPacker(True, tiny("bert"), 0)
    batch = padded(0)
    with caplog.at_level(logging.WARNING, logger="xstilts.models.packing"):
        assert packer(batch, None, "classification") is batch
        assert packer(batch, None, "classification") is batch
    assert len(caplog.records) == 1 and "classification" in caplog.records[0].getMessage()


# ---------------------------------------------------------------- config and the loop


def test_runtime_packing_setting():
    from xstilts.config.schema import RuntimeConfig

    assert RuntimeConfig().packing == "auto"
    assert RuntimeConfig(packing=True).packing is True and RuntimeConfig(packing=False).packing is False


def mlm_study(store, packing, dropout: float = 0.0, checkpoint_every: int = 100) -> dict:
    text = f"""\
name: packing
model:
  build: {{hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64, max_length: 64, dropout: {dropout}}}
  tokenizer: {{train: {{corpus: [mock-mlm], vocab_size: 400}}}}
stages:
  mlm:
    sources: [{{task: mock-mlm}}]
    steps: 6
    batch_size: 8
    max_length: 24
    checkpoint_every: {checkpoint_every}
pipelines:
  only: [mlm]
evaluate: {{max_examples: 8, split: dev}}
runtime: {{progress: false, trackers: [], packing: {json.dumps(packing)}}}
store: {store}
"""
    return yaml.safe_load(text)


def test_runtime_packing_rejects_other_values():
    data = mlm_study("runs", "on")
    with pytest.raises(ConfigError) as caught:
        parse_study(data)
    assert "runtime.packing" in str(caught.value)


def test_mlm_stage_losses_equal_with_and_without_packing(xstilts_home, tmp_path, monkeypatch):
    from xstilts.models import packing as packing_module
    from xstilts.studies.runner import run_study

    packed_shapes = []
    real_pack = packing_module.pack_batch

    def counting_pack(batch, *args, **kwargs):
        packed_shapes.append(tuple(batch["input_ids"].shape))
        return real_pack(batch, *args, **kwargs)

    monkeypatch.setattr(packing_module, "pack_batch", counting_pack)
    losses = {}
    for packing in (False, True):
        store = tmp_path / f"runs-{packing}"
        run_study(parse_study(mlm_study(store, packing)), tmp_path / f"out-{packing}")
        losses[packing] = stage_losses(store)
    assert len(losses[True]) == 6 and len(packed_shapes) == 6  # every training batch of the packed run
    # Same batches, same masks, no dropout: the same training within fp32 rounding.
    assert losses[True] == pytest.approx(losses[False], rel=1e-4)


def stage_losses(store) -> list[float]:
    (stage,) = [p for p in store.iterdir() if p.is_dir() and (p / "log.jsonl").exists()]
    log = [json.loads(line) for line in (stage / "log.jsonl").read_text().splitlines()]
    return [r["loss"] for r in log if "loss" in r]


@pytest.mark.slow
def test_packed_mlm_stage_resumes_exactly(xstilts_home, tmp_path):
    """With dropout on: a packed run killed after its state at step 2 resumes into the uninterrupted run."""
    from xstilts import faults
    from xstilts.studies.runner import run_study

    run_study(parse_study(mlm_study(tmp_path / "clean", True, dropout=0.1, checkpoint_every=2)), tmp_path / "o1")
    study = parse_study(mlm_study(tmp_path / "crash", True, dropout=0.1, checkpoint_every=2))
    with faults.armed("train.step@3:raise"), pytest.raises(faults.InjectedFault):
        run_study(study, tmp_path / "o2")
    run_study(study, tmp_path / "o2")
    (stage,) = [p for p in (tmp_path / "crash").iterdir() if (p / "metrics.json").exists()]
    assert json.loads((stage / "metrics.json").read_text())["resumed_from"] == 2
    assert stage_losses(tmp_path / "crash") == stage_losses(tmp_path / "clean")
