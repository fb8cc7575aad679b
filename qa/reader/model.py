"""The fitted answer model: two tree ensembles and a calibrated confidence, read from one JSON file.

``qa/reader/answer_model.json`` is written by ``python -m qa.train`` (see :mod:`qa.train`) from
LightGBM boosters (``Booster.dump_model()``), so answering needs neither LightGBM nor scipy:
a few lines of numpy walk the trees. The file records the feature names it was fitted with,
the training data's hash and the library versions; a file whose features differ from what the
code computes is refused with the command that rebuilds it.

- ``sentence``: P(sentence holds the answer) from :func:`qa.reader.candidates.sentences` features.
- ``span``: P(span is the answer) from :func:`qa.reader.candidates.spans` features.
- ``affinity``: a table of how often candidates of each kind answered each kind of question (a span feature).
- ``confidence``: trees over the question's best candidates: P(the answer given is right). Trees, not a
  linear model: they do not extrapolate, so a folder of two articles (far fewer candidates than any
  training question had) does not drive the confidence to 0 or 1.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import QAError
from .candidates import HeadWords

if TYPE_CHECKING:
    from ..retrieve import Background

MODEL_FILE = "answer_model.json"
FORMAT = 2
REBUILD = "python -m qa.train --data ../shared/training/realtimeqa-2022-2025"


class ModelError(QAError):
    pass


@dataclass(frozen=True)
class Trees:
    """A boosted tree ensemble for binary classification, as flat arrays per tree.

    A node index ``i >= 0`` is a split (go left when ``x[feature[i]] <= threshold[i]``); a child
    ``c < 0`` is the leaf ``-c - 1``. Example, one tree "x0 <= 0.5 ? -1 : 1": features [0],
    thresholds [0.5], left [-1], right [-2], leaves [-1.0, 1.0]; predict([[0.2]]) -> sigmoid(-1).
    """

    features: tuple[str, ...]
    trees: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...]

    @classmethod
    def from_lightgbm(cls, dump: Mapping[str, Any]) -> Trees:
        """From ``Booster.dump_model()`` (numerical splits only, as :mod:`qa.train` fits them)."""
        return cls.from_lists(dump["feature_names"], [_flatten(info["tree_structure"]) for info in dump["tree_info"]])

    @classmethod
    def from_lists(cls, features: Sequence[str], trees: Sequence[Sequence[Sequence[float]]]) -> Trees:
        return cls(
            tuple(features),
            tuple(
                (
                    np.asarray(f, dtype=np.int64),
                    np.asarray(t, dtype=np.float64),
                    np.asarray(lo, dtype=np.int64),
                    np.asarray(hi, dtype=np.int64),
                    np.asarray(v, dtype=np.float64),
                )
                for f, t, lo, hi, v in trees
            ),
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Trees:
        """From what :meth:`to_lists` writes."""
        return cls.from_lists(d["features"], d["trees"])

    def to_lists(self) -> dict[str, Any]:
        return {"features": list(self.features), "trees": [[a.tolist() for a in tree] for tree in self.trees]}

    def raw(self, x: np.ndarray) -> np.ndarray:
        total = np.zeros(len(x))
        rows = np.arange(len(x))
        for feat, thr, left, right, leaves in self.trees:
            node = np.zeros(len(x), dtype=np.int64)
            active = node >= 0
            while active.any():
                n = node[active]
                go_left = x[rows[active], feat[n]] <= thr[n]
                node[active] = np.where(go_left, left[n], right[n])
                active = node >= 0
            total += leaves[-node - 1]
        return total

    def predict(self, x: np.ndarray) -> np.ndarray:
        """P(positive) for each row of ``x`` (columns in :attr:`features` order)."""
        return 1.0 / (1.0 + np.exp(-self.raw(x)))


def _flatten(root: Mapping[str, Any]) -> list[list[Any]]:
    """One LightGBM tree as [features, thresholds, left, right, leaves] (see :class:`Trees`)."""
    feat: list[int] = []
    thr: list[float] = []
    left: list[int] = []
    right: list[int] = []
    leaves: list[float] = []
    todo: list[tuple[Mapping[str, Any], int, str]] = [(root, -1, "")]  # (node, parent, side)
    while todo:
        node, parent, side = todo.pop()
        if "leaf_value" in node:
            leaves.append(float(node["leaf_value"]))
            index = -len(leaves)
        else:
            index = len(feat)
            feat.append(int(node["split_feature"]))
            thr.append(float(node["threshold"]))
            left.append(0)
            right.append(0)
            todo += [(node["right_child"], index, "right"), (node["left_child"], index, "left")]
        if parent >= 0:
            (left if side == "left" else right)[parent] = index
    if not feat:  # a tree that is one leaf
        return [[0], [float("inf")], [-1], [-1], leaves]
    return [feat, thr, left, right, leaves]


def mismatch(have: Sequence[str], want: Sequence[str]) -> str | None:
    """How a model's feature names differ from those the code computes; None when they are the same.

    Example: mismatch(["a", "b"], ["a", "c"]) -> "unknown ['b'], missing ['c']"
    """
    if list(have) == list(want):
        return None
    extra, missing = sorted(set(have) - set(want)), sorted(set(want) - set(have))
    return f"unknown {extra}, missing {missing}" if extra or missing else "in another order"


def matrix(rows: Sequence[Mapping[str, float]], features: Sequence[str]) -> np.ndarray:
    """Feature dicts as a matrix in ``features`` order."""
    return np.array([[r[f] for f in features] for r in rows], dtype=np.float64).reshape(len(rows), len(features))


#: Questions whose short answers are judged apart: "what"/"how" questions that expect no kind of
#: thing (OTHER: any noun phrase may be the answer, or none) and those that do (a name, a number, a date).
RULE_GROUPS = ("OTHER", "typed")


def rule_group(qtype: str) -> str:
    """The :data:`RULE_GROUPS` group of an answer type. Example: rule_group("COUNT") -> "typed"."""
    return "OTHER" if qtype == "OTHER" else "typed"


@dataclass(frozen=True)
class AnswerModel:
    sentence: Trees
    span: Trees
    confidence: Trees
    threshold: float  # refuse when the confidence is below it
    short_threshold: float  # give a short answer when its span's probability is at least this
    short_ratio: float  # ... and at least this times the best sentence's probability of holding the answer
    meta: Mapping[str, Any]
    #: Smoothed rate at which candidates of a kind answered questions asking for a kind of thing
    #: (see :func:`qa.reader.candidates.add_affinity`), fitted by :mod:`qa.train`.
    affinity: Mapping[str, float] = field(default_factory=dict)
    #: The short-answer rule (threshold, ratio) of a group of questions (:func:`rule_group`) where it
    #: differs from the one above; chosen by :mod:`qa.train` on held-out weeks.
    short_rules: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    #: The affinity table's head words with their vectors, through which a head word it lacks is read.
    heads: HeadWords | None = None
    #: How common words are in the training news, for a model that weighs it (:attr:`reads_commonness`).
    background: Background | None = None
    #: A second span model that also reads the fine-tuned span reader's scores (:mod:`qa.reader.neural`),
    #: fitted by ``qa train --span-reader``: the span shown is chosen by the mean of the two models'
    #: probabilities (:meth:`span_scores`), while the confidence reads :attr:`span`'s alone, so refusals are
    #: those of the model without it. Joined by ``qa train --join-span-reading``.
    span_reading: Trees | None = None

    def span_scores(self, x_rows: Sequence[Mapping[str, float]]) -> tuple[np.ndarray, np.ndarray]:
        """(:attr:`span`'s probabilities, the probabilities the shown span is chosen by) for these spans'
        features: the same array twice without :attr:`span_reading`, else the mean of the two models'."""
        plain = self.span.predict(matrix(x_rows, self.span.features))
        if self.span_reading is None:
            return plain, plain
        return plain, (plain + self.span_reading.predict(matrix(x_rows, self.span_reading.features))) / 2

    def short_rule(self, qtype: str) -> tuple[float, float]:
        """(threshold, ratio) of the short-answer rule for a question of answer type ``qtype``."""
        return self.short_rules.get(rule_group(qtype), (self.short_threshold, self.short_ratio))

    def check(
        self,
        sentence_features: Sequence[str],
        span_features: Sequence[str],
        confidence_features: Sequence[str],
        where: str = MODEL_FILE,
        reading_features: Sequence[str] = (),
    ) -> None:
        """Refuse a model fitted on other features than the code computes (``reading_features``: those of
        :attr:`span_reading`, when it has one)."""
        pairs = [
            ("sentence", self.sentence.features, sentence_features),
            ("span", self.span.features, span_features),
            ("confidence", self.confidence.features, confidence_features),
        ]
        if self.span_reading is not None:
            pairs.append(("span reading", self.span_reading.features, reading_features))
        for name, have, want in pairs:
            detail = mismatch(have, want)
            if detail:
                raise ModelError(
                    f"the answer model {where} does not fit this code ({name} features {detail}); "
                    f"rebuild it with: {REBUILD}"
                )
        if self.reads_commonness and self.background is None:
            raise ModelError(
                f"the answer model {where} weighs how common words are but has no word counts to read them "
                f"against; rebuild it with: {REBUILD} --commonness"
            )

    @property
    def reads_context(self) -> bool:
        """Whether its span model reads each span in its sentence (:func:`qa.reader.candidates.add_context`)."""
        return "ctx_none" in self.span.features

    @property
    def reads_untitled(self) -> bool:
        """Whether it was fitted with untitled articles (``qa train --untitled``): see :func:`qa.types.as_fitted`."""
        return bool(self.meta.get("untitled"))

    @property
    def reads_titles(self) -> bool:
        """Whether its candidates include the spans of the articles' titles (:func:`qa.reader.candidates.spans`)."""
        return "from_title" in self.span.features

    @property
    def reads_spans(self) -> bool:
        """Whether a span model of it reads the fine-tuned span reader's scores (:mod:`qa.reader.neural`)."""
        return "rd_prob" in self.span.features or self.span_reading is not None

    @property
    def reads_sentences(self) -> bool:
        """Whether its sentence model reads the span reader's score of each sentence (``qa train --sentence-reader``)."""
        return "rd_sent" in self.sentence.features

    @property
    def reads_commonness(self) -> bool:
        """Whether its span model weighs how common a span's words are (:func:`qa.reader.candidates.add_commonness`)."""
        return "common_min" in self.span.features

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "meta": dict(self.meta),
            "threshold": self.threshold,
            "short_threshold": self.short_threshold,
            "short_ratio": self.short_ratio,
            "sentence": self.sentence.to_lists(),
            "span": self.span.to_lists(),
            "confidence": self.confidence.to_lists(),
            "affinity": dict(self.affinity),
            "short_rules": {g: list(r) for g, r in self.short_rules.items()},
            **({"heads": self.heads.to_json()} if self.heads is not None else {}),
            **({"background": self.background.to_json()} if self.background is not None else {}),
            **({"span_reading": self.span_reading.to_lists()} if self.span_reading is not None else {}),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any], where: str = MODEL_FILE) -> AnswerModel:
        if d.get("format") != FORMAT:
            raise ModelError(
                f"the answer model {where} has format {d.get('format')!r}, not {FORMAT}; rebuild it with: {REBUILD}"
            )
        return cls(
            Trees.from_dict(d["sentence"]),
            Trees.from_dict(d["span"]),
            Trees.from_dict(d["confidence"]),
            float(d["threshold"]),
            float(d["short_threshold"]),
            float(d["short_ratio"]),
            d.get("meta", {}),
            {str(k): float(v) for k, v in d.get("affinity", {}).items()},
            {str(g): (float(t), float(r)) for g, (t, r) in d.get("short_rules", {}).items()},
            HeadWords.from_json(d["heads"]) if "heads" in d else None,
            _background(d["background"]) if "background" in d else None,
            Trees.from_dict(d["span_reading"]) if "span_reading" in d else None,
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), separators=(",", ":")) + "\n")


def _background(d: Mapping[str, Any]) -> Background:
    from ..retrieve import Background  # only a model that weighs how common words are has one

    return Background.from_json(d)


def load(path: str | Path | None = None) -> AnswerModel:
    """The answer model at ``path``, or the one shipped in the package."""
    try:
        if path is None:
            text = resources.files("qa.reader").joinpath(MODEL_FILE).read_text(encoding="utf-8")
            where = f"qa/reader/{MODEL_FILE}"
        else:
            text, where = Path(path).read_text(encoding="utf-8"), str(path)
    except FileNotFoundError:
        raise ModelError(f"no answer model at {path or MODEL_FILE}; build it with: {REBUILD}") from None
    try:
        data = json.loads(text)
        return AnswerModel.from_json(data, where)
    except (ValueError, KeyError, TypeError) as e:
        raise ModelError(f"the answer model {where} is damaged ({e}); rebuild it with: {REBUILD}") from None


@lru_cache(maxsize=1)
def shipped() -> AnswerModel:
    return load()
