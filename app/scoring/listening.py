"""Formative feedback on a written reply: which listening skills and roadblocks it shows.

A transparent, rule-based analyzer: each rule is a pattern applied to one sentence (or to the
sequence of questions), and every detection carries the phrase that triggered it, so a trainee
and a trainer can see why. It is feedback, never a certification decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from app.scoring.definitions import LISTENING_SKILLS, ROADBLOCKS

CATEGORIES = LISTENING_SKILLS + ROADBLOCKS


class Detection(NamedTuple):
    """One category found in a reply, with the words that triggered it and the rule's name."""

    category: str
    phrase: str
    rule: str


# Read-only by convention; not frozen because a frozen dataclass costs several times as much
# to build, and every free-text answer of every submission builds one.
@dataclass(slots=True)
class ListeningFeedback:
    """What the analyzer found in one reply, and a friendly message for the trainee."""

    detections: tuple[Detection, ...]
    message: str
    questions: int
    reflections: int
    labels: frozenset[str]  # the categories of the detections

    @property
    def skills_found(self) -> tuple[str, ...]:
        return _in_order(LISTENING_SKILLS, self.labels)

    @property
    def roadblocks_found(self) -> tuple[str, ...]:
        return _in_order(ROADBLOCKS, self.labels)

    def evidence(self, category: str) -> list[str]:
        """The phrases that triggered `category`, in the order they appear."""
        return [d.phrase for d in self.detections if d.category == category]


@lru_cache(maxsize=1024)
def _in_order(categories: tuple[str, ...], found: frozenset[str]) -> tuple[str, ...]:
    return tuple(c for c in categories if c in found)


# --- sentences -------------------------------------------------------------------------

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)  # a line break ends a sentence
_QUESTION_START = re.compile(
    r"^(?:(?:and|so|but|okay|ok|right|well|hmm|also),?\s+)*"
    r"(?:what|whats|how|why|when|where|who|which|do|does|did|are|is|was|were|have|has|had|"
    r"can|could|would|will|shall|should|don'?t|didn'?t|aren'?t|isn'?t|haven'?t|won'?t|wouldn'?t)\b"
)


# The first a-z word (see _words) of any sentence _QUESTION_START matches: most sentences
# start with another, and then the regex need not run.
_QUESTION_FIRST_WORDS = frozenset(
    b"and so but okay ok right well hmm also what whats how why when where who which do does "
    b"did are is was were have has had can could would will shall should don dont didn didnt "
    b"aren arent isn isnt haven havent won wont wouldn wouldnt".split()
)


def _sentences(text: str) -> list[str]:
    if "\u2019" in text or "\u2018" in text:
        text = text.replace("\u2019", "'").replace("\u2018", "'")
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip(" .!?")]


# --- rules -----------------------------------------------------------------------------
# (category, rule name, pattern, where): where is "statement", "question" or "any".

_FEELING = (
    r"(?:tired|exhausted|worn out|fed up|scared|frightened|afraid|worried|anxious|stuck|lost|"
    r"alone|lonely|hurt|angry|frustrated|upset|sad|ashamed|embarrassed|torn|overwhelmed|"
    r"unsettled|misunderstood|smothered|trapped|hopeless|discouraged|proud|relieved|nervous|"
    r"caught|judged|unheard|left out|the odd one out)"
)

