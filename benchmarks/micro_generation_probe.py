"""Can the micro generation tasks be learnt? A small T5 trained on English only, against the copy baseline.

Usage: ``python benchmarks/micro_generation_probe.py [--task micro-ntg] [--size default] [--epochs 12]
[--pretrain-epochs 0]``

Issue 15 asks that micro-qg and micro-ntg show real learning, English far above the baseline that copies the
source's first words, before anything is said about transfer. Until the ``generation`` family and the
encoder-decoder runner exist this probe checks it outside the toolkit's loop: a T5 built from a config (random
weights, no pretraining: zero-shot scores in the other languages mean little here), the project's tokenizer
trained on the micro MLM corpora of every language with T5's sentinels, plain teacher-forced training with AdamW
on the English training set, then greedy ``model.generate`` on the test set of every language, scored with
XGLUE's corpus BLEU (``xstilts.scoring.generation``) beside ``copy_baseline_bleu``. The last line reads
``en <model BLEU> vs copy <baseline BLEU>``.

``--pretrain-epochs N`` first pretrains the T5 for N epochs on the micro corpora of every language with the
``denoising`` family (span corruption: its featurize and collate, a seeded generator), as the micro twin of
mT5's pretraining; then the zero-shot scores mean something.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from xstilts.families import get_family  # noqa: E402
from xstilts.micro.corpora import corpus  # noqa: E402
from xstilts.micro.languages import LANGUAGE_CODES  # noqa: E402
from xstilts.models.tokenizer import train_tokenizer  # noqa: E402
from xstilts.scoring.generation import corpus_bleu  # noqa: E402
from xstilts.tasks.micro import MICRO_TASK_DECLARATIONS, copy_baseline_bleu  # noqa: E402


def batches(pairs: list[tuple[list[int], list[int]]], size: int, rng: random.Random) -> list[list[int]]:
    """Batches of similar source lengths (less padding), in random order."""
    order = sorted(range(len(pairs)), key=lambda i: (len(pairs[i][0]), rng.random()))
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def padded(rows: list[list[int]], value: int) -> torch.Tensor:
    width = max(len(row) for row in rows)
    return torch.tensor([row + [value] * (width - len(row)) for row in rows])


def pretrain(model, tokenizer, sentences: dict[str, list[str]], epochs: int, rng: random.Random) -> None:
    """Span-corruption pretraining on texts of 4 sentences of every language (as the micro MLM corpora)."""
    family = get_family("denoising")
    task = next(t for t in MICRO_TASK_DECLARATIONS if t.name == "micro-denoise")
    texts = [" ".join(lines[i:i + 4]) for lines in sentences.values() for i in range(0, len(lines), 4)]
    features = family.featurize(task, [{"id": str(i), "text": t} for i, t in enumerate(texts)], tokenizer, 128)
    generator = torch.Generator().manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    steps = epochs * -(-len(features) // 32)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 100) * max(0.0, 1 - s / steps))
    started = time.perf_counter()
    model.train()
    for epoch in range(epochs):
        order = list(range(len(features)))
        rng.shuffle(order)
        total, count = 0.0, 0
        for start in range(0, len(order), 32):
            batch = family.collate([features[i] for i in order[start:start + 32]], tokenizer.pad_token_id, generator)
            loss = family.loss(family.forward(model, None, batch), batch)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total, count = total + loss.item(), count + 1
        print(f"pretrain epoch {epoch + 1}: loss {total / count:.3f} ({time.perf_counter() - started:.0f} s)",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="micro-ntg", choices=["micro-qg", "micro-ntg"])
    parser.add_argument("--size", default="default", choices=["tiny", "default"])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pretrain-epochs", type=int, default=0)
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    torch.manual_seed(0)
    rng = random.Random(0)
    name = options.task if options.size == "default" else options.task.replace("micro-", f"micro-{options.size}-")
    task = next(t for t in MICRO_TASK_DECLARATIONS if t.name == name)
    data = Path(tempfile.mkdtemp(prefix="xstilts-probe-"))
    task.ensure_files(data)

    def read(split: str, language: str) -> list[dict]:
        return [example for _, example in task.reader(task.path(split, language, data), split, language)]

    sentences = {code: corpus(code, 2000) for code in LANGUAGE_CODES}
    tokenizer = train_tokenizer([s for code in LANGUAGE_CODES for s in sentences[code]], vocab_size=4000,
                                sentinels=100)
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id

    def ids(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"][:127] + [eos]

    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(vocab_size=len(tokenizer), d_model=128, d_kv=32, d_ff=512, num_layers=2, num_decoder_layers=2,
                      num_heads=4, dropout_rate=0.1, pad_token_id=pad, eos_token_id=eos, decoder_start_token_id=pad)
    model = T5ForConditionalGeneration(config)
    if options.pretrain_epochs:
        pretrain(model, tokenizer, sentences, options.pretrain_epochs, rng)
    train = [(ids(e["source"]), ids(e["target"])) for e in read("train", "en")]
    steps = options.epochs * -(-len(train) // 32)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 100) * max(0.0, 1 - s / steps))
    started = time.perf_counter()
    model.train()
    for epoch in range(options.epochs):
        total = 0.0
        chunks = batches(train, 32, rng)
        for chunk in chunks:
            sources, targets = [train[i][0] for i in chunk], [train[i][1] for i in chunk]
            source = padded(sources, pad)
            loss = model(input_ids=source, attention_mask=(source != pad).long(), labels=padded(targets, -100)).loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total += loss.item()
        print(f"epoch {epoch + 1}: loss {total / len(chunks):.3f} ({time.perf_counter() - started:.0f} s)", flush=True)

    model.eval()
    baseline = copy_baseline_bleu(task, data)
    scores = {}
    for language in LANGUAGE_CODES:
        examples = read("test", language)
        order = sorted(range(len(examples)), key=lambda i: len(examples[i]["source"]))
        hypotheses = [""] * len(examples)
        with torch.no_grad():
            for start in range(0, len(order), 64):
                chunk = order[start:start + 64]
                source = padded([ids(examples[i]["source"]) for i in chunk], pad)
                out = model.generate(input_ids=source, attention_mask=(source != pad).long(), max_new_tokens=48,
                                     num_beams=1, do_sample=False)
                for i, text in zip(chunk, tokenizer.batch_decode(out, skip_special_tokens=True), strict=True):
                    hypotheses[i] = text
        scores[language] = corpus_bleu(hypotheses, [e["target"] for e in examples])
        print(f"{language}: model {scores[language]:.1f}  copy {baseline[language][1]:.1f}   "
              f"e.g. {hypotheses[0]!r} for {examples[0]['target']!r}", flush=True)
    print(f"en {scores['en']:.1f} vs copy {baseline['en'][1]:.1f}")


if __name__ == "__main__":
    main()