_RULES: list[tuple[str, str, str, str]] = [
    # skills
    (
        "reflection",
        "sounds like / seems",
        r"\b(?:it |that |this |you |u )?(?:sounds|seems?)\b(?: (?:like|as if|as though|that|really|so|super|pretty|very|quite))?|\b(?:it|that|this|you) looks? (?:like|as if|really|so)\b",
        "any",
    ),
    (
        "reflection",
        "you feel / you seem",
        r"\b(?:you|u)(?<!how you)(?<!what you)(?<!made you)(?<!make you)(?:'re| are|'ve been| have been)? (?:really |also |still )?(?:feel|feeling|felt|seem|sound)(?:s|ing)?\b",
        "any",
    ),
    ("reflection", "it must be", r"\b(?:it |that |this )?must (?:be|feel|have been)\b", "any"),
    (
        "reflection",
        "you're + feeling word",
        r"\b(?:you|u)(?:'re|re| are|'ve been| have been)? (?:really |so |a bit |quite |pretty |feeling )?"
        + _FEELING,
        "statement",
    ),
    (
        "reflection",
        "what I'm hearing",
        r"\bI (?:can )?hear(?:d)? (?:how|that|you)\b|\bwhat I'?m hearing\b",
        "any",
    ),
    (
        "reflection",
        "you're saying / you want",
        r"\byou(?:'re| are) saying\b|\byou(?<!what you)(?:'d| would)? (?:really )?(?:want|wish|like) (?:to|them|her|him|help|people)\b|\b(?:that|it) makes (?:total |complete )?sense\b",
        "statement",
    ),
    ("reflection", "it's like", r"^(?:so,? )?its? like\b|^it'?s like\b", "statement"),
    (
        "reflection",
        "that's a lot",
        r"\bthat'?s (?:a lot\b(?! of)|really (?:tough|hard)|tough|hard|so hard|heavy|horrible)\b|\b(?:is|feels) (?:horrible|awful|painful|scary)\b",
        "statement",
    ),
    ("reflection", "so you", r"^so,? you(?:'ve|'re| have| are)?\b", "statement"),
    (
        "open-question",
        "what / how question",
        r"^(?:(?:and|so|but|okay|ok|right|also),?\s+)*(?:what|whats|how)\b(?! (?:time|day|often|many|much|long|dose)\b)",
        "question",
    ),
    (
        "open-question",
        "tell me more",
        r"\b(?:tell me|say)(?<!to tell me)(?<!to say) (?:a (?:bit|little) )?(?:more|about)\b",
        "any",
    ),
    (
        "open-question",
        "can you tell me / say more",
        r"\b(?:can|could|would) you (?:tell|say|describe|share|talk)\b|\bcan I ask (?:how|what)\b",
        "question",
    ),
    (
        "affirmation",
        "took courage",
        r"\b(?:it |that )?(?:took|takes) (?:a lot of |real |some )?(?:courage|guts|strength|a lot)\b|\b(?:really |so )?(?:brave|courageous) of you\b",
        "any",
    ),
    (
        "affirmation",
        "that shows / says a lot",
        r"\bthat (?:shows|says a lot|tells me)\b|\bwhich (?:shows|says a lot|tells me)\b|\bsays a lot about\b|\b(?:is|that'?s) a real (?:strength|achievement)\b|\ba real achievement\b",
        "statement",
    ),
    (
        "affirmation",
        "you've kept going",
        r"\byou(?:'ve| have)? (?:kept|managed|still made|made it|noticed|thought a lot|shown|showed|reached out|been getting)\b|\byou still made it\b",
        "statement",
    ),
    (
        "affirmation",
        "thank you for telling me",
        r"\bthank(?:s| you) for (?:telling|sharing|trusting|being)\b|\bI (?:really )?appreciate you\b",
        "any",
    ),
    (
        "summary",
        "summary marker",
        r"\blet me (?:see if|check|make sure)\b|\bjust to check\b|\bso far you'?ve\b|\byou'?ve (?:told me|mentioned|talked) about\b|\bto sum up\b|\bon one hand\b|\bwe'?ve talked about\b",
        "any",
    ),
    # roadblocks
    (
        "advising",
        "you should / need to",
        r"\byou (?:should|must(?! be\b| have been\b| feel)|need to|have to|ought to|'d better|had better)\b(?! have\b)|\b(?:kindly|just) (?:take|set|go|do|try|keep|call|ignore|stop|get|put|make)\b",
        "any",
    ),
    (
        "advising",
        "why don't you / have you tried",
        r"\bwhy don'?t you\b|\bwhy not\b|\bhave you (?:tried|thought about|considered)\b(?! (?:the things|what)\b)",
        "any",
    ),
    (
        "advising",
        "I suggest / recommend",
        r"\bI(?:'d| would)? (?:suggest|recommend|advise)\b|\bmy advice\b|\bif I were you\b|\bmaybe (?:you should|try)\b|(?:^|[,;] ?|\b(?:just|maybe|could|please|and) )try (?:to|and|\w+ing|some)\b|\bmake sure you\b|\bbest thing\b|\bwhat (?:got|helped) me (?:through|out)\b|\bwhat worked for me\b",
        "any",
    ),
    (
        "minimising",
        "don't worry",
        r"\bdon'?t (?:worry|stress|be (?:sad|upset|silly|so))\b|\bno need to (?:worry|dwell)\b|\bcheer up\b|\bchin up\b|\bjust chill\b",
        "any",
    ),
    (
        "minimising",
        "it's not that bad",
        r"\bnot (?:that|so) bad\b|\bno(?:t a)? big deal\b|\bit'?s just\b|\bwill just\b|\bcould be worse\b|\bbright side\b|\bat least\b|\bit'?s (?:nothing|normal)\b",
        "any",
    ),
    (
        "minimising",
        "everyone feels that",
        r"\b(?:every(?:one|body)|so many people|lots of people)\b (?:feels|gets|goes|has|is|are|hears)|\bhappens to everyone\b|\bvery common\b",
        "any",
    ),
    (
        "minimising",
        "it'll be fine",
        r"\b(?:it|things|you)(?:'ll| will)? (?:be fine|get better|settle|pass|find another)\b|\bI'?m sure (?:it|he|she|they|you|nobody|no one)\b|\b(?:doesn'?t|don'?t) mean it\b",
        "any",
    ),
    (
        "judging",
        "you're overreacting",
        r"\bover[- ]?(?:reacting|thinking|react)\b|\bparanoid\b|\bbeing (?:a bit |so |too )?(?:negative|dramatic|lazy|silly|selfish|sensitive)\b",
        "any",
    ),
    (
        "judging",
        "your fault / you shouldn't have",
        r"\byour (?:own )?fault\b|\byou should(?:n'?t)? have\b|\bnot trying (?:hard )?enough\b|\bbrought (?:this|it) on\b|\battention[- ]seeking\b|\bwhat were you thinking\b|\bnot fair (?:on|to)\b|\bhave a point\b|\b(?:they|he|she|mum|mom|family|doctor)\w* (?:is|are|'s|'re) (?:probably |actually )?right\b|\bbe (?:a bit )?more (?:patient|positive|grateful|careful|sensible|responsible)\b",
        "any",
    ),
    (
        "judging",
        "correcting the experience",
        r"\b(?:aren'?t|isn'?t|not) real\b|\bjust your (?:illness|imagination|mind)\b|\b(?:that'?s|it'?s|how) (?:silly|stupid|ridiculous|selfish|lazy|wrong)\b",
        "any",
    ),
    (
        "interrogating",
        "why question",
        r"^(?:(?:and|so|but|well),?\s+)*why (?:do|did|didn'?t|don'?t|can'?t|haven'?t|would|was|were|are|aren'?t|is|won'?t)\b",
        "question",
    ),
    (
        "interrogating",
        "checking-up question",
        r"\b(?:are|were|have) you (?:taking|taken|been taking|still|turning|even)\b|\bdid you (?:use|take|drink|tell them)\b|\bwere you\b",
        "question",
    ),
    (
        "self-focus",
        "when I / me too",
        r"\bwhen I (?:was|had|lost|went|got|felt|stopped)\b|\bI (?:used to|went through|had the same|felt the same|also had)\b|\b(?:happened|same) to me\b|\bme too\b|\bthat reminds me\b|\bin my (?:case|experience)\b|\bI know exactly how\b|\bthat'?s what I do\b|\bmy (?:mum|mom|mother|family|dad|father) (?:used to|did)\b|\bI (?:had|was) (?:sectioned|hospitali[sz]ed|in hospital)\b",
        "any",
    ),
]

# Words every match of a rule contains (at least one of them): the words of a reply are
# collected once and a rule's regex runs only if one of its words is there, because `re`
# tries every branch of a \b-led alternation at every position. A test checks that this
# never hides a match.
_ANCHORS: dict[str, str] = {
    "sounds like / seems": "sound sounds seem seems look looks",
    "you feel / you seem": "feel feels feeling felt seem seems seeming sound sounds sounding",
    "it must be": "must",
    "you're + feeling word": " ".join(w.split()[0] for w in _FEELING.strip("(?:)").split("|")),
    "what I'm hearing": "hear heard hearing",
    "you're saying / you want": "saying want wish like sense",
    "it's like": "like",
    "that's a lot": "lot tough hard heavy horrible awful painful scary",
    "so you": "so",
    "what / how question": "what whats how",
    "tell me more": "tell say",
    "can you tell me / say more": "tell say describe share talk ask",
    "took courage": "took takes brave courageous",
    "that shows / says a lot": "shows says tells real",
    "you've kept going": "kept managed made noticed thought shown showed reached getting",
    "thank you for telling me": "thank thanks appreciate",
    "summary marker": "let check far told mentioned talked sum hand",
    "you should / need to": "should must need have ought better kindly just",
    "why don't you / have you tried": "why tried thought considered",
    "I suggest / recommend": "suggest recommend advise advice were maybe try sure best got "
    "helped worked",
    "don't worry": "don dont need cheer chin chill",
    "it's not that bad": "bad deal just worse bright least nothing normal",
    "everyone feels that": "everyone everybody people happens common",
    "it'll be fine": "fine better settle pass find sure mean",
    "you're overreacting": "over overreacting overthinking overreact paranoid being",
    "your fault / you shouldn't have": "fault should shouldn shouldnt trying brought attention "
    "thinking fair point right patient positive grateful careful sensible responsible",
    "correcting the experience": "real just silly stupid ridiculous selfish lazy wrong",
    "why question": "why",
    "checking-up question": "taking taken still turning even use take drink tell were",
    "when I / me too": "when used went same also happened too reminds case experience exactly do "
    "mum mom mother family dad father sectioned hospitalised hospitalized hospital",
}
# The words of a lower-cased sentence are its runs of a-z: every other byte of its UTF-8 form
# becomes a space and bytes.split does the rest, several times faster than a regex findall.
_LETTERS = bytes(c if 97 <= c <= 122 else 32 for c in range(256))


def _words(lower: str) -> list[bytes]:
    """The a-z words of a lower-cased sentence (a lone surrogate counts as a separator)."""
    return lower.encode("utf-8", "replace").translate(_LETTERS).split()


def _top_level_alternatives(pattern: str) -> list[str]:
    """The pattern split at each `|` outside groups and character classes."""
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 1
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    return [*parts, pattern[start:]]


def _factor_boundaries(pattern: str) -> str:
    r"""`\bA|\bB|C` as `\b(?:A|B)|C`: the same matches, in the same order of preference.

    `re` has no fast scan for a pattern that starts with `\b`, so it tries every alternative
    at every position of the sentence; with the boundary checked once, an alternative whose
    first letter does not fit is skipped at once (several times faster on a long rule).
    """
    groups: list[list[str]] = []
    for alternative in _top_level_alternatives(pattern):
        led = alternative.startswith(r"\b")
        if led and groups and groups[-1][0].startswith(r"\b"):
            groups[-1].append(alternative)
        else:
            groups.append([alternative])
    return "|".join(
        rf"\b(?:{'|'.join(a[2:] for a in group)})" if len(group) > 1 else group[0]
        for group in groups
    )


_COMPILED = [
    (
        category,
        name,
        re.compile(_factor_boundaries(pattern.lower())),
        where,
        frozenset(_ANCHORS[name].encode().split()),
    )
    for category, name, pattern, where in _RULES
]

# Rule sets as bit masks (bit i is rule i of _COMPILED): a sentence's candidate rules are the
# union of its anchor words' masks, narrowed to the rules that apply to its kind of sentence
# and to categories not found yet, then run lowest bit first, which is table order.


def _mask(indices: Iterable[int]) -> int:
    return sum(1 << i for i in set(indices))


_RULES_BY_WORD: dict[bytes, int] = {}
for _index, _rule in enumerate(_COMPILED):
    for _word in _rule[4]:
        _RULES_BY_WORD[_word] = _RULES_BY_WORD.get(_word, 0) | 1 << _index
_RULES_OF: dict[str, int] = {
    c: _mask(i for i, rule in enumerate(_COMPILED) if rule[0] == c) for c in CATEGORIES
}
# A statement runs "any" and "statement" rules, a sentence that starts like a question runs
# "any" and "question" rules, and one that only ends with "?" runs them all.
_STATEMENT_RULES = _mask(i for i, rule in enumerate(_COMPILED) if rule[3] != "question")
_QUESTION_RULES = _mask(i for i, rule in enumerate(_COMPILED) if rule[3] != "statement")
_ALL_RULES = _STATEMENT_RULES | _QUESTION_RULES

_CHECK = re.compile(
    r"\b(?:have i (?:got|understood)|did i (?:get|miss)|is that (?:right|close|about right)|"
    r"anything i'?ve missed|am i right)\b"
)
# The check that ends a summary has anchor words too, as the bit after the rules'.
_CHECK_WORDS = frozenset(b"got understood get miss missed right close".split())
_CHECK_BIT = 1 << len(_COMPILED)
for _word in _CHECK_WORDS:
    _RULES_BY_WORD[_word] = _RULES_BY_WORD.get(_word, 0) | _CHECK_BIT
_ANCHOR_WORDS = frozenset(_RULES_BY_WORD)
_new_detection = tuple.__new__  # skips Detection's Python-level __new__

# A sentence of ASCII characters only (nearly every one) is searched with the rules compiled
# with re.ASCII: on ASCII text \b and \w mean the same either way, but `re` then tells word
# characters by a table instead of Unicode look-ups, about a fifth of the analyzer's time.
# Patterns with \s keep Unicode mode, which also counts \x1c-\x1f as spaces.


def _ascii(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return pattern if "\\s" in pattern.pattern else re.compile(pattern.pattern, re.ASCII)


_UNICODE_RULES = [(category, name, pattern) for category, name, pattern, _, _ in _COMPILED]
_ASCII_RULES = [(category, name, _ascii(pattern)) for category, name, pattern in _UNICODE_RULES]
_ASCII_CHECK = _ascii(_CHECK)
_OPEN = re.compile(next(p for c, _, p, w in _RULES if c == "open-question" and w == "question"))


def analyse_listening(text: str) -> ListeningFeedback:
    """Find listening skills and roadblocks in a written reply, each with its trigger phrase."""
    detections: list[Detection] = []
    seen: set[str] = set()
    sentences = _sentences(text)
    has_list = text.count(",") >= 2 or ", and " in text or ":" in text
    questions = 0
    closed = 0
    reflections = 0
    asked: list[str] = []
    # Rules of categories already found are not run again; reflection rules are, because
    # reflections are counted per sentence.
    done = 0
    for sentence in sentences:
        lower = sentence.lower()
        # Lowercasing keeps offsets for nearly all text; if not, quote the lowercased words.
        source = sentence if len(lower) == len(sentence) else lower
        is_ascii = lower.isascii()
        table = _ASCII_RULES if is_ascii else _UNICODE_RULES
        words = _words(lower)
        if words and words[0] in _QUESTION_FIRST_WORDS and _QUESTION_START.match(lower):
            is_question, rules = True, _QUESTION_RULES
        elif sentence.endswith("?"):
            is_question, rules = True, _ALL_RULES
        else:
            is_question, rules = False, _STATEMENT_RULES
        present = 0
        for word in _ANCHOR_WORDS.intersection(words):
            present |= _RULES_BY_WORD[word]
        candidates = present & rules & ~done
        reflected = False
        while candidates:
            bit = candidates & -candidates
            candidates ^= bit
            category, name, pattern = table[bit.bit_length() - 1]
            match = pattern.search(lower)
            if match is None:
                continue
            candidates &= ~_RULES_OF[category]
            if category == "reflection":
                reflected = True
                if category in seen:
                    continue
            else:
                done |= _RULES_OF[category]
            seen.add(category)
            phrase = (source[match.start() : match.end()] or sentence).strip()
            detections.append(_new_detection(Detection, (category, phrase, name)))
        if is_question:
            questions += 1
            asked.append(sentence)
            if not _OPEN.match(lower):
                closed += 1
        reflections += reflected
        if has_list and present & _CHECK_BIT and "summary" not in seen:
            check = (_ASCII_CHECK if is_ascii else _CHECK).search(lower)
            if check:
                seen.add("summary")
                done |= _RULES_OF["summary"]
                phrase = source[check.start() : check.end()].strip()
                detections.append(Detection("summary", phrase, "gathers several things and checks"))
    if "summary" in seen and "reflection" not in seen:
        # A summary is a collection of reflections (Miller and Rollnick).
        summary = next(d for d in detections if d.category == "summary")
        detections.append(Detection("reflection", summary.phrase, "a summary reflects"))
        seen.add("reflection")
    if (questions >= 3 or closed >= 2) and "interrogating" not in seen:
        detections.append(
            Detection("interrogating", " ".join(asked)[:120].strip(), "a string of questions")
        )
        seen.add("interrogating")
    message = _message(detections, questions, reflections)
    # seen holds the category of every detection.
    return ListeningFeedback(tuple(detections), message, questions, reflections, frozenset(seen))


_SKILL_NAMES = {
    "open-question": "an open question",
    "reflection": "a reflection",
    "affirmation": "an affirmation",
    "summary": "a summary",
}
_ROADBLOCK_TIPS = {
    "advising": "giving advice before the person has asked for it",
    "minimising": "reassuring the feeling away",
    "judging": "judging or correcting the person",
    "interrogating": "asking a string of questions",
    "self-focus": "turning the focus to your own story",
}


def _message(detections: Sequence[Detection], questions: int, reflections: int) -> str:
    skills: list[str] = []
    roadblocks: list[str] = []
    for d in detections:
        if d.category in _SKILL_NAMES:
            skills.append(f'{_SKILL_NAMES[d.category]} ("{d.phrase}")')
        else:
            roadblocks.append(f'{_ROADBLOCK_TIPS[d.category]} ("{d.phrase}")')
    parts: list[str] = []
    if skills:
        parts.append(f"Good listening: you used {'; '.join(skills)}.")
    else:
        parts.append(
            "We did not spot an open question, reflection, affirmation or summary. "
            'Try saying back what you heard, for example "It sounds like…".'
        )
    if roadblocks:
        parts.append(f"Watch out for {'; '.join(roadblocks)}.")
    elif skills:
        parts.append("No roadblocks spotted.")
    if questions > reflections and questions >= 2:
        parts.append("You asked more than you reflected; try one reflection for each question.")
    parts.append("This is automatic feedback to help you practise; your trainer may add to it.")
    return " ".join(parts)


# --- measuring the analyzer --------------------------------------------------------------


@dataclass(frozen=True)
class LabelledExample:
    id: str
    text: str
    labels: frozenset[str]
    split: str


@dataclass(frozen=True)
class CategoryReport:
    category: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def support(self) -> int:
        return self.true_positives + self.false_negatives

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.support if self.support else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class ListeningReport:
    categories: tuple[CategoryReport, ...]
    examples: int

    @property
    def macro_f1(self) -> float:
        return sum(c.f1 for c in self.categories) / len(self.categories)

    def table(self) -> str:
        """A plain-text precision/recall table."""
        lines = [f"{'category':<15} {'precision':>9} {'recall':>7} {'F1':>5} {'support':>8}"]
        for c in self.categories:
            lines.append(
                f"{c.category:<15} {c.precision:>9.2f} {c.recall:>7.2f} {c.f1:>5.2f} {c.support:>8}"
            )
        lines.append(f"{'macro-F1':<15} {'':>9} {'':>7} {self.macro_f1:>5.2f} {self.examples:>8}")
        return "\n".join(lines)


def parse_labelled_examples(data: Mapping[str, object]) -> list[LabelledExample]:
    """The labelled set as loaded from tests/data/listening-labelled.yaml."""
    examples = data.get("examples")
    if not isinstance(examples, list):
        raise ValueError("the labelled set needs a list called examples")
    result = []
    for raw in examples:
        labels = frozenset(raw.get("labels") or ())
        unknown = labels - set(CATEGORIES)
        if unknown:
            raise ValueError(f"example {raw.get('id')}: unknown label(s) {sorted(unknown)}")
        if raw.get("split") not in ("dev", "held-out"):
            raise ValueError(f"example {raw.get('id')}: split must be dev or held-out")
        result.append(LabelledExample(str(raw["id"]), str(raw["text"]), labels, raw["split"]))
    return result


def listening_report(examples: Iterable[LabelledExample]) -> ListeningReport:
    """Per-category precision, recall and F1 of the analyzer on labelled examples."""
    counts = {c: [0, 0, 0] for c in CATEGORIES}
    n = 0
    for example in examples:
        n += 1
        found = analyse_listening(example.text).labels
        for c in CATEGORIES:
            if c in found and c in example.labels:
                counts[c][0] += 1
            elif c in found:
                counts[c][1] += 1
            elif c in example.labels:
                counts[c][2] += 1
    return ListeningReport(tuple(CategoryReport(c, *counts[c]) for c in CATEGORIES), n)
